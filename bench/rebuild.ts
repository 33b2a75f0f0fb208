/**
 * Rebuild throughput of the main read models (events/s) from a store of at least 100,000
 * events in the embedded runtime, next to dynalite's raw parallel scan of the same table
 * (and a scan that also decodes every event) measured in the same run.
 *
 * Each read model is rebuilt twice on the same store: by the direct scan of the table
 * (`figures`), then through the archive (`archive.figures`): a full export of the table into
 * a temporary folder, made for that rebuild alone and timed apart, whose data files the
 * rebuild then applies. Its ratio is to the scan rebuild of the same read model just before.
 *
 * The store is loaded directly with BatchWriteItem of commit items built by the event
 * store's own codec (one `MatchRecorded` per match stream and one `TeamRegistered` per team),
 * without the relay marker: the change stream never carries them, so each rebuild replays
 * the whole store and nothing else competes with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { generateSeason } from '../domain/season/generateSeason.js';
import { matchAggregateId, resultData, teamAggregateId } from '../ingest/matchEvents.js';
import { compareTables } from '../pipeline/compareTables.js';
import { startPipeline } from '../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../pipeline/readModels.js';
import { type RebuildSummary, rebuildReadModel } from '../pipeline/rebuild.js';
import { FolderStorage } from '../stream/archive/ArchiveStorage.js';
import { ARCHIVE_PREFIX, exportIdOf } from '../stream/archive/exportFormat.js';
import { exportTableLocally } from '../stream/archive/exportTable.js';
import { listExports } from '../stream/archive/readExport.js';
import { batchWriteReliably } from '../stream/aws/dynamoBatch.js';
import { type Commit, CommitCodec } from '../stream/eventStore/Commit.js';
import { toItem } from '../stream/eventStore/commitItem.js';
import { EVENTS_TABLE } from '../stream/eventStore/eventsTable.js';

export interface RebuildScenario {
  readonly name: string;
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly segments: number;
  /** The read models rebuilt. @default REBUILT_MODELS */
  readonly models?: readonly RebuiltModel[];
  /** Those of them also rebuilt through the archive, and compared. @default all of them */
  readonly archived?: readonly RebuiltModel[];
  /** Documents of the BatchWriteItem baseline. @default 20,000 */
  readonly rawWrites?: number;
}

export const REBUILD_SCENARIOS: readonly RebuildScenario[] = [
  // 2,000 teams × 100 games / 2 = 100,000 matches, plus 2,000 team registrations.
  { name: 'rebuild-100k', teams: 2000, gamesPerTeam: 100, segments: 4 },
  // 10,000 teams × 200 games / 2 = 1,000,000 matches, plus 10,000 team registrations: every
  // read model by scan, and through the archive the one that writes little (teams). The
  // store is in memory: the archive generations of the other three, compared with the scan's,
  // would double the 4,000,000 documents of matches (a run with them took 16 GB and its
  // dynalite stopped answering).
  {
    name: 'rebuild-1m',
    teams: 10_000,
    gamesPerTeam: 200,
    segments: 4,
    archived: ['teams'],
  },
];

/** A smaller store for `--quick` runs (below the 100,000 of the figure that counts). */
export const QUICK_REBUILD_SCENARIOS: readonly RebuildScenario[] = [
  { name: 'rebuild-10k', teams: 200, gamesPerTeam: 100, segments: 4, rawWrites: 5000 },
];

/** The read models whose rebuild is measured. */
export const REBUILT_MODELS = ['matches', 'standings', 'teams', 'pipeline-stats'] as const;
export type RebuiltModel = (typeof REBUILT_MODELS)[number];

type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

/**
 * Writes the season's commits straight into the events table, 25 per call, 8 calls in flight;
 * `seen` is given each commit as it is built, in order.
 */
export async function load(
  pipeline: Pipeline,
  scenario: Pick<RebuildScenario, 'teams' | 'gamesPerTeam'>,
  seen?: (commit: Commit) => void,
): Promise<number> {
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
    seen?.(commit);
    chunk.push(toItem(commit));
    written++;
    if (chunk.length === 25) await flush();
  }
  if (chunk.length > 0) await flush();
  await Promise.all(inFlight);
  return written;
}

