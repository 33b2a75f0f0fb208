import { EventBridgeClient, type PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { busEntryOf } from '../../../stream/buses/BusPublisher.js';
import { busNames } from '../../../stream/buses/domains.js';
import { EventBridgePublisher } from '../../../stream/buses/EventBridgePublisher.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';

/** A client whose PutEvents answers: every entry of detail type "Bad" fails, the rest succeed. */
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
        FailedEntryCount: entries.filter((e) => e.DetailType === 'Bad').length,
        Entries: entries.map((e, i) =>
          e.DetailType === 'Bad' ? { ErrorCode: code, ErrorMessage: 'no' } : { EventId: `id-${i}` },
        ),
      };
      return { output: { ...output, $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'cannedPutEvents' },
  );
  return { client, calls };
}

function event(type: string, n: number): EventEnvelope {
  return {
    event_id: `e${n}`,
    event_type: type,
    aggregate_id: `match:m${n}`,
    sequence: 1,
    timestamp: '2026-09-01T20:00:00.000Z',
    data: {},
    version: 1,
    correlation_id: 'c',
    causation_id: null,
  };
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
      event('Bad', 99),
    ].map((e) => busEntryOf(e));

    const result = await publisher.publish(entries);

    expect(result).toEqual({ published: 23, deadLettered: 1 });
    expect(Math.max(...calls)).toBeLessThanOrEqual(10);
    expect(calls.slice(-2)).toEqual([1, 1]); // the refused entry retried alone, up to 3 attempts
    expect(deadLetters.letters).toEqual([
      expect.objectContaining({
        consumer: 'publish:matchstream-test-main',
        error: 'ThrottlingException: no',
        event: expect.objectContaining({ DetailType: 'Bad', Source: 'matchstream.main' }),
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

    const result = await publisher.publish([busEntryOf(event('Bad', 1))]);

    expect(result).toEqual({ published: 0, deadLettered: 1 });
    expect(calls).toEqual([1]);
  });
});
