import { createHash } from 'node:crypto';
import type { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import { keyString, type Projection } from '../projections/Projection.js';
import { Projector } from '../projections/Projector.js';
import { generationConsumer } from '../projections/ReadModelRegistry.js';
import { ReadModelTarget } from '../projections/ReadModelTarget.js';
import { ArchivedEventStore } from '../stream/archive/ArchivedEventStore.js';
import type { FolderStorage } from '../stream/archive/ArchiveStorage.js';
import { exportTableLocally } from '../stream/archive/exportTable.js';
import { listExports } from '../stream/archive/readExport.js';
import { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import { DeferredPositionStore } from '../stream/consumer/DeferredPositionStore.js';
import { DynamoPositionStore } from '../stream/consumer/DynamoPositionStore.js';
import { CommitCodec } from '../stream/eventStore/Commit.js';
import { DynamoReplayCheckpoints } from '../stream/replay/ReplayCheckpoints.js';
import { type ReplayProgress, type ReplaySummary, replay } from '../stream/replay/replay.js';
import {
  applyDeferredStreams,
  applyExportFile,
  exportChain,
  replayArchive,
} from './archiveReplay.js';
import type { EmbeddedPipeline } from './embeddedPipeline.js';

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
  readonly onProgress?: (progress: ReplayProgress) => void;
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

/**
 * The default memory budget of a rebuild's folded documents, in MB. Folding 100,000 events
 * of each main read model without a flush, the heap they held was 0.9 to 1.4 times the
 * estimate (bench/README.md, "Rebuilds folding pages"), so 64 MB keeps what a rebuild folds
 * under about 90 MB of heap (twice that while a flush writes and the next pages fold),
 * whatever the size of the store (a 1,000,000-event `matches` rebuild folded
 * whole would hold about 3 GB), while a flush still gathers 20,000 (`matches`) to 120,000
 * (`pipeline-stats`) events.
 */
export const DEFAULT_FLUSH_MB = 64;
/**
 * A rebuild through the archive reuses an export chain whose end is at most this old, and
 * adds an incremental export to one that is older: the stream holds what came after (the
 * catch-up reads it), so this only bounds how much of the stream the catch-up reads. DynamoDB's
 * incremental exports cover at least 15 minutes, so the local archive keeps to the same.
 */
export const FRESH_EXPORT_MS = 15 * 60_000;

/** How often a rebuild flushes at the latest, and saves its checkpoint. */
export const DEFAULT_FLUSH_EVERY_MS = 5000;

/** A document that differs between two generations. */
export interface DocumentDifference {
  readonly pk: string;
  readonly sk: string;
  readonly kind: 'missing' | 'extra' | 'changed';
}

export interface RebuildSummary {
  readonly projection: string;
  /** Where the replay read the store: the table (`scan`) or the archive's export chain. */
  readonly source: 'scan' | 'archive';
  /** The exports read, oldest first (`archive` only). */
  readonly exports?: readonly string[];
  /** Streams a data file left for after its export's files, read from the store (`archive` only). */
  readonly deferred_streams?: number;
  /**
   * Streams of expired seasons read through the store after the chain's files (`archive`
   * only): those the files held are skipped by the positions.
   */
  readonly expired_streams?: number;
  readonly generation: number;
  readonly table: string;
  readonly previous_generation: number;
  /** The read model's version in the code, which built the new generation. */
  readonly projection_version: number;
  /** The version that built the active generation when the rebuild began. */
  readonly previous_version: number;
  /** True when an interrupted rebuild of this generation was continued. */
  readonly resumed: boolean;
  /** False when interrupted: run it again to continue. */
  readonly completed: boolean;
  readonly switched: boolean;
  /** Events of the types the read model reads, applied by the replay. */
  readonly events: number;
  /** Commits (stored items) the replay read. */
  readonly scanned: number;
  /** How long the replay took (the rest is the catch-up, the comparison and the switch). */
  readonly replay_seconds: number;
  /** Commits read per second by the replay. */
  readonly scanned_per_second: number;
  readonly seconds: number;
  readonly events_per_second: number;
  /**
   * Stored events the replay could not read (corrupt bytes, an unknown schema) and the later
   * events of their streams, held back as the live consumer holds them: each dead-lettered
   * under the consumer `rebuild:<read model>`, with why.
   */
  readonly unreadable: number;
  /** Times the replay wrote what it had folded (the documents, then the positions). */
  readonly flushes: number;
  /** The most the folded documents held between two flushes, in MB (estimated heap). */
  readonly peak_folded_mb: number;
  /** Events the new generation's consumer applied while catching up from the stream. */
  readonly caught_up: number;
  /** Documents that differ from the active generation (0 when identical; null: not compared). */
  readonly differences: number | null;
  readonly difference_samples: readonly DocumentDifference[];
  /**
   * True when the new generation differs from the active one although the same version of
   * the read model built both: a fault (a lost or corrupt document, in one generation or the
   * other), not a change of logic. The rebuild then does not switch; the new generation is
   * kept, fed and inactive, for a look and an explicit `projections activate` or `drop`.
   */
  readonly fault: boolean;
}

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
  const projector = new Projector(projection, store);
  const consumer = generationConsumer(projection.name, generation.generation);
  // The replay folds pages and writes them at each flush: the documents, then the
  // positions, which wait in memory until then.
  const positions = new DeferredPositionStore(new DynamoPositionStore(runtime.dynamo, consumer));
  const sequencer = new AggregateSequencer({
    consumer,
    store: runtime.store,
    positions,
    apply: (events) => projector.fold(events),
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
    if (previousRun?.status !== 'running') {
      const chain = exportChain((await listExports(storage, prefix)).exports);
      const end = chain.at(-1)?.upTo;
      if (end === undefined)
        await exportTableLocally({
          client: runtime.dynamo,
          table: runtime.store.table,
          storage,
          prefix,
        });
      else if (Date.now() - Date.parse(end) > FRESH_EXPORT_MS)
        await exportTableLocally({
          client: runtime.dynamo,
          table: runtime.store.table,
          storage,
          prefix,
          incremental: { from: end },
        });
    }
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
    const run = await replayArchive({
      storage,
      chain,
      name: `${name}:archive`,
      description: target.description,
      checkpoints,
      ...(options.archive.fileConcurrency ? { concurrency: options.archive.fileConcurrency } : {}),
      apply: (file, onPage) => applyExportFile({ ...generationWork, storage, file, onPage }),
      applyStreams: (ids) => applyDeferredStreams(generationWork, ids),
      ...(options.onProgress
        ? {
            onProgress: (p) =>
              options.onProgress?.({ events: p.events, scanned: p.items, total: p.totalItems }),
          }
        : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // The streams of expired seasons: in the chain's files when an export was taken before
    // their expiry, not in those of an export taken after it. One writer applies them all,
    // read through the store (archive and table), the positions skipping what files applied.
    let expired = { events: 0, streams: 0 };
    if (run.completed && runtime.store instanceof ArchivedEventStore) {
      const ids = [...(await runtime.store.seasons.all()).keys()].sort();
      expired = { ...(await applyDeferredStreams(generationWork, ids)), streams: ids.length };
    }
    expiredStreams = expired.streams;
    replayed = {
      ...run,
      events: run.events + expired.events,
      scanned: run.items,
      events_per_second: Math.round((run.events + expired.events) / Math.max(run.seconds, 0.001)),
    };
    folded = run;
    exports = [...run.exports];
    deferredStreams = run.deferred;
    const end = chain.at(-1)?.upTo;
    if (end) catchUpFrom = new Date(end);
  } else {
    replayed = await replay({
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
    folded = { flushes: target.flushes, peakFoldedBytes: target.peakFoldedBytes };
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
  if (!replayed.completed) {
    return {
      ...base,
      completed: false,
      switched: false,
      seconds: replayed.seconds,
      events_per_second: replayed.events_per_second,
      caught_up: 0,
      differences: null,
      difference_samples: [],
      fault: false,
    };
  }
  // Catch up from the stream: what was appended during the replay, and anything after. The
  // streams it brings none of the read model's events of get no position.
  await runtime.addConsumer(consumer, (events) => projector.apply(events), {
    reads: (event) => projector.reads(event),
    // After an archive's replay, from the records that arrived after the exports' end: every
    // commit up to it is in the exports, and a record arrives after its commit.
    ...(catchUpFrom ? { startingPositionTimestamp: catchUpFrom } : {}),
  });
  await runtime.settle();
  const caughtUp = runtime.consumers.get(consumer)?.counts.applied ?? 0;
  const sameVersion = projection.version === previous.projection_version;
  const differences =
    (options.verify ?? sameVersion)
      ? await compareTables(await pipeline.tableStore(previous.table), store)
      : null;
  const fault = sameVersion && (differences?.length ?? 0) > 0;
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
    differences: differences?.length ?? null,
    difference_samples: (differences ?? []).slice(0, 20),
    fault,
  };
}

/**
 * Every document that is not the same in both tables: `missing` from the rebuilt one, `extra`
 * in it, or `changed` (compared as JSON values: the order of keys does not matter). Only a
 * digest of each live document is held, so a large read model is compared in little memory.
 */
export async function compareTables(
  live: DynamoDocumentStore,
  rebuilt: DynamoDocumentStore,
): Promise<DocumentDifference[]> {
  const digests = new Map<string, { pk: string; sk: string; digest: string }>();
  for await (const page of live.scanAll())
    for (const d of page) digests.set(keyString(d), { pk: d.pk, sk: d.sk, digest: digest(d.doc) });
  const out: DocumentDifference[] = [];
  for await (const page of rebuilt.scanAll())
    for (const d of page) {
      const other = digests.get(keyString(d));
      if (!other) out.push({ pk: d.pk, sk: d.sk, kind: 'extra' });
      else if (other.digest !== digest(d.doc)) out.push({ pk: d.pk, sk: d.sk, kind: 'changed' });
      digests.delete(keyString(d));
    }
  for (const d of digests.values()) out.push({ pk: d.pk, sk: d.sk, kind: 'missing' });
  return out;
}

/** A digest of a JSON value that does not depend on the order of its keys. */
function digest(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('base64');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}