/** Items per second of a parallel scan of a table (the events table unless named) that reads and counts, nothing more. */
export async function rawScan(pipeline: Pipeline, segments: number, table: string = EVENTS_TABLE) {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let count = 0;
      let start: Record<string, never> | undefined;
      do {
        const page = await pipeline.runtime.dynamo.send(
          new ScanCommand({
            TableName: table,
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

/**
 * Drops a read model's generations once measured: the store is in memory, and at 1,000,000
 * events the documents of every read model's two generations together would not fit
 * (`matches` alone writes 4,000,000 documents a generation).
 */
async function dropTables(pipeline: Pipeline, tables: readonly string[]): Promise<void> {
  for (const table of tables) await (await pipeline.tableStore(table)).drop();
}

/** Heap in use after a full collection, when the process runs with --expose-gc. */
function settledHeap(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The memory figures of one rebuild: the process's RSS before and after, and the heap in
 * use, sampled by `sample` after each page, against the heap settled before it.
 */
function watchMemory() {
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = settledHeap();
  // Its peak is what the rebuild's folding holds at most (with garbage not yet collected).
  let peakHeap = getHeapStatistics().used_heap_size;
  return {
    sample: () => {
      peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
    },
    rss: () => ({
      rss_mb_after: Math.round(process.memoryUsage().rss / 2 ** 20),
      rss_growth_mb: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
    }),
    heap: () => ({
      peak_heap_mb: Math.round(peakHeap / 2 ** 20),
      // The peak over the heap settled before the rebuild (needs --expose-gc).
      peak_heap_growth_mb:
        heapBefore === undefined ? null : Math.round((peakHeap - heapBefore) / 2 ** 20),
      // What the rebuild left on the heap once garbage is collected (needs --expose-gc):
      // near zero when it streams, the size of the store if it kept the events.
      heap_retained_mb:
        heapBefore === undefined ? null : Math.round(((settledHeap() ?? 0) - heapBefore) / 2 ** 20),
    }),
  };
}

/**
 * The comparison a rebuild of the same version makes (`compareTables`), between the two
 * generations the scan and the archive rebuilt from the same store (equal documents): its
 * documents of each generation a second against the raw parallel scan of both tables (what
 * reading them alone costs), and the heap it held, sampled every 20 ms.
 */
async function compareGenerations(
  pipeline: Pipeline,
  projection: Projection,
  scenario: RebuildScenario,
  tables: { readonly scan: string; readonly archive: string },
) {
  const [live, rebuilt] = await Promise.all([
    pipeline.tableStore(tables.scan),
    pipeline.tableStore(tables.archive),
  ]);
  const memory = watchMemory();
  const sampling = setInterval(memory.sample, 20);
  const started = performance.now();
  const compared = await compareTables(live, rebuilt).finally(() => clearInterval(sampling));
  const seconds = (performance.now() - started) / 1000;
  if (compared.count !== 0)
    throw new Error(
      `the scan and archive rebuilds of ${projection.name} differ in ${compared.count} documents`,
    );
  const scanned = [
    await rawScan(pipeline, scenario.segments, tables.scan),
    await rawScan(pipeline, scenario.segments, tables.archive),
  ];
  const documents = scanned[0]?.items ?? 0;
  const readSeconds = scanned.reduce((t, s) => t + s.items / s.per_second, 0);
  const value = Math.round(documents / seconds);
  const baseline = Math.round(documents / readSeconds);
  return {
    figure: `compare-${projection.name}`,
    read_model: projection.name,
    documents,
    seconds: Number(seconds.toFixed(3)),
    value,
    unit: 'documents of each generation compared a second',
    baseline,
    baseline_unit: `documents of each generation a second, raw parallel Scan of both tables (${scenario.segments} segments), one after the other`,
    ratio: Number((value / baseline).toFixed(3)),
    ...memory.heap(),
  };
}

/** What a run may change: the flush budget, and which read models it rebuilds. */
export interface RebuildRun {
  readonly flushMb?: number;
  readonly models?: readonly RebuiltModel[];
  /** The rebuilds through the archive and the comparisons (false: the scan rebuilds alone). @default true */
  readonly archive?: boolean;
  /** Told each step as it starts (the command prints them on standard error). */
  readonly progress?: (step: string) => void;
}

type Projection = (typeof READ_MODELS)[number];

/** Files an archive rebuild applies at once (`rebuildReadModel`'s default). */
const FILE_CONCURRENCY = 4;

/** A rebuild that scans the events table (`source: 'scan'`). */
async function scanRebuild(
  pipeline: Pipeline,
  projection: Projection,
  scenario: RebuildScenario,
  run: RebuildRun,
  events: number,
) {
  const memory = watchMemory();
  const summary = await rebuildReadModel(pipeline, projection, {
    segments: scenario.segments,
    // The replay is measured, not the comparison a rebuild of the same version makes.
    verify: false,
    ...(run.flushMb ? { flushMb: run.flushMb } : {}),
    onProgress: memory.sample,
  });
  // Read loosely: the same file measures a build from before flushes existed.
  const flushes = (summary as { flushes?: number }).flushes;
  if (!summary.completed || summary.scanned < events)
    throw new Error(`rebuild of ${projection.name} read ${summary.scanned} of ${events} events`);
  return {
    read_model: projection.name,
    table: summary.table,
    events_read: summary.scanned,
    events_applied: summary.events,
    seconds: summary.replay_seconds,
    value: summary.scanned_per_second,
    unit: 'events/s (read from the store and through the read model)',
    applied_per_second: summary.events_per_second,
    ...memory.rss(),
    flushes: flushes ?? null,
    peak_folded_mb: (summary as { peak_folded_mb?: number }).peak_folded_mb ?? null,
    ...memory.heap(),
  };
}

/**
 * A rebuild through the archive, from an export made for it alone: a full export of the
 * events table into `folder`, timed apart, then `rebuildReadModel` with the archive, which
 * finds that export's end less than 15 minutes old and reads it without exporting again
 * (checked: a rebuild that read any other export fails the run). `baseline` is the scan
 * rebuild of the same read model just before, on the same store.
 */
async function archiveRebuild(
  pipeline: Pipeline,
  projection: Projection,
  scenario: RebuildScenario,
  run: RebuildRun,
  events: number,
  folder: string,
  scan: { readonly value: number },
) {
  const storage = new FolderStorage(folder);
  const memory = watchMemory();
  const exportStarted = performance.now();
  const exported = await exportTableLocally({
    client: pipeline.runtime.dynamo,
    table: pipeline.runtime.store.table,
    storage,
    prefix: ARCHIVE_PREFIX,
    segments: scenario.segments,
    onProgress: memory.sample,
  });
  const exportSeconds = (performance.now() - exportStarted) / 1000;
  const exportId = exportIdOf(exported.exportArn);
  if (exported.itemCount !== events)
    throw new Error(`the export for ${projection.name} holds ${exported.itemCount} of ${events}`);
  const summary: RebuildSummary = await rebuildReadModel(pipeline, projection, {
    verify: false,
    ...(run.flushMb ? { flushMb: run.flushMb } : {}),
    archive: { storage, prefix: ARCHIVE_PREFIX, fileConcurrency: FILE_CONCURRENCY },
    onProgress: memory.sample,
  });
  if (summary.source !== 'archive' || summary.exports?.join() !== exportId)
    throw new Error(
      `the archive rebuild of ${projection.name} read the exports [${summary.exports?.join(', ') ?? ''}], not the one made for it (${exportId})`,
    );
  if (!summary.completed || summary.scanned < events)
    throw new Error(
      `archive rebuild of ${projection.name} read ${summary.scanned} of ${events} events`,
    );
  const files = (await listExports(storage, ARCHIVE_PREFIX)).exports.find((e) => e.id === exportId)
    ?.files.length;
  let dataBytes = 0;
  for await (const object of storage.list(`${ARCHIVE_PREFIX}/`))
    if (object.key.endsWith('.json.gz')) dataBytes += object.size;
  const seconds = exportSeconds + summary.replay_seconds;
  const value = Math.round(summary.scanned / seconds);
  return {
    figure: `rebuild-archive-${projection.name}`,
    read_model: projection.name,
    table: summary.table,
    events_read: summary.scanned,
    events_applied: summary.events,
    value,
    unit: 'events/s (a full export made for this rebuild, then its files read and applied through the read model; export included)',
    baseline: scan.value,
    baseline_unit:
      'events/s, the direct-scan rebuild of the same read model in the same run, on the same store',
    ratio: Number((value / scan.value).toFixed(3)),
    // What a rebuild that reuses a recent export pays: the files applied, no export.
    value_excluding_export: summary.scanned_per_second,
    ratio_excluding_export: Number((summary.scanned_per_second / scan.value).toFixed(3)),
    seconds: Number(seconds.toFixed(3)),
    export_seconds: Number(exportSeconds.toFixed(3)),
    replay_seconds: summary.replay_seconds,
    export_id: exportId,
    export_items: exported.itemCount,
    export_items_per_second: Math.round(exported.itemCount / exportSeconds),
    // The data files' gzip bytes, and their JSON lines before compression.
    export_mb: Number((dataBytes / 2 ** 20).toFixed(1)),
    export_json_mb: Number((exported.billedSizeBytes / 2 ** 20).toFixed(1)),
    files: files ?? 0,
    deferred_streams: summary.deferred_streams ?? 0,
    applied_per_second: summary.events_per_second,
    ...memory.rss(),
    flushes: summary.flushes,
    peak_folded_mb: summary.peak_folded_mb,
    ...memory.heap(),
  };
}

export async function measure(scenario: RebuildScenario, run: RebuildRun = {}) {
  const pipeline = await startPipeline({ memory: true, debounceMs: 3_600_000 });
  // The archive rebuilds' exports, one folder per read model, each removed after its rebuild.
  const archiveRoot = await mkdtemp(join(tmpdir(), 'matchstream-bench-archive-'));
  try {
    run.progress?.(`${scenario.name}: loading the store`);
    const loadStarted = performance.now();
    const events = await load(pipeline, scenario);
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const scanBefore = await rawScan(pipeline, scenario.segments);
    const decode = await decodingScan(pipeline, scenario.segments);
    const models = [];
    const archived = [];
    const compared = [];
    for (const name of run.models ?? scenario.models ?? REBUILT_MODELS) {
      const projection = READ_MODELS.find((p) => p.name === name);
      if (!projection) throw new Error(`no read model ${name}`);
      // The two rebuilds of a read model one after the other, so both see the same load.
      run.progress?.(`${scenario.name}: rebuilding ${name} by scan`);
      const scan = await scanRebuild(pipeline, projection, scenario, run, events);
      models.push(scan);
      if (run.archive === false || !(scenario.archived ?? [name]).includes(name)) {
        await dropTables(pipeline, [scan.table]);
        continue;
      }
      run.progress?.(`${scenario.name}: rebuilding ${name} through the archive`);
      const folder = join(archiveRoot, name);
      const archive = await archiveRebuild(
        pipeline,
        projection,
        scenario,
        run,
        events,
        folder,
        scan,
      );
      archived.push(archive);
      await rm(folder, { recursive: true, force: true });
      run.progress?.(`${scenario.name}: comparing the two generations of ${name}`);
      compared.push(
        await compareGenerations(pipeline, projection, scenario, {
          scan: scan.table,
          archive: archive.table,
        }),
      );
      await dropTables(pipeline, [scan.table, archive.table]);
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
      archive: {
        how: `Each read model is rebuilt through the archive right after its scan rebuild (figures), on the same store: first a fresh full export of the events table, made for that rebuild alone (${scenario.segments} scan segments, one gzip data file each, into a folder under the temporary directory, removed after), timed apart as export_seconds; then rebuildReadModel with the archive, which finds that export's end under 15 minutes old and reads it without exporting again (the run fails if it read any other export), applying its files ${FILE_CONCURRENCY} at a time. value counts the export: events read / (export_seconds + replay_seconds); value_excluding_export is the replay alone, what a rebuild that reuses a recent export pays. baseline is the scan rebuild of the same read model in the same run.`,
        export_segments: scenario.segments,
        file_concurrency: FILE_CONCURRENCY,
        figures: archived,
      },
      comparison: {
        how: 'After the two rebuilds of each read model, the comparison a rebuild of the same version makes (compareTables: each page of one generation looked up in the other while the other is counted with Select COUNT, and the other scanned and looked up in the first only when it holds more than was found in it) between the scan generation (as the live one) and the archive generation, which hold the same documents; then each table scanned raw, the baseline. peak_heap_growth_mb is the heap in use at its highest over the heap settled before, garbage included; heap_retained_mb what the comparison left once collected.',
        figures: compared,
      },
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await pipeline.stop();
    await rm(archiveRoot, { recursive: true, force: true });
  }
}

const name = process.argv[2];
/** `--flush-mb N`, `--models a,b` and `--no-archive` after the scenario's name. */
/** A run's options from its flags, checked before the store is loaded (minutes at 1,000,000 events). */
function runOptions(args: readonly string[]): RebuildRun {
  const refuse = (message: string): never => {
    process.stderr.write(`${message}\n`);
    process.exit(2);
  };
  let values: { 'flush-mb'?: string; models?: string; 'no-archive'?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        'flush-mb': { type: 'string' },
        models: { type: 'string' },
        'no-archive': { type: 'boolean' },
      },
    }));
  } catch (error) {
    return refuse(
      `${(error as Error).message.split('\n')[0]}; the options: --flush-mb MB, --models M,..., --no-archive`,
    );
  }
  const flushMb = values['flush-mb'] === undefined ? undefined : Number(values['flush-mb']);
  if (flushMb !== undefined && !(flushMb > 0)) {
    refuse(`--flush-mb needs a number of MB above 0, got "${values['flush-mb']}"`);
  }
  const models = values.models?.split(',').map((m) => m.trim());
  const unknown = models?.filter((m) => !(REBUILT_MODELS as readonly string[]).includes(m)) ?? [];
  if (models !== undefined && (models.length === 0 || unknown.length > 0)) {
    refuse(
      `--models names no read model ${unknown.join(', ')}; the read models: ${REBUILT_MODELS.join(', ')}`,
    );
  }
  return {
    ...(flushMb !== undefined ? { flushMb } : {}),
    ...(models ? { models: models as RebuiltModel[] } : {}),
    ...(values['no-archive'] ? { archive: false } : {}),
    // For a person watching a long run: standard output is the JSON.
    progress: (step) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${step}\n`),
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
