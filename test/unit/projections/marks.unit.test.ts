import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DocumentStore, InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import type {
  DocKey,
  EntryChanges,
  Projection,
  StoredDoc,
} from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import {
  eventCounts,
  pipelineStatsProjection,
} from '../../../projections/readModels/pipelineStats.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { envelope, result } from '../../support/envelopes.js';
import { historyArb } from '../../support/histories.js';
import { teamRegistered } from '../../support/registry.js';

/** A store that records each write call (its keys and marks) and each query (whole or in pages). */
class RecordingStore implements DocumentStore {
  readonly writes: { keys: string[]; marks: (string | undefined)[] }[] = [];
  readonly queries: string[] = [];
  constructor(readonly disk = new InMemoryDocumentStore()) {}
  getMany(keys: readonly DocKey[]) {
    return this.disk.getMany(keys);
  }
  query(pk: string) {
    this.queries.push(pk);
    return this.disk.query(pk);
  }
  queryPages(pk: string) {
    this.queries.push(pk);
    return this.disk.queryPages(pk);
  }
  async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]) {
    this.writes.push({ keys: puts.map((p) => `${p.pk}/${p.sk}`), marks: puts.map((p) => p.mark) });
    await this.disk.write(puts, deletes);
  }
  update(changes: readonly EntryChanges[]) {
    return this.disk.update(changes);
  }
}

const at = (day: number) => `2026-09-${String(day).padStart(2, '0')}T20:00:00.000Z`;

