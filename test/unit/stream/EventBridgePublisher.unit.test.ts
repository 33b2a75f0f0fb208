import { EventBridgeClient, type PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import type { EventType } from '../../../schemas/events.js';
import { busEntryOf } from '../../../stream/buses/BusPublisher.js';
import { busNames } from '../../../stream/buses/domains.js';
import { EventBridgePublisher } from '../../../stream/buses/EventBridgePublisher.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { sampleEnvelope } from '../../support/envelopes.js';

/** The event type whose entries the canned EventBridge refuses (one of the `main` bus). */
const REFUSED = 'SagaCompensated';

/** A client whose PutEvents answers: every entry of detail type `REFUSED` fails, the rest succeed. */
function clientFailing(code: string) {
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const calls: number[] = [];
  client.middlewareStack.add(
    () => async (args) => {
      const entries = (args.input as { Entries: { DetailType: string }[] }).Entries;
      calls.push(entries.length);
      const output: PutEventsResponse = {
        FailedEntryCount: entries.filter((e) => e.DetailType === REFUSED).length,
        Entries: entries.map((e, i) =>
          e.DetailType === REFUSED
            ? { ErrorCode: code, ErrorMessage: 'no' }
            : { EventId: `id-${i}` },
        ),
      };
      return { output: { ...output, $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'cannedPutEvents' },
  );
  return { client, calls };
}

function event(type: EventType, n: number): EventEnvelope {
  return sampleEnvelope(type, `match:m${n}`, 1, `e${n}`);
}

describe('EventBridgePublisher', () => {
  it('publishes in calls of at most 10 and dead-letters what EventBridge keeps refusing, with the code', async () => {
    const { client, calls } = clientFailing('ThrottlingException');
    const deadLetters = new InMemoryDeadLetterQueue();
    const publisher = new EventBridgePublisher({
      client,
      buses: busNames('test'),
      deadLetters,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const entries = [
      ...Array.from({ length: 23 }, (_, i) => event('MatchRecorded', i)),
      event(REFUSED, 99),
    ].map((e) => busEntryOf(e));

    const result = await publisher.publish(entries);

    expect(result).toEqual({ published: 23, deadLettered: 1 });
    expect(Math.max(...calls)).toBeLessThanOrEqual(10);
    expect(calls.slice(-2)).toEqual([1, 1]); // the refused entry retried alone, up to 3 attempts
    expect(deadLetters.letters).toEqual([
      expect.objectContaining({
        consumer: 'publish:matchstream-test-main',
        error: 'ThrottlingException: no',
        event: expect.objectContaining({ DetailType: REFUSED, Source: 'matchstream.main' }),
      }),
    ]);
  });

  it('does not retry an entry EventBridge refuses for good', async () => {
    const { client, calls } = clientFailing('MalformedDetail');
    const deadLetters = new InMemoryDeadLetterQueue();
    const publisher = new EventBridgePublisher({
      client,
      buses: busNames(),
      deadLetters,
      retry: { maxAttempts: 5, baseDelayMs: 1 },
    });

    const result = await publisher.publish([busEntryOf(event(REFUSED, 1))]);

    expect(result).toEqual({ published: 0, deadLettered: 1 });
    expect(calls).toEqual([1]);
  });
});
