import type { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import type { Projection } from '../projections/Projection.js';
import { Projector } from '../projections/Projector.js';
import { generationConsumer } from '../projections/ReadModelRegistry.js';
import { ReadModelTarget } from '../projections/ReadModelTarget.js';
import { ArchivedEventStore } from '../stream/archive/ArchivedEventStore.js';
import type { FolderStorage } from '../stream/archive/ArchiveStorage.js';
import { listExports } from '../stream/archive/readExport.js';
import { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import { DynamoCheckpointStore } from '../stream/consumer/CheckpointStore.js';
import { DeferredPositionStore } from '../stream/consumer/DeferredPositionStore.js';
import { DynamoPositionStore } from '../stream/consumer/DynamoPositionStore.js';
import { CommitCodec } from '../stream/eventStore/Commit.js';
import { copyCheckpoints } from '../stream/local/copyCheckpoints.js';
import { CHANGES_STREAM } from '../stream/local/EmbeddedRuntime.js';
import { DynamoReplayCheckpoints } from '../stream/replay/ReplayCheckpoints.js';
import { type ReplayProgress, type ReplaySummary, replay } from '../stream/replay/replay.js';
import { chainUpToDate, localExporter } from './archiveChainUpToDate.js';
import {
  type ArchiveReplayProgress,
  applyDeferredStreams,
  applyExportFile,
  exportChain,
  replayArchive,
} from './archiveReplay.js';
import { compareTables } from './compareTables.js';
import { type EmbeddedPipeline, READ_MODELS_CONSUMER } from './embeddedPipeline.js';
import { DEFAULT_FLUSH_MB, type RebuildSummary } from './rebuildSummary.js';

export { compareTables, sameDocument } from './compareTables.js';
export {
  DEFAULT_FLUSH_MB,
  type DocumentDifference,
  FRESH_EXPORT_MS,
  type RebuildSummary,
} from './rebuildSummary.js';

/**
 * How far a rebuild has got: what the scan or the archive's files read and applied, and
 * through the archive, while streams are applied from the store after files, those.
 */
export interface RebuildProgress extends ReplayProgress {
  readonly streams?: ArchiveReplayProgress['streams'];
}

export interface RebuildOptions {
  readonly segments?: number;
  /** Commits per scan page (default: 1 MB pages). */
  readonly pageSize?: number;
  /**
   * Compare the new generation with the live one before switching. Left out, a rebuild of
   * the version that built the active generation compares (any difference is a fault), one
   * of a new version does not.
   */
  readonly verify?: boolean;
  /** Build and catch up, but leave the active generation as it is. */
  readonly noSwitch?: boolean;
  /**
   * How much the replay folds in memory before it writes: MB of heap the loaded and changed
   * documents take (their JSON and what each costs beyond it, see `Projector.foldedBytes`). A
   * flush writes each document the pages since the last one changed, then the positions.
   * @default DEFAULT_FLUSH_MB
   */
  readonly flushMb?: number;
  /**
   * At the latest, a flush (and the replay's checkpoint) this often. @default
   * DEFAULT_FLUSH_EVERY_MS
   */
  readonly flushEveryMs?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  readonly signal?: AbortSignal;
  /**
   * Read the store through the archive instead of scanning the table: an export (an
   * incremental one after the newest export, else a full one), then the export chain's data
   * files, `fileConcurrency` at a time, each by `applyExportFile` (what a Distributed Map
   * iteration runs on AWS), then the same catch-up, comparison and switch.
   */
  readonly archive?: {
    readonly storage: FolderStorage;
    readonly prefix: string;
    /** Files applied at once. @default 4 */
    readonly fileConcurrency?: number;
  };
}

/** How often a rebuild flushes at the latest, and saves its checkpoint. */
export const DEFAULT_FLUSH_EVERY_MS = 5000;

/**
 * How long before a scan's start the catch-up from the stream begins: records that arrived
 * a little before it (their commits were scanned too) are applied again as repeats, which
 * covers a clock that is off by less.
 */
const CATCH_UP_MARGIN_MS = 60_000;

/**
 * Builds a new generation of a read model while the live one keeps serving and updating:
 * (1) replays the whole store into a new table, through the positions of the consumer that
 * will feed it; (2) starts that consumer on the stream, which skips what the replay applied
 * and applies what was appended since; (3) once it has caught up, optionally compares it with
 * the live generation; (4) switches the active generation in one registry write. The old
 * generation stays, still fed, until `projections drop`. Interrupted, it resumes.
 *
 * Built by the same version as the active generation, the new one must equal it: it is
 * compared unless `verify: false`, and any difference is a fault that keeps the active
 * generation (`fault` in the summary). A new version may differ: that is what it is for.
 */
export async function rebuildReadModel(
  pipeline: EmbeddedPipeline,
  projection: Projection,
  options: RebuildOptions = {},
): Promise<RebuildSummary> {
  const { runtime, registry } = pipeline;
  const started = performance.now();
  const previous = await registry.active(projection);
  const generation = await registry.building(projection);
  const store = await pipeline.tableStore(generation.table);
  // A generation whose table holds nothing yet (not one a failed run left building) gets no
  // writer but this replay until it is built: what the replay has not written is not there,
  // and need not be read (for a season of results, every document a replay reads).
  const projector = new Projector(projection, store, {
    fresh: !options.archive && (await isEmpty(store)),
  });
  const consumer = generationConsumer(projection.name, generation.generation);
  // The replay folds pages and writes them at each flush: the documents, then the
  // positions, which wait in memory until then.
  const positions = new DeferredPositionStore(new DynamoPositionStore(runtime.dynamo, consumer));
  const sequencer = new AggregateSequencer({
    consumer,
    store: runtime.store,
    positions,
    apply: (events) => projector.fold(events),
    skipFirstPositions: projection.guardsRepeats === true,
  });
  const flushMb = options.flushMb ?? DEFAULT_FLUSH_MB;
  if (!(flushMb > 0)) throw new Error(`the flush budget must be more than 0 MB (got ${flushMb})`);
  const target = new ReadModelTarget(
    projector,
    `read model ${projection.name} generation ${generation.generation}`,
    { sequencer, positions, budgetBytes: flushMb * 2 ** 20 },
  );
  const onUnreadable = (
    event: Parameters<NonNullable<Parameters<typeof replay>[0]['onUnreadable']>>[0],
  ) =>
    runtime.deadLetters.send({
      consumer: `rebuild:${projection.name}`,
      event,
      error: event.error,
      attempts: 1,
      failed_at: new Date().toISOString(),
    });
  const checkpoints = await DynamoReplayCheckpoints.open(runtime.dynamo);
  const shardCheckpoints = new DynamoCheckpointStore(runtime.dynamo);
  const name = `rebuild:${projection.name}:g${generation.generation}`;
  let replayed: Pick<
    ReplaySummary,
    'resumed' | 'completed' | 'events' | 'scanned' | 'unreadable' | 'seconds' | 'events_per_second'
  >;
  let folded = { flushes: 0, peakFoldedBytes: 0 };
  let exports: string[] | undefined;
  let deferredStreams: number | undefined;
  let expiredStreams: number | undefined;
  let catchUpFrom: Date | undefined;
  if (options.archive) {
    const { storage, prefix } = options.archive;
    // An interrupted rebuild goes on with the exports it began with; otherwise the chain is
    // brought up to date, unless its end is recent: the catch-up reads the rest from the stream.
    const previousRun = await checkpoints.load(`${name}:archive`);
    if (previousRun?.status !== 'running')
      await chainUpToDate(
        storage,
        prefix,
        localExporter({ client: runtime.dynamo, table: runtime.store.table, storage, prefix }),
      );
    const chain = exportChain((await listExports(storage, prefix)).exports);
    const generationWork = {
      projection,
      documents: store,
      positions: new DynamoPositionStore(runtime.dynamo, consumer),
      consumer,
      events: runtime.store,
      codec: new CommitCodec(runtime.registry),
      budgetBytes: flushMb * 2 ** 20,
      onUnreadable,
    };
    const archived = runtime.store instanceof ArchivedEventStore ? runtime.store : undefined;
    const run = await replayArchive({
      storage,
      chain,
      name: `${name}:archive`,
      description: target.description,
      checkpoints,
      ...(options.archive.fileConcurrency ? { concurrency: options.archive.fileConcurrency } : {}),
      apply: (file, onPage) => applyExportFile({ ...generationWork, storage, file, onPage }),
      applyStreams: (ids, part) => applyDeferredStreams(generationWork, ids, part),
      // The streams of expired seasons: in the chain's files when an export was taken before
      // their expiry, not in those of an export taken after it. One writer applies them all,
      // read through the store (archive and table), the positions skipping what files applied.
      ...(archived ? { expired: async () => [...(await archived.seasons.all()).keys()] } : {}),
      ...(options.onProgress
        ? {
            onProgress: (p) =>
              options.onProgress?.({
                events: p.events,
                scanned: p.items,
                total: p.totalItems,
                ...(p.streams ? { streams: p.streams } : {}),
              }),
          }
        : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    expiredStreams = run.expired;
    replayed = {
      ...run,
      scanned: run.items,
      events_per_second: Math.round(run.events / Math.max(run.seconds, 0.001)),
    };
    folded = run;
    exports = [...run.exports];
    deferredStreams = run.deferred;
    const end = chain.at(-1)?.upTo;
    if (end) catchUpFrom = new Date(end);
  } else {
    // A scan that begins (not one going on): the consumer that will feed the generation
    // starts where the live read models' consumer stands now, since every record up to there
    // arrived, and so its commit was stored, before the scan begins. Without it, the
    // catch-up would read the whole stream from its oldest record.
    if ((await checkpoints.load(name))?.status !== 'running')
      await copyCheckpoints(
        runtime.kinesis,
        CHANGES_STREAM,
        shardCheckpoints,
        READ_MODELS_CONSUMER,
        consumer,
      );
    const scan = await replay({
      source: runtime.store,
      target,
      name,
      // Only what the read model reads: other streams get no positions from the replay; should
      // one of them move during the catch-up, the sequencer reads its earlier events then.
      ...(projection.eventTypes === '*' ? {} : { filters: { eventTypes: projection.eventTypes } }),
      checkpoints,
      ...(options.segments ? { segments: options.segments } : {}),
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      // Each checkpoint flushes first: this is the longest a flush waits.
      checkpointEveryMs: options.flushEveryMs ?? DEFAULT_FLUSH_EVERY_MS,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onUnreadable,
    });
    replayed = scan;
    folded = { flushes: target.flushes, peakFoldedBytes: target.peakFoldedBytes };
    // Every commit stored before the scan began was scanned, and a record arrives on the
    // stream after its commit: the catch-up passes over what arrived before, with a margin.
    catchUpFrom = new Date(Date.parse(scan.started_at) - CATCH_UP_MARGIN_MS);
  }
  const base = {
    projection: projection.name,
    source: options.archive ? ('archive' as const) : ('scan' as const),
    ...(exports
      ? { exports, deferred_streams: deferredStreams ?? 0, expired_streams: expiredStreams ?? 0 }
      : {}),
    generation: generation.generation,
    table: generation.table,
    previous_generation: previous.generation,
    projection_version: projection.version,
    previous_version: previous.projection_version,
    resumed: replayed.resumed,
    events: replayed.events,
    scanned: replayed.scanned,
    unreadable: replayed.unreadable,
    replay_seconds: replayed.seconds,
    scanned_per_second: Math.round(replayed.scanned / Math.max(replayed.seconds, 0.001)),
    flushes: folded.flushes,
    peak_folded_mb: Number((folded.peakFoldedBytes / 2 ** 20).toFixed(1)),
  };
  const interrupted = (): RebuildSummary => ({
    ...base,
    completed: false,
    switched: false,
    seconds: replayed.seconds,
    events_per_second: replayed.events_per_second,
    caught_up: 0,
    differences: null,
    difference_samples: [],
    fault: false,
  });
  if (!replayed.completed) return interrupted();
  // Catch up from the stream: what was appended during the replay, and anything after. The
  // streams it brings none of the read model's events of get no position. Counted: the events
  // that changed the generation; the rest of what the stream brings the replay had applied,
  // and the read model ignores them as repeats.
  let caughtUp = 0;
  const catchingUp = await runtime.addConsumer(
    consumer,
    async (events) => {
      // Read after the apply: the shards' batches apply at once, and `caughtUp +=` before
      // the await would add to the count as it was when this batch began.
      const applied = await projector.apply(events);
      caughtUp += applied;
    },
    {
      reads: (event) => projector.reads(event),
      skipFirstPositions: projection.guardsRepeats === true,
      // From the records that arrived after the exports' end (every commit up to it is in
      // the exports) or shortly before the scan began, not from the stream's oldest: a record
      // arrives after its commit. Those before are passed over unread, found from where the
      // live read models stand (a record in the shard) without reading them.
      ...(catchUpFrom
        ? {
            startingPositionTimestamp: catchUpFrom,
            startingPositionWitness: async (shardId: string) =>
              (await shardCheckpoints.get(READ_MODELS_CONSUMER, shardId))?.sequenceNumber,
          }
        : {}),
    },
  );
  // Interrupted after the replay (Ctrl-C during the catch-up or the comparison), it ends
  // interrupted too, switching nothing: its consumer stops, and its replay's checkpoint goes
  // back to running, every page done, so that run again, it goes on from there (a replay done
  // would begin anew), adding the consumer anew, which goes on from its positions.
  const stop = async () => {
    await catchingUp.stop();
    if (runtime.consumers.get(consumer)?.mapping === catchingUp) runtime.consumers.delete(consumer);
    const replayName = options.archive ? `${name}:archive` : name;
    const done = await checkpoints.load(replayName);
    if (done?.status === 'done') await checkpoints.save({ ...done, status: 'running' });
    return interrupted();
  };
  await runtime.settle();
  if (options.signal?.aborted) return stop();
  const sameVersion = projection.version === previous.projection_version;
  const compared =
    (options.verify ?? sameVersion)
      ? await compareTables(await pipeline.tableStore(previous.table), store)
      : null;
  if (options.signal?.aborted) return stop();
  const fault = sameVersion && (compared?.count ?? 0) > 0;
  const switched = !options.noSwitch && !fault;
  await registry.markBuilt(projection, generation.generation, switched);
  if (switched) pipeline.refreshReadModels();
  const seconds = (performance.now() - started) / 1000;
  return {
    ...base,
    completed: true,
    switched,
    seconds: Number(seconds.toFixed(3)),
    events_per_second: replayed.events_per_second,
    caught_up: caughtUp,
    differences: compared?.count ?? null,
    difference_samples: (compared?.differences ?? []).slice(0, 20),
    fault,
  };
}

/** Whether a table holds no document. */
async function isEmpty(store: DynamoDocumentStore): Promise<boolean> {
  for await (const page of store.scanAll(1)) if (page.length > 0) return false;
  return true;
}
