import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { type DocumentStore, InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import type { DocKey, EntryChanges, StoredDoc } from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { historyArb } from '../../support/histories.js';

class Killed extends Error {}

/**
 * A document store in a process that dies during one write: of that write's documents, a
 * chosen few land (in any order, as parallel BatchWriteItem calls would), the rest never do,
 * and nothing more is written by this process.
 */
class DyingStore implements DocumentStore {
  private calls = 0;
  dead = false;

  constructor(
    private readonly disk: InMemoryDocumentStore,
    /** The write call (from 0) the process dies in; none if beyond the run. */
    private readonly dieAt: number,
    /** Which of that call's documents land, by position: one boolean per document. */
    private readonly lands: readonly boolean[],
  ) {}

  getMany(keys: readonly DocKey[]) {
    return this.disk.getMany(keys);
  }

  query(pk: string, range?: { prefix?: string; from?: string; to?: string }) {
    return this.disk.query(pk, range);
  }

  queryPages(pk: string, range?: { prefix?: string; from?: string; to?: string }) {
    return this.disk.queryPages(pk, range);
  }

  async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void> {
    if (this.dead) throw new Killed();
    if (this.calls++ !== this.dieAt) return this.disk.write(puts, deletes);
    this.dead = true;
    const writes = [
      ...puts.map((p) => () => this.disk.write([p], [])),
      ...deletes.map((d) => () => this.disk.write([], [d])),
    ];
    for (const [i, write] of writes.entries()) if (this.lands[i % this.lands.length]) await write();
    throw new Killed();
  }

  /** Dies the same way: each item's update is atomic, so an item lands whole or not at all. */
  async update(changes: readonly EntryChanges[]): Promise<void> {
    if (this.dead) throw new Killed();
    if (this.calls++ !== this.dieAt) return this.disk.update(changes);
    this.dead = true;
    for (const [i, change] of changes.entries())
      if (this.lands[i % this.lands.length]) await this.disk.update([change]);
    throw new Killed();
  }
}

/** The events as a stream delivers them: streams interleaved, each in order, in batches. */
function batches(streams: readonly EventEnvelope[][], size: number): EventEnvelope[][] {
  const queue = streams.map((s) => [...s]);
  const all: EventEnvelope[] = [];
  while (queue.some((s) => s.length > 0))
    for (const s of queue) {
      const next = s.shift();
      if (next) all.push(next);
    }
  const out: EventEnvelope[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

/** A consumer (positions advanced after each batch is applied) that may die in a write. */
async function run(
  projection: (typeof READ_MODELS)[number],
  disk: InMemoryDocumentStore,
  positions: InMemoryPositionStore,
  deliveries: EventEnvelope[][],
  death?: { at: number; lands: readonly boolean[] },
): Promise<boolean> {
  const store = new DyingStore(disk, death?.at ?? Number.POSITIVE_INFINITY, death?.lands ?? []);
  const projector = new Projector(projection, store);
  const sequencer = new AggregateSequencer({
    consumer: projection.name,
    store: {
      read: () => Promise.reject(new Error('delivered in order: no gap to fill')),
    },
    positions,
    apply: (events) => projector.apply(events),
  });
  try {
    for (const batch of deliveries) await sequencer.deliverAll([batch]);
    return true;
  } catch (error) {
    if (error instanceof Killed) return false;
    throw error;
  }
}

describe('read models across a process killed in the middle of a write', () => {
  it('end, once restarted and fed again, equal to a run that was never killed', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb,
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 12 }),
            lands: fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
            batchSize: fc.integer({ min: 1, max: 6 }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        async (streams, batchSize, deaths) => {
          for (const projection of READ_MODELS) {
            const expected = new InMemoryDocumentStore();
            await run(
              projection,
              expected,
              new InMemoryPositionStore(),
              batches(streams, batchSize),
            );

            const disk = new InMemoryDocumentStore();
            const positions = new InMemoryPositionStore();
            // Killed runs, each restarted from the beginning of the stream (the positions
            // drop what was applied), in batches of another size; then one run to the end.
            for (const death of deaths)
              await run(projection, disk, positions, batches(streams, death.batchSize), death);
            expect(await run(projection, disk, positions, batches(streams, batchSize))).toBe(true);

            expect({ [projection.name]: disk.all() }).toEqual({
              [projection.name]: expected.all(),
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
