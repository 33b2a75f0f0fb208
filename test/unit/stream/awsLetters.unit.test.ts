import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { invocationRecord } from '../../../stream/consumer/invocationRecord.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import {
  type LetterQueue,
  letterOfBucketObject,
  letterOfQueueMessage,
} from '../../../stream/redrive/awsLetters.js';
import { busEvent } from '../../support/busEvents.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { matchRecorded, registry, teamRegistered } from '../../support/registry.js';

const codec = new CommitCodec(registry);
const [team] = codec.envelopes(
  codec.build('team:A', 0, [{ event_type: 'TeamRegistered', data: teamRegistered('A') }]),
);
if (!team) throw new Error('no envelope');
const event = busEvent(team);
const queue: LetterQueue = {
  url: 'https://sqs.us-east-1.amazonaws.com/123456789012/handler-dead-letters',
  consumer: 'bus:metadata-event-handler',
};
const sent = Date.parse('2026-12-01T10:00:00.000Z');

/** A message as ReceiveMessage returns it (all attributes asked for). */
function message(
  body: string,
  attributes: Record<string, string> = {},
  system: Record<string, string> = {},
): Message {
  return {
    MessageId: 'm-1',
    ReceiptHandle: 'r-1',
    Body: body,
    Attributes: { SentTimestamp: String(sent), ApproximateReceiveCount: '4', ...system },
    MessageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
    ),
  };
}

describe('letters of the deployed stack', () => {
  it('reads an event a rule could not deliver, with why from its dead-letter attributes', () => {
    // Act
    const { letter, unreadable } = letterOfQueueMessage(
      message(JSON.stringify(event), {
        ERROR_CODE: 'SDK_CLIENT_ERROR',
        ERROR_MESSAGE: 'Unable to invoke Lambda function',
        RETRY_ATTEMPTS: '185',
        TARGET_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:h',
      }),
      queue,
    );

    // Assess
    expect(unreadable).toBeUndefined();
    expect(letter).toMatchObject({
      consumer: 'bus:metadata-event-handler',
      kind: 'bus-event',
      failed_at: '2026-12-01T10:00:00.000Z',
      attempts: 186,
      error:
        'Unable to invoke Lambda function (SDK_CLIENT_ERROR delivering to arn:aws:lambda:us-east-1:123456789012:function:h)',
      events: [{ aggregate_id: 'team:A', sequence: 1 }],
      event: { id: team.event_id, source: 'matchstream.metadata' },
      copies: [{ place: 'dead-letter-queue', where: 'handler-dead-letters message m-1' }],
    });
    // The id is the message's, whatever its receipt handle on this read.
    const again = letterOfQueueMessage({ ...message('{}'), ReceiptHandle: 'r-2' }, queue);
    expect(again.letter.id).toBe(letter.id);
  });

  it("reads a Lambda on-failure record, its error, attempts and time the record's", () => {
    const { letter } = letterOfQueueMessage(
      message(
        JSON.stringify({
          version: '1.0',
          timestamp: '2026-12-01T11:00:00.000Z',
          requestContext: {
            requestId: 'r',
            functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:h:$LATEST',
            condition: 'RetriesExhausted',
            approximateInvokeCount: 3,
          },
          requestPayload: event,
          responseContext: {
            statusCode: 200,
            executedVersion: '$LATEST',
            functionError: 'Unhandled',
          },
          responsePayload: { errorMessage: 'boom', errorType: 'Error' },
        }),
      ),
      queue,
    );
    expect(letter).toMatchObject({
      failed_at: '2026-12-01T11:00:00.000Z',
      attempts: 3,
      error: 'boom (Error)',
      events: [{ aggregate_id: 'team:A', sequence: 1 }],
      event: { id: team.event_id },
    });
  });

  it("says what an inbox's redrive policy gave up after: its receive count, or the message's", () => {
    const moved = (system: Record<string, string>) =>
      letterOfQueueMessage(message(JSON.stringify(event), {}, system), queue, (arn) =>
        arn.endsWith(':inbox') ? 5 : undefined,
      ).letter;
    expect(
      moved({ DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:123456789012:inbox' }),
    ).toMatchObject({ error: 'gave up after 5 receives from inbox', attempts: 5 });
    // Unknown inbox: the count as received, less this read.
    expect(moved({})).toMatchObject({ error: 'gave up after 3 receives', attempts: 3 });
  });

  it('lists what cannot be read as a letter that says so, never redrivable', () => {
    const notJson = letterOfQueueMessage(message('{"detail":'), queue);
    const other = letterOfQueueMessage(message('{"hello":"world"}'), queue);
    const noEvent = letterOfQueueMessage(
      message(JSON.stringify({ ...event, detail: { note: 'no stored event' } })),
      queue,
    );
    expect(notJson.unreadable).toBe('the message body is not JSON');
    expect(notJson.letter).toMatchObject({
      events: [],
      unknown: 'the message body is not JSON',
      body: { body: '{"detail":' },
    });
    expect(other.unreadable).toMatch(/not an EventBridge event nor a failure record/);
    expect(noEvent.unreadable).toBeUndefined();
    expect(noEvent.letter.unknown).toBe('the bus event names no stored event');
  });

  it('gives a queue that is not redriven its reason on each letter', () => {
    const { letter } = letterOfQueueMessage(
      message(JSON.stringify({ ...event, source: 'aws.events', detail: {} })),
      { ...queue, consumer: 'saga-sweep', notRedriven: 'a scheduled invocation' },
    );
    expect(letter).toMatchObject({
      consumer: 'saga-sweep',
      events: [],
      unknown: 'a scheduled invocation',
    });
  });

  it("names an invocation record's consumer from its function; an object that is none, says so", () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    const record = invocationRecord({
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:stack-ReadModels-1A2B',
      condition: 'RetryAttemptsExhausted',
      invokeCount: 6,
      records: [
        kinesisRecordOf(
          codec.build('match:m', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('m') }]),
        ),
      ],
      at,
    });
    const consumerOf = (arn: string) => (arn.endsWith('ReadModels-1A2B') ? 'read-models' : '?');
    const object = letterOfBucketObject(
      'b',
      { key: 'aws/lambda/k', body: JSON.stringify(record) },
      consumerOf,
    );
    const junk = letterOfBucketObject(
      'b',
      { key: 'aws/lambda/u/s/2026/12/01/2026-12-01T10.03.00-x', body: 'truncated {' },
      consumerOf,
    );
    expect(object.letter).toMatchObject({
      consumer: 'read-models',
      kind: 'kinesis-records',
      attempts: 6,
      events: [{ aggregate_id: 'match:m', sequence: 1 }],
      copies: [{ place: 'failure-bucket', where: 's3://b/aws/lambda/k', handle: 'aws/lambda/k' }],
    });
    expect(junk.unreadable).toBe('not JSON');
    expect(junk.letter).toMatchObject({ failed_at: '2026-12-01T10:03:00.000Z', events: [] });
  });
});
