import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routedWithoutPosition } from '../../../stream/buses/busRouter.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { createKinesisHandler } from '../../../stream/consumer/createKinesisHandler.js';
import type { KinesisStreamRecord } from '../../../stream/consumer/kinesisEvent.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { matchRecorded, registry } from '../../support/registry.js';

/** A random history: per stream, the sizes of its commits (1–3 events each). */
const historyArb = fc.array(
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
  {
    minLength: 1,
    maxLength: 6,
  },
);

/** How the stream delivers it: copies, order, shards, batch sizes, failing applies. */
const deliveryArb = fc.record({
  seed: fc.integer(),
  duplicateEvery: fc.integer({ min: 2, max: 5 }),
  shards: fc.integer({ min: 1, max: 3 }),
  batchSize: fc.integer({ min: 1, max: 5 }),
  // 0: no failures; otherwise every n-th apply fails once (and succeeds when retried).
  failEvery: fc.constantFrom(0, 2, 3, 5, 7),
});

async function build(history: number[][]) {
  const store = new InMemoryEventStore(registry);
  const ids: string[] = [];
  for (const [s, commits] of history.entries()) {
    const id = `match:${s}`;
    ids.push(id);
    let version = 0;
    for (const size of commits) {
      const events = Array.from({ length: size }, (_, i) => ({
        event_type: 'MatchRecorded' as const,
        data: matchRecorded(`m${s}`, version + i, 0),
      }));
      version = (await store.append(id, version, events)).version;
    }
  }
  return { store, ids };
}

function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

type Delivery = typeof deliveryArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * Delivers a history as the stream would (copies, any order, several shards, batches, applies
 * that fail once) to a consumer whose effect logs each event it takes, per stream. A guarded
 * effect, as a read model's documents do, takes nothing at or below the last sequence it took.
 */
async function deliver(
  history: number[][],
  delivery: Delivery,
  options: {
    skipFirstPositions?: boolean | ((first: EventEnvelope) => boolean);
    guarded?: boolean;
  } = {},
) {
  // Prepare: the history in the store, and its commits as Kinesis records.
  const { store, ids } = await build(history);
  const commits = ids.flatMap((id) => [...store.commitsOf(id)]);
  let records: KinesisStreamRecord[] = commits.map((c) => kinesisRecordOf(c));
  // Duplicate some records, then deliver in a random order over several shards.
  records = records.flatMap((r, i) => (i % delivery.duplicateEvery === 0 ? [r, r] : [r]));
  records = shuffle(records, delivery.seed);
  const shards: KinesisStreamRecord[][] = Array.from({ length: delivery.shards }, () => []);
  records.forEach((r, i) => {
    shards[i % delivery.shards]?.push(r);
  });

  // The consumer's effect: events appended to a per-stream log; some calls fail once.
  const applied = new Map<string, string[]>();
  const taken = new Map<string, number>();
  const positions = new InMemoryPositionStore();
  let calls = 0;
  const sequencer = new AggregateSequencer({
    consumer: 'test',
    store,
    positions,
    ...(options.skipFirstPositions ? { skipFirstPositions: options.skipFirstPositions } : {}),
    apply: async (events: readonly EventEnvelope[]) => {
      calls++;
      if (delivery.failEvery > 0 && calls % delivery.failEvery === 0) throw new Error('transient');
      for (const e of events) {
        if (options.guarded && e.sequence <= (taken.get(e.aggregate_id) ?? 0)) continue;
        taken.set(e.aggregate_id, e.sequence);
        const log = applied.get(e.aggregate_id) ?? [];
        log.push(`${e.sequence}:${e.event_id}`);
        applied.set(e.aggregate_id, log);
      }
    },
  });
  const handler = createKinesisHandler({
    consumer: 'test',
    codec: new CommitCodec(registry),
    sequencer,
  });

  // Act: each shard in batches, interleaved; a failed batch is retried from the failed record.
  const cursors = shards.map(() => 0);
  let progress = true;
  while (progress) {
    progress = false;
    for (const [s, shard] of shards.entries()) {
      const from = cursors[s] ?? 0;
      if (from >= shard.length) continue;
      progress = true;
      const batch = shard.slice(from, from + delivery.batchSize);
      let stop = 0;
      try {
        const { batchItemFailures } = await handler({ Records: batch });
        const failed = batchItemFailures[0]?.itemIdentifier;
        stop =
          failed === undefined
            ? batch.length
            : batch.findIndex((r) => r.kinesis.sequenceNumber === failed);
      } catch {
        stop = 0; // the effect failed: the whole batch is retried
      }
      cursors[s] = from + stop;
    }
  }
  return { store, ids, applied, positions };
}

describe('exactly-once, in-order effects on an unordered, duplicating stream', () => {
  it('gives the same result as applying the history in order, for any delivery', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, deliveryArb, async (history, delivery) => {
        const { store, ids, applied } = await deliver(history, delivery);

        // Assess: every event of every stream, once, in sequence order.
        for (const id of ids) {
          const expected = (await store.read(id)).map((e) => `${e.sequence}:${e.event_id}`);
          expect(applied.get(id)).toEqual(expected);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same result to a guarded effect when first events leave no position, and stores none for a stream of one event', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, deliveryArb, async (history, delivery) => {
        const { store, ids, applied, positions } = await deliver(history, delivery, {
          skipFirstPositions: true,
          guarded: true,
        });

        const stored = await positions.positions(ids);
        for (const id of ids) {
          const events = await store.read(id);
          expect(applied.get(id)).toEqual(events.map((e) => `${e.sequence}:${e.event_id}`));
          // A stream of one event has no position; any other ends at its last.
          expect(stored.get(id)).toBe(events.length === 1 ? 0 : events.length);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("publishes every event, each after its stream's one before, as the bus router does without positions for first events", async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, deliveryArb, async (history, delivery) => {
        // Every stream here starts with a MatchRecorded: none keeps a position for it alone.
        const { store, ids, applied, positions } = await deliver(history, delivery, {
          skipFirstPositions: routedWithoutPosition,
        });

        const stored = await positions.positions(ids);
        for (const id of ids) {
          const events = (await store.read(id)).map((e) => `${e.sequence}:${e.event_id}`);
          const log = applied.get(id) ?? [];
          // Each event at least once, in order at its first time; again only the first event.
          expect([...new Set(log)]).toEqual(events);
          const seen = new Set<string>();
          for (const entry of log) {
            const sequence = Number(entry.split(':')[0]);
            if (seen.has(entry)) expect(sequence).toBe(1);
            if (sequence > 1) expect(seen.has(events[sequence - 2] as string)).toBe(true);
            seen.add(entry);
          }
          expect(stored.get(id)).toBe(events.length === 1 ? 0 : events.length);
        }
      }),
      { numRuns: 150 },
    );
  });
});