describe('marks', () => {
  it('are written after every other document of a batch, new at each write, a repeated batch too', async () => {
    const store = new RecordingStore();
    const projector = new Projector(pipelineStatsProjection, store);
    const batch = [result('m1', 'A 1-0 B'), result('m2', 'C 2-2 D')];

    await projector.apply(batch);
    await projector.apply(batch);

    // The counts first (read, so guards: written last of the documents), then the day's mark;
    // the repeat changes no count and writes the mark again, with a new value.
    const [counts, first, again] = store.writes;
    expect(counts?.keys).toEqual(['day#2026-09-01/match:m1', 'day#2026-09-01/match:m2']);
    expect(counts?.marks).toEqual([undefined, undefined]);
    expect(first?.keys).toEqual(['days/2026-09-01']);
    expect(again?.keys).toEqual(['days/2026-09-01']);
    expect(store.writes).toHaveLength(3);
    expect(first?.marks[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(again?.marks[0]).not.toBe(first?.marks[0]);
    const [day] = await store.disk.query('days');
    expect(day).toMatchObject({ doc: { day: '2026-09-01' }, mark: again?.marks[0] });
  });

  it('are refused on a key the projection also reads or writes', async () => {
    const selfMarking: Projection = {
      name: 'self-marking',
      version: 1,
      eventTypes: '*',
      reads: () => [{ pk: 'x', sk: 'x' }],
      evolve: () => ({ marks: [{ pk: 'x', sk: 'x', doc: {} }] }),
    };
    await expect(
      new Projector(selfMarking, new InMemoryDocumentStore()).apply([result('m1', 'A 1-0 B')]),
    ).rejects.toThrow(
      'projection self-marking marked x/x, which it also reads or writes otherwise',
    );
  });
});

describe("the event counts a reader keeps by the days' marks", () => {
  it('sums a day again only once its mark has changed', async () => {
    const store = new RecordingStore();
    const projector = new Projector(pipelineStatsProjection, store);
    await projector.apply([
      result('m1', 'A 1-0 B'),
      envelope('TeamRegistered', 'team:A', 1, teamRegistered('A'), at(2)),
    ]);

    const first = await eventCounts(store);
    const again = await eventCounts(store);
    await projector.apply([envelope('TeamRegistered', 'team:B', 1, teamRegistered('B'), at(2))]);
    const after = await eventCounts(store);

    expect(first).toEqual({
      total: 2,
      by_type: { MatchRecorded: 1, TeamRegistered: 1 },
      by_day: { '2026-09-01': { MatchRecorded: 1 }, '2026-09-02': { TeamRegistered: 1 } },
    });
    expect(again).toEqual(first);
    expect(after.by_day).toEqual({
      '2026-09-01': { MatchRecorded: 1 },
      '2026-09-02': { TeamRegistered: 2 },
    });
    // days and both days; days only; days and the day written since.
    expect(store.queries).toEqual([
      'days',
      'day#2026-09-01',
      'day#2026-09-02',
      'days',
      'days',
      'day#2026-09-02',
    ]);
  });

  it("reads a few days at a time, each day's counts a page at a time", async () => {
    /** Hands each day's counts out in pages of one, counting the days read at once. */
    class PagedStore extends RecordingStore {
      wholeDays = 0;
      reading = 0;
      mostAtOnce = 0;
      override query(pk: string) {
        if (pk !== 'days') this.wholeDays++;
        return super.query(pk);
      }
      override async *queryPages(pk: string) {
        this.reading++;
        this.mostAtOnce = Math.max(this.mostAtOnce, this.reading);
        try {
          for await (const page of super.queryPages(pk))
            for (const doc of page) {
              await new Promise((resolve) => setImmediate(resolve));
              yield [doc];
            }
        } finally {
          this.reading--;
        }
      }
    }
    const store = new PagedStore();
    const days = Array.from({ length: 20 }, (_, i) => i + 1);
    await new Projector(pipelineStatsProjection, store).apply(
      days.flatMap((day) =>
        ['A', 'B', 'C'].map((team) =>
          envelope(
            'TeamRegistered',
            `team:${team}${day}`,
            1,
            teamRegistered(`${team}${day}`),
            at(day),
          ),
        ),
      ),
    );

    const counts = await eventCounts(store);

    expect(counts.total).toBe(60);
    expect(Object.keys(counts.by_day)).toEqual(days.map((d) => at(d).slice(0, 10)));
    expect(Object.values(counts.by_day)).toEqual(days.map(() => ({ TeamRegistered: 3 })));
    expect(store.wholeDays).toBe(0);
    expect(store.mostAtOnce).toBeGreaterThan(1);
    expect(store.mostAtOnce).toBeLessThanOrEqual(8);
  });

  it('are still written when a write fails after some of the counts landed, and the failure goes on', async () => {
    /** A store whose write fails once asked to, having landed the first document. */
    class FailingStore extends RecordingStore {
      failNext = false;
      override async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]) {
        if (!this.failNext) return super.write(puts, deletes);
        this.failNext = false;
        await super.write(puts.slice(0, 1), []);
        throw new Error('throttled');
      }
    }
    const store = new FailingStore();
    const projector = new Projector(pipelineStatsProjection, store);
    await projector.apply([result('m0', 'E 0-0 F')]);
    const before = await eventCounts(store);
    store.writes.length = 0;

    store.failNext = true;
    const failure = projector.apply([result('m1', 'A 1-0 B'), result('m2', 'C 2-2 D')]);

    await expect(failure).rejects.toThrow('throttled');
    expect(store.writes.map((w) => w.keys)).toEqual([
      ['day#2026-09-01/match:m1'],
      ['days/2026-09-01'],
    ]);
    // A reader that kept the day's sum under its earlier mark sums it again, with what landed.
    expect(before.total).toBe(1);
    expect((await eventCounts(store)).total).toBe(2);
  });

  it('end equal to counting afresh, with readers between every write of runs killed in the middle of one', async () => {
    class Killed extends Error {}
    /** A store whose process dies in one write call, a chosen few of its documents landed. */
    class DyingStore extends RecordingStore {
      private calls = 0;
      constructor(
        disk: InMemoryDocumentStore,
        private readonly dieAt: number,
        private readonly lands: readonly boolean[],
        private readonly reader: () => Promise<unknown>,
      ) {
        super(disk);
      }
      override async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]) {
        if (this.calls++ !== this.dieAt) {
          await this.disk.write(puts, deletes);
          await this.reader();
          return;
        }
        for (const [i, put] of puts.entries())
          if (this.lands[i % this.lands.length]) {
            await this.disk.write([put], []);
            await this.reader();
          }
        throw new Killed();
      }
    }
    // Events spread over days by stream, so that batches mark several days.
    const dated = (streams: readonly EventEnvelope[][]) =>
      streams.map((s, i) => s.map((e) => ({ ...e, timestamp: at(1 + (i % 3)) })));
    const deliveries = (streams: readonly EventEnvelope[][], size: number) => {
      const all = streams.flat();
      return Array.from({ length: Math.ceil(all.length / size) }, (_, i) =>
        all.slice(i * size, (i + 1) * size),
      );
    };

    await fc.assert(
      fc.asyncProperty(
        historyArb,
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 10 }),
            lands: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
            size: fc.integer({ min: 1, max: 5 }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        async (history, deaths) => {
          const streams = dated(history);
          const disk = new InMemoryDocumentStore();
          const positions = new InMemoryPositionStore();
          // The reader keeps its sums by the store it reads: the same one throughout.
          const reader = () => eventCounts(disk);
          const run = async (size: number, death?: (typeof deaths)[number]) => {
            const store = new DyingStore(
              disk,
              death?.at ?? Number.POSITIVE_INFINITY,
              death?.lands ?? [],
              reader,
            );
            const projector = new Projector(pipelineStatsProjection, store);
            const sequencer = new AggregateSequencer({
              consumer: 'pipeline-stats',
              // A stream's first event leaves no position: a later one alone reads it again.
              store: {
                read: async (id, options = {}) =>
                  (streams.find((st) => st[0]?.aggregate_id === id) ?? []).filter(
                    (e) =>
                      e.sequence >= (options.fromSequence ?? 1) &&
                      e.sequence <= (options.toSequence ?? Number.POSITIVE_INFINITY),
                  ),
              },
              positions,
              apply: (events) => projector.apply(events),
              skipFirstPositions: true,
            });
            try {
              for (const batch of deliveries(streams, size)) await sequencer.deliverAll([batch]);
            } catch (error) {
              if (!(error instanceof Killed)) throw error;
            }
          };
          for (const death of deaths) await run(death.size, death);
          await run(2);

          const fresh = new InMemoryDocumentStore();
          await fresh.write(
            (
              await Promise.all(
                ['days', ...['01', '02', '03'].map((d) => `day#2026-09-${d}`)].map((pk) =>
                  disk.query(pk),
                ),
              )
            ).flat(),
            [],
          );
          expect(await eventCounts(disk)).toEqual(await eventCounts(fresh));
          expect((await eventCounts(disk)).total).toBe(streams.flat().length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
