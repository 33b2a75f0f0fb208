import { describe, expect, it } from 'vitest';
import { DependencyUnavailable } from '../../../stream/breaker/DependencyUnavailable.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import {
  createKinesisHandler,
  type KinesisHandlerOptions,
} from '../../../stream/consumer/createKinesisHandler.js';
import type { KinesisStreamRecord } from '../../../stream/consumer/kinesisEvent.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { matchRecorded, registry } from '../../support/registry.js';

const codec = new CommitCodec(registry, () => new Date('2026-09-01T20:10:00.000Z'));

/** A batch of one-event commits, one per match, as Lambda hands it to the handler. */
function batch(...matchIds: string[]): { Records: KinesisStreamRecord[] } {
  return {
    Records: matchIds.map((id) =>
      kinesisRecordOf(
        codec.build(`match:${id}`, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id) }]),
      ),
    ),
  };
}

/** A breaker refusal with its trial `inMs` from now. */
const refusal = (inMs: number) =>
  new DependencyUnavailable('read-models/read-model-tables', Date.now() + inMs, 'throttled');

/** The shapes in which a refusal reaches the handler: alone, as a cause, every part of a whole. */
const SHAPES: [string, (inMs: number) => Error][] = [
  ['thrown as it is', refusal],
  [
    'the cause of the error of the layer that called',
    (inMs) => new Error('writing the matches failed', { cause: refusal(inMs) }),
  ],
  [
    'every part of an AggregateError',
    (inMs) => new AggregateError([refusal(inMs), refusal(inMs)], 'both tables refused'),
  ],
];

/**
 * A consumer whose effect's dependency refuses its first `refusals` calls with `error`; what
 * it applied (each match once), and the holds it reported.
 */
function consumer(
  refusals: number,
  error: () => Error,
  options: Pick<KinesisHandlerOptions, 'holdWithinMs'> = {},
) {
  const applied: string[] = [];
  const held: [string, DependencyUnavailable][] = [];
  let calls = 0;
  const handler = createKinesisHandler({
    consumer: 'read-models',
    codec,
    sequencer: new AggregateSequencer({
      consumer: 'read-models',
      store: new InMemoryEventStore(registry),
      positions: new InMemoryPositionStore(),
      apply: async (events) => {
        if (++calls <= refusals) throw error();
        applied.push(...events.map((e) => e.aggregate_id));
      },
    }),
    onHeld: (record, h) => held.push([record.kinesis.sequenceNumber, h]),
    ...options,
  });
  return { handler, applied, held, calls: () => calls };
}

describe('a Kinesis handler whose effect is held by an open breaker', () => {
  it.each(SHAPES)(
    'waits for a trial within holdWithinMs and applies the batch in the same invocation (%s)',
    async (_, shape) => {
      // Prepare: two refusals, each promising a trial in 20 ms; the invocation has 10 s.
      const { handler, applied, held, calls } = consumer(2, () => shape(20), {
        holdWithinMs: () => 10_000,
      });

      // Act
      const result = await handler(batch('a', 'b', 'c'));

      // Assess: applied after the two waits, nothing reported, no hold told.
      expect(result).toEqual({ batchItemFailures: [] });
      expect(calls()).toBe(3);
      expect(applied).toEqual(['match:a', 'match:b', 'match:c']);
      expect(held).toEqual([]);
    },
  );

  it.each(SHAPES)(
    'reports the first record held when the trial is beyond holdWithinMs, applying nothing (%s)',
    async (_, shape) => {
      // Prepare: the trial a minute away, the invocation 50 ms left to wait.
      const { handler, applied, held, calls } = consumer(1, () => shape(60_000), {
        holdWithinMs: () => 50,
      });
      const records = batch('a', 'b', 'c');
      const first = records.Records[0]?.kinesis.sequenceNumber;

      // Act
      const result = await handler(records);

      // Assess: the whole batch stays in the stream, checkpointed before its first record.
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: first }] });
      expect(calls()).toBe(1);
      expect(applied).toEqual([]);
      expect(held).toHaveLength(1);
      expect(held[0]?.[0]).toBe(first);
      expect(held[0]?.[1]).toBeInstanceOf(DependencyUnavailable);
      expect(held[0]?.[1].breaker).toBe('read-models/read-model-tables');
    },
  );

  it('reports the hold at once without holdWithinMs, however near the trial, and applies the batch when the mapping retries it', async () => {
    // Prepare
    const { handler, applied, held, calls } = consumer(1, () => refusal(20));
    const records = batch('a', 'b');
    const first = records.Records[0]?.kinesis.sequenceNumber;

    // Act: the invocation, then the mapping's retry of the same batch.
    const heldBack = await handler(records);
    const retried = await handler(records);

    // Assess
    expect(heldBack).toEqual({ batchItemFailures: [{ itemIdentifier: first }] });
    expect(held.map(([record]) => record)).toEqual([first]);
    expect(retried).toEqual({ batchItemFailures: [] });
    expect(calls()).toBe(2);
    expect(applied).toEqual(['match:a', 'match:b']);
  });

  it('throws a failure that is not a hold (an AggregateError with one part not held), for the mapping to bisect', async () => {
    // Prepare
    const { handler, applied, held } = consumer(
      1,
      () => new AggregateError([refusal(20), new Error('ValidationException')], 'one refused'),
      { holdWithinMs: () => 10_000 },
    );

    // Act
    const handled = handler(batch('a'));

    // Assess
    await expect(handled).rejects.toThrow('one refused');
    expect(applied).toEqual([]);
    expect(held).toEqual([]);
  });
});
