/**
 * Rebuild throughput of the main read models (events/s) from a store of at least 100,000
 * events in the embedded runtime, next to dynalite's raw parallel scan of the same table
 * (and a scan that also decodes every event) measured in the same run.
 *
 * The store is loaded directly with BatchWriteItem of commit items built by the event
 * store's own codec (one `MatchRecorded` per match stream and one `TeamRegistered` per team),
 * without the relay marker: the change stream never carries them, so each rebuild replays
 * the whole store and nothing else competes with it.
 */
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { generateSeason } from '../domain/season/generateSeason.js';
import { matchAggregateId, resultData, teamAggregateId } from '../ingest/matchEvents.js';
import { startPipeline } from '../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../pipeline/readModels.js';
import { rebuildReadModel } from '../pipeline/rebuild.js';
import { batchWriteReliably } from '../stream/aws/dynamoBatch.js';
import { CommitCodec } from '../stream/eventStore/Commit.js';
import { toItem } from '../stream/eventStore/commitItem.js';
import { EVENTS_TABLE } from '../stream/eventStore/eventsTable.js';

export interface RebuildScenario {
  readonly name: string;
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly segments: number;
  /** The read models rebuilt. @default REBUILT_MODELS */
  readonly models?: readonly RebuiltModel[];
  /** Documents of the BatchWriteItem baseline. @default 20,000 */
  readonly rawWrites?: number;
}

export const REBUILD_SCENARIOS: readonly RebuildScenario[] = [
  // 2,000 teams × 100 games / 2 = 100,000 matches, plus 2,000 team registrations.
  { name: 'rebuild-100k', teams: 2000, gamesPerTeam: 100, segments: 4 },
  // 10,000 teams × 200 games / 2 = 1,000,000 matches, plus 10,000 team registrations: the
  // scans, and the read model that reads every stored event and writes little (teams).
  { name: 'rebuild-1m', teams: 10_000, gamesPerTeam: 200, segments: 4, models: ['teams'] },
];

/** A smaller store for `--quick` runs (below the 100,000 of the figure that counts). */
export const QUICK_REBUILD_SCENARIOS: readonly RebuildScenario[] = [
  { name: 'rebuild-10k', teams: 200, gamesPerTeam: 100, segments: 4, rawWrites: 5000 },
];

/** The read models whose rebuild is measured. */
export const REBUILT_MODELS = ['matches', 'standings', 'teams', 'pipeline-stats'] as const;
export type RebuiltModel = (typeof REBUILT_MODELS)[number];

type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

/** Writes the season's commits straight into the events table, 25 per call, 8 calls in flight. */
async function load(pipeline: Pipeline, scenario: RebuildScenario): Promise<number> {
  const season = generateSeason({
    teams: scenario.teams,
    gamesPerTeam: scenario.gamesPerTeam,
    seed: 5,
  });
  const codec = new CommitCodec(pipeline.runtime.registry);
  const teams = new Set<string>();
  for (const g of season.games) teams.add(g.homeTeam).add(g.awayTeam);
  const commits = function* () {
    for (const name of teams)
      yield codec.build(teamAggregateId(name), 0, [
        {
          event_type: 'TeamRegistered',
          data: { team_id: name, name, conference: null, division: null, region: null },
        },
      ]);
    for (const game of season.games) {
      const id = matchAggregateId(game, 0);
      yield codec.build(id, 0, [
        { event_type: 'MatchRecorded', data: { ...resultData(game, id) } },
      ]);
    }
  };
  let written = 0;
  let chunk: ReturnType<typeof toItem>[] = [];
  const inFlight = new Set<Promise<void>>();
  const flush = async () => {
    const items = chunk;
    chunk = [];
    const p = batchWriteReliably(
      pipeline.runtime.dynamo,
      EVENTS_TABLE,
      items.map((put) => ({ put })),
      ['aggregate_id', 'sequence'],
    ).then(() => {
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  };
  for (const commit of commits()) {
    chunk.push(toItem(commit));
    written++;
    if (chunk.length === 25) await flush();
  }
  if (chunk.length > 0) await flush();
  await Promise.all(inFlight);
  return written;
}

/** Items per second of a parallel scan of the events table that reads and counts, nothing more. */
async function rawScan(pipeline: Pipeline, segments: number) {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let count = 0;
      let start: Record<string, never> | undefined;
      do {
        const page = await pipeline.runtime.dynamo.send(
          new ScanCommand({
            TableName: EVENTS_TABLE,
            Segment: segment,
            TotalSegments: segments,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        count += page.Items?.length ?? 0;
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start);
      return count;
    }),
  );
  const items = counts.reduce((a, b) => a + b, 0);
  return { items, per_second: items / ((performance.now() - started) / 1000) };
}

/**
 * Items per second of BatchWriteItem into a fresh document table of the same dynalite: the
 * write side a rebuild cannot go faster than (a `matches` event writes four documents and a
 * position, a `standings` event a line and a position).
 */
async function rawBatchWrite(pipeline: Pipeline, count: number) {
  const store = await pipeline.tableStore('bench-raw-writes');
  const doc = {
    team: 'North Harbor State',
    goals_for: 2,
    goals_against: 1,
    played_on: '2026-09-01',
  };
  const started = performance.now();
  for (let i = 0; i < count; i += 500) {
    const puts = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      pk: `season#2026#${(i + j) % 97}`,
      sk: `doc#${i + j}`,
      doc: { ...doc, n: i + j },
    }));
    await store.write(puts, []);
  }
  const perSecond = count / ((performance.now() - started) / 1000);
  await store.drop();
  return perSecond;
}

