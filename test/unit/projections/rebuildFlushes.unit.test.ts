import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { type DocumentStore, InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import type {
  DocKey,
  EntryChanges,
  Projection,
  StoredDoc,
} from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import { ReadModelTarget } from '../../../projections/ReadModelTarget.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { DeferredPositionStore } from '../../../stream/consumer/DeferredPositionStore.js';
import {
  InMemoryPositionStore,
  type PositionStore,
} from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import type { ScanKey, ScanPage } from '../../../stream/eventStore/DynamoEventStore.js';
import type { ReadAllOptions, ReadOptions } from '../../../stream/eventStore/EventStore.js';
import { InMemoryReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import {
  type ReplayCheckpoint,
  type ReplayCheckpoints,
  type ReplaySource,
  replay,
} from '../../../stream/replay/replay.js';
import { result } from '../../support/envelopes.js';
import { historyArb } from '../../support/histories.js';

class Killed extends Error {}

/** The store as a scan sees it: streams spread over segments, a stream's commits adjacent. */
class ScannedStore implements ReplaySource {
  private readonly commits: EventEnvelope[][];

  constructor(
    private readonly streams: readonly EventEnvelope[][],
    commitSize: number,
    private readonly pageSize: number,
  ) {
    this.commits = streams.flatMap((events) => {
      const commits: EventEnvelope[][] = [];
      for (let i = 0; i < events.length; i += commitSize)
        commits.push(events.slice(i, i + commitSize));
      return commits;
    });
  }

  async *scanSegmentPages(
    segment: number,
    segments: number,
    options: ReadAllOptions & { readonly startKey?: ScanKey; readonly pageSize?: number },
  ): AsyncGenerator<ScanPage> {
    const mine = this.commits.filter(
      (c) => segmentOf(c[0]?.aggregate_id ?? '', segments) === segment,
    );
    const types = options.eventTypes ? new Set<string>(options.eventTypes) : undefined;
    let at = options.startKey ? Number(options.startKey.at?.N) : 0;
    do {
      const page = mine.slice(at, at + this.pageSize);
      at += this.pageSize;
      yield {
        segment,
        events: page.flat().filter((e) => !types || types.has(e.event_type)),
        scanned: page.length,
        next: at < mine.length ? { at: { N: String(at) } } : null,
      };
    } while (at < mine.length);
  }

  async read(aggregateId: string, options: ReadOptions = {}): Promise<EventEnvelope[]> {
    const stream = this.streams.find((s) => s[0]?.aggregate_id === aggregateId) ?? [];
    return stream.filter(
      (e) =>
        e.sequence >= (options.fromSequence ?? 1) &&
        e.sequence <= (options.toSequence ?? Number.POSITIVE_INFINITY),
    );
  }

  async approximateCommits(): Promise<number> {
    return this.commits.length;
  }
}

function segmentOf(id: string, segments: number): number {
  let hash = 0;
  for (const c of id) hash = (hash * 31 + c.charCodeAt(0)) % 9973;
  return hash % segments;
}

/** A process that may die: every write after its death fails, as nothing of it runs any more. */
interface Process {
  dead: boolean;
}

/** Where the process dies: in a flush's document writes, in its positions, or saving a checkpoint. */
type Death =
  | { readonly in: 'documents' | 'positions'; readonly at: number; readonly lands: boolean[] }
  | { readonly in: 'checkpoint'; readonly at: number };

/** Documents on disk, written by a process that dies in its `at`-th write with a few landing. */
class DyingStore implements DocumentStore {
  private calls = 0;

  constructor(
    private readonly disk: InMemoryDocumentStore,
    private readonly process: Process,
    private readonly death: Death | undefined,
    /** Turns of the event loop a write takes: later pages fold meanwhile. */
    private readonly slowness = 0,
  ) {}

  private async slow(): Promise<void> {
    for (let i = 0; i < this.slowness; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  getMany(keys: readonly DocKey[]) {
    return this.disk.getMany(keys);
  }

  query(pk: string, range?: { prefix?: string; from?: string; to?: string }) {
    return this.disk.query(pk, range);
  }

  queryPages(pk: string, range?: { prefix?: string; from?: string; to?: string }) {
    return this.disk.queryPages(pk, range);
  }

  private dies(): Death | undefined {
    if (this.process.dead) throw new Killed();
    const death = this.death;
    if (death?.in !== 'documents' || this.calls++ !== death.at) return undefined;
    this.process.dead = true;
    return death;
  }

  async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void> {
    await this.slow();
    const death = this.dies();
    if (death?.in !== 'documents') return this.disk.write(puts, deletes);
    const writes = [
      ...puts.map((p) => () => this.disk.write([p], [])),
      ...deletes.map((d) => () => this.disk.write([], [d])),
    ];
    for (const [i, write] of writes.entries())
      if (death.lands[i % death.lands.length]) await write();
    throw new Killed();
  }

  async update(changes: readonly EntryChanges[]): Promise<void> {
    await this.slow();
    const death = this.dies();
    if (death?.in !== 'documents') return this.disk.update(changes);
    for (const [i, change] of changes.entries())
      if (death.lands[i % death.lands.length]) await this.disk.update([change]);
    throw new Killed();
  }
}

/** Positions written by the same process: some of a write land when it dies in it. */
class DyingPositions implements PositionStore {
  private calls = 0;

  constructor(
    private readonly disk: InMemoryPositionStore,
    private readonly process: Process,
    private readonly death: Death | undefined,
  ) {}

  positions(aggregateIds: readonly string[]) {
    return this.disk.positions(aggregateIds);
  }

  async advance(positions: ReadonlyMap<string, number>): Promise<void> {
    if (this.process.dead) throw new Killed();
    const death = this.death;
    if (death?.in !== 'positions' || this.calls++ !== death.at) return this.disk.advance(positions);
    this.process.dead = true;
    const landed = [...positions].filter((_, i) => death.lands[i % death.lands.length]);
    await this.disk.advance(new Map(landed));
    throw new Killed();
  }
}

class DyingCheckpoints implements ReplayCheckpoints {
  private calls = 0;

  constructor(
    private readonly disk: InMemoryReplayCheckpoints,
    private readonly process: Process,
    private readonly death: Death | undefined,
  ) {}

  load(name: string) {
    return this.disk.load(name);
  }

  async save(checkpoint: ReplayCheckpoint): Promise<void> {
    if (this.process.dead) throw new Killed();
    await this.disk.save(checkpoint);
    if (this.death?.in === 'checkpoint' && this.calls++ === this.death.at) {
      this.process.dead = true;
      throw new Killed();
    }
  }
}

/** What outlives a process: the new generation's documents, its positions, the checkpoint. */
interface Disk {
  readonly documents: InMemoryDocumentStore;
  readonly positions: InMemoryPositionStore;
  readonly checkpoints: InMemoryReplayCheckpoints;
}

const newDisk = (): Disk => ({
  documents: new InMemoryDocumentStore(),
  positions: new InMemoryPositionStore(),
  checkpoints: new InMemoryReplayCheckpoints(),
});

interface Settings {
  /** Flush past this many bytes of folded JSON. */
  readonly budgetBytes: number;
  /** Save a checkpoint (and flush) after every page, or only at the start and the end. */
  readonly checkpointEveryPage: boolean;
  /** Turns of the event loop each document write takes. */
  readonly slowWrites: number;
}

/** A rebuild's replay as `rebuildReadModel` runs it, in a process that may die. */
async function rebuild(
  projection: Projection,
  source: ReplaySource,
  disk: Disk,
  settings: Settings,
  death?: Death,
): Promise<{ completed: boolean; flushes: number }> {
  const process: Process = { dead: false };
  // As `rebuildReadModel`: a generation whose table holds nothing reads nothing it did not write.
  const projector = new Projector(
    projection,
    new DyingStore(disk.documents, process, death, settings.slowWrites),
    { fresh: disk.documents.all().length === 0 },
  );
  const positions = new DeferredPositionStore(new DyingPositions(disk.positions, process, death));
  const sequencer = new AggregateSequencer({
    consumer: 'next generation',
    store: source,
    positions,
    apply: (events) => projector.fold(events),
  });
  const target = new ReadModelTarget(projector, `read model ${projection.name}`, {
    sequencer,
    positions,
    budgetBytes: settings.budgetBytes,
  });
  try {
    const summary = await replay({
      source,
      target,
      name: `rebuild:${projection.name}`,
      checkpoints: new DyingCheckpoints(disk.checkpoints, process, death),
      segments: 3,
      checkpointEveryMs: settings.checkpointEveryPage ? 0 : Number.MAX_SAFE_INTEGER,
      ...(projection.eventTypes === '*' ? {} : { filters: { eventTypes: projection.eventTypes } }),
    });
    return { completed: summary.completed, flushes: target.flushes };
  } catch (error) {
    if (error instanceof Killed) return { completed: false, flushes: target.flushes };
    throw error;
  }
}

async function everyPosition(positions: InMemoryPositionStore, streams: EventEnvelope[][]) {
  return Object.fromEntries(
    await positions.positions(streams.map((s) => s[0]?.aggregate_id ?? '')),
  );
}

const deathArb: fc.Arbitrary<Death> = fc.oneof(
  fc.record({
    in: fc.constantFrom('documents' as const, 'positions' as const),
    at: fc.integer({ min: 0, max: 10 }),
    lands: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ in: fc.constant('checkpoint' as const), at: fc.integer({ min: 0, max: 10 }) }),
);

describe('a rebuild folding pages and flushing them', () => {
  it('killed between flushes or in the middle of one, resumes and ends equal to a rebuild never killed', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb,
        fc.record({
          commitSize: fc.integer({ min: 1, max: 2 }),
          pageSize: fc.integer({ min: 1, max: 4 }),
          budgetBytes: fc.integer({ min: 1, max: 20_000 }),
          checkpointEveryPage: fc.boolean(),
          slowWrites: fc.integer({ min: 0, max: 3 }),
        }),
        fc.array(deathArb, { minLength: 1, maxLength: 3 }),
        async (streams, settings, deaths) => {
          const source = new ScannedStore(streams, settings.commitSize, settings.pageSize);
          for (const projection of READ_MODELS) {
            const expected = newDisk();
            const whole = await rebuild(projection, source, expected, settings);
            expect(whole.completed).toBe(true);

            const disk = newDisk();
            const killed: string[] = [];
            for (const death of deaths) {
              const run = await rebuild(projection, source, disk, settings, death);
              if (!run.completed) killed.push(`${death.in} ${death.at}`);
            }
            const last = await rebuild(projection, source, disk, settings);
            expect(last.completed).toBe(true);

            const context = `${projection.name}, killed in ${killed.join(', ') || 'none'}`;
            expect({ context, docs: disk.documents.all() }).toEqual({
              context,
              docs: expected.documents.all(),
            });
            expect({ context, positions: await everyPosition(disk.positions, streams) }).toEqual({
              context,
              positions: await everyPosition(expected.positions, streams),
            });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('applies each event once, a stream split across pages and flushes included', async () => {
    // Prepare: streams of several commits each, in pages of one commit, and a projection
    // that records every event it is given (no guard: an event applied twice shows).
    const streams = ['A', 'B', 'C', 'D', 'E', 'F'].map((t) =>
      [1, 2, 3, 4].map((goals) =>
        result(t, `${t} ${goals}-0 X`, { sequence: goals, corrected: goals > 1 }),
      ),
    );
    const applied: string[] = [];
    const recording: Projection = {
      name: 'recording',
      version: 1,
      eventTypes: '*',
      reads: () => [],
      evolve: (_, event) => {
        applied.push(event.event_id);
        return { put: [{ pk: event.aggregate_id, sk: String(event.sequence), doc: {} }] };
      },
    };
    const source = new ScannedStore(streams, 1, 1);

    // Act: a budget that flushes after about every other page, checkpoints only at the end.
    const disk = newDisk();
    const run = await rebuild(recording, source, disk, {
      budgetBytes: 4,
      checkpointEveryPage: false,
      slowWrites: 2,
    });

    // Assess
    expect(run).toMatchObject({ completed: true });
    expect(run.flushes).toBeGreaterThan(1);
    expect(applied.toSorted()).toEqual(
      streams
        .flat()
        .map((e) => e.event_id)
        .toSorted(),
    );
    expect(await everyPosition(disk.positions, streams)).toEqual(
      Object.fromEntries(streams.map((s) => [s[0]?.aggregate_id, 4])),
    );
  });
});

describe('a projector folding into a store that started empty', () => {
  it('reads no document it has not flushed, and reads back each one it has', async () => {
    // Prepare: a counter per team, each event reading its team's document first.
    const counting: Projection = {
      name: 'counting',
      version: 1,
      eventTypes: '*',
      reads: (event) => [{ pk: 'team', sk: event.aggregate_id }],
      evolve: (view, event) => {
        const key = { pk: 'team', sk: event.aggregate_id };
        const seen = (view.get(key) as { n: number } | undefined)?.n ?? 0;
        return { put: [{ ...key, doc: { n: seen + 1 } }] };
      },
    };
    const disk = new InMemoryDocumentStore();
    const read: string[] = [];
    const store: DocumentStore = {
      getMany: (keys) => {
        read.push(...keys.map((k) => k.sk));
        return disk.getMany(keys);
      },
      query: (pk, range) => disk.query(pk, range),
      queryPages: (pk, range) => disk.queryPages(pk, range),
      write: (puts, deletes) => disk.write(puts, deletes),
      update: (changes) => disk.update(changes),
    };
    const event = (team: string, sequence: number) =>
      result(team, `${team} 1-0 X`, { sequence, corrected: sequence > 1 });
    const projector = new Projector(counting, store, { fresh: true });

    // Act: two teams folded and flushed, then one of them again and a third; then the same
    // events through a projector not told the store is fresh.
    await projector.fold([event('A', 1), event('B', 1)]);
    await projector.flush();
    await projector.fold([event('A', 2), event('C', 1)]);
    await projector.flush();
    const fresh = [...read];
    read.length = 0;
    const usual = new Projector(counting, store);
    await usual.fold([event('D', 1)]);

    // Assess: only A, flushed before, was read; the counts are those of reading everything.
    expect(fresh).toEqual(['match:A']);
    expect(disk.all().map((d) => [d.sk, d.doc])).toEqual([
      ['match:A', { n: 2 }],
      ['match:B', { n: 1 }],
      ['match:C', { n: 1 }],
    ]);
    expect(read).toEqual(['match:D']);
  });
});