/** Events per second of the same scan through the event store: items to decoded envelopes. */
async function decodingScan(pipeline: Pipeline, segments: number) {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let count = 0;
      for await (const page of pipeline.runtime.store.scanSegmentPages(segment, segments))
        count += page.events.length;
      return count;
    }),
  );
  const events = counts.reduce((a, b) => a + b, 0);
  return { events, per_second: events / ((performance.now() - started) / 1000) };
}

/** Heap in use after a full collection, when the process runs with --expose-gc. */
function settledHeap(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  return process.memoryUsage().heapUsed;
}

/** What a run may change: the flush budget, and which read models it rebuilds. */
export interface RebuildRun {
  readonly flushMb?: number;
  readonly models?: readonly RebuiltModel[];
}

export async function measure(scenario: RebuildScenario, run: RebuildRun = {}) {
  const pipeline = await startPipeline({ memory: true, debounceMs: 3_600_000 });
  try {
    const loadStarted = performance.now();
    const events = await load(pipeline, scenario);
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const scanBefore = await rawScan(pipeline, scenario.segments);
    const decode = await decodingScan(pipeline, scenario.segments);
    const models = [];
    for (const name of run.models ?? scenario.models ?? REBUILT_MODELS) {
      const projection = READ_MODELS.find((p) => p.name === name);
      if (!projection) throw new Error(`no read model ${name}`);
      const rssBefore = process.memoryUsage().rss;
      const heapBefore = settledHeap();
      // The heap in use, sampled after each page: its peak is what the rebuild's folding
      // holds at most (with garbage not yet collected).
      let peakHeap = getHeapStatistics().used_heap_size;
      const summary = await rebuildReadModel(pipeline, projection, {
        segments: scenario.segments,
        // The replay is measured, not the comparison a rebuild of the same version makes.
        verify: false,
        ...(run.flushMb ? { flushMb: run.flushMb } : {}),
        onProgress: () => {
          peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
        },
      });
      // Read loosely: the same file measures a build from before flushes existed.
      const flushes = (summary as { flushes?: number }).flushes;
      if (!summary.completed || summary.scanned < events)
        throw new Error(`rebuild of ${name} read ${summary.scanned} of ${events} events`);
      models.push({
        read_model: name,
        events_read: summary.scanned,
        events_applied: summary.events,
        seconds: summary.replay_seconds,
        value: summary.scanned_per_second,
        unit: 'events/s (read from the store and through the read model)',
        applied_per_second: summary.events_per_second,
        rss_mb_after: Math.round(process.memoryUsage().rss / 2 ** 20),
        rss_growth_mb: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
        flushes: flushes ?? null,
        peak_folded_mb: (summary as { peak_folded_mb?: number }).peak_folded_mb ?? null,
        peak_heap_mb: Math.round(peakHeap / 2 ** 20),
        // The peak over the heap settled before the rebuild (needs --expose-gc).
        peak_heap_growth_mb:
          heapBefore === undefined ? null : Math.round((peakHeap - heapBefore) / 2 ** 20),
        // What the rebuild left on the heap once garbage is collected (needs --expose-gc):
        // near zero when it streams, the size of the store if it kept the events.
        heap_retained_mb:
          heapBefore === undefined
            ? null
            : Math.round(((settledHeap() ?? 0) - heapBefore) / 2 ** 20),
      });
    }
    const scanAfter = await rawScan(pipeline, scenario.segments);
    const writes = await rawBatchWrite(pipeline, scenario.rawWrites ?? 20_000);
    const baseline = (scanBefore.per_second + scanAfter.per_second) / 2;
    return {
      scenario: scenario.name,
      events,
      segments: scenario.segments,
      load: {
        events_per_second: Math.round(events / loadSeconds),
        seconds: Number(loadSeconds.toFixed(1)),
        how: 'BatchWriteItem of commit items, 8 calls in flight',
      },
      baseline: Math.round(baseline),
      baseline_unit: `items/s, raw parallel Scan of the events table (${scenario.segments} segments, dynalite in memory), mean of before and after`,
      decoding_scan: {
        value: Math.round(decode.per_second),
        unit: 'events/s',
        ratio: Number((decode.per_second / baseline).toFixed(3)),
        note: 'the same scan through the event store: items decoded to envelopes at the latest schema version',
      },
      write_baseline: {
        value: Math.round(writes),
        unit: 'items/s, BatchWriteItem through the document store (500 documents a call to it, 25 an API call, 4 calls in flight)',
      },
      figures: models.map((m) => ({
        ...m,
        baseline: Math.round(baseline),
        ratio: Number((m.value / baseline).toFixed(3)),
      })),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await pipeline.stop();
  }
}

const name = process.argv[2];
/** `--flush-mb N` and `--models a,b` after the scenario's name. */
function runOptions(args: readonly string[]): RebuildRun {
  const flag = (f: string) => {
    const i = args.indexOf(f);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const flushMb = flag('--flush-mb');
  const models = flag('--models');
  return {
    ...(flushMb ? { flushMb: Number(flushMb) } : {}),
    ...(models ? { models: models.split(',') as RebuiltModel[] } : {}),
  };
}
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  const scenario = [...REBUILD_SCENARIOS, ...QUICK_REBUILD_SCENARIOS].find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(
      `unknown scenario ${name}; known: ${[...REBUILD_SCENARIOS, ...QUICK_REBUILD_SCENARIOS].map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  process.stdout.write(
    `${JSON.stringify(await measure(scenario, runOptions(process.argv.slice(3))))}\n`,
  );
}
