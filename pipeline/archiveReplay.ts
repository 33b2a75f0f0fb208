import type { DocumentStore } from '../projections/DocumentStore.js';
import type { Projection } from '../projections/Projection.js';
import { Projector } from '../projections/Projector.js';
import { ReadModelTarget } from '../projections/ReadModelTarget.js';
import type { ArchiveStorage } from '../stream/archive/ArchiveStorage.js';
import type { ManifestFile } from '../stream/archive/exportFormat.js';
import { type ArchivedExport, readDataFile } from '../stream/archive/readExport.js';
import { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import { DeferredPositionStore } from '../stream/consumer/DeferredPositionStore.js';
import type { PositionStore } from '../stream/consumer/PositionStore.js';
import type { Commit, CommitCodec } from '../stream/eventStore/Commit.js';
import { fromItem } from '../stream/eventStore/commitItem.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { readAllFilter } from '../stream/eventStore/filters.js';
import { type ReadsManyStreams, readStreams } from '../stream/eventStore/readStreams.js';
import { type UnreadableEvent, UnreadableEvents } from '../stream/eventStore/UnreadableEvents.js';
import type { ReplayCheckpoint, ReplayCheckpoints } from '../stream/replay/replay.js';
import { StoreError } from '../stream/StoreError.js';

/** What the per-file work needs: the file, and the generation it applies to. */
export interface ExportFileWork {
  readonly storage: ArchiveStorage;
  readonly file: ManifestFile;
  readonly projection: Projection;
  /** The new generation's documents. */
  readonly documents: DocumentStore;
  /** The positions of the consumer that feeds the generation afterwards. */
  readonly positions: PositionStore;
  readonly consumer: string;
  /** Where a stream's earlier events are read when a file brings a later one first. */
  readonly events: Pick<EventStore, 'read'> & Partial<ReadsManyStreams>;
  readonly codec: CommitCodec;
  /** Flush once the folded documents pass this many bytes (see `Projector.foldedBytes`). */
  readonly budgetBytes: number;
  /** Stored events that cannot be read, and the later events of their streams (held back). */
  readonly onUnreadable?: (event: UnreadableEvent) => Promise<void>;
  /** After each page: the items and events of it. */
  readonly onPage?: (items: number, events: number) => void;
  /**
   * Where an earlier call on the same file stopped: the items it read (skipped here), and the
   * streams it deferred (still deferred). None: from the file's start.
   */
  readonly resume?: { readonly from: number; readonly deferred: readonly string[] };
  /**
   * The first page read at or past this time (by `now`) is the call's last, applied without
   * the commits of its last stream (unless that is all it holds): then flush, and say where
   * the next call goes on (`done` false, `next_item`). None: the whole file.
   */
  readonly until?: number;
  readonly now?: () => number;
  /** Items a page of the file holds at most. @default 1000 */
  readonly pageItems?: number;
}

export interface ExportFileResult {
  readonly file: string;
  /** Items of the file (commits), as its manifest line counts them. */
  readonly items: number;
  /** Events of the types the read model reads, applied (not applied before). */
  readonly events: number;
  /** Events of those types applied before (by an earlier run, or an earlier export). */
  readonly duplicates: number;
  readonly unreadable: number;
  readonly flushes: number;
  /** The most the folded documents held between flushes (bytes, `foldedBytes`). */
  readonly peakFoldedBytes: number;
  /** Streams left to `applyDeferredStreams`: their first commit here came after a gap. */
  readonly deferred: readonly string[];
  readonly seconds: number;
}

/** What one call on a file did: a part of it (`until` passed) or the rest of it. */
export interface ExportFilePart extends ExportFileResult {
  /** Whether the file is read to its end; if not, `items` counts what was read so far. */
  readonly done: boolean;
  /** The item the next call starts from (`resume.from`). */
  readonly next_item: number;
}

/** The parts of the per-file work that stand for the generation, not the file. */
type GenerationWork = Omit<
  ExportFileWork,
  'storage' | 'file' | 'onPage' | 'resume' | 'until' | 'now' | 'pageItems'
>;

/** The folding target of a generation: documents folded, written once per flush, positions after. */
function generationTarget(work: GenerationWork) {
  const projector = new Projector(work.projection, work.documents);
  const positions = new DeferredPositionStore(work.positions);
  const sequencer = new AggregateSequencer({
    consumer: work.consumer,
    store: work.events,
    positions,
    apply: (events) => projector.fold(events),
    skipFirstPositions: work.projection.guardsRepeats === true,
  });
  const target = new ReadModelTarget(projector, `read model ${work.projection.name}`, {
    sequencer,
    positions,
    budgetBytes: work.budgetBytes,
  });
  const keep = readAllFilter(
    work.projection.eventTypes === '*' ? {} : { eventTypes: work.projection.eventTypes },
  );
  return { target, positions, keep };
}

/**
 * Applies one data file of an export to a generation of a read model: its items decoded as
 * commits, their events upcast, passed through the positions of the generation's consumer
 * (so what was applied before is skipped and that consumer takes over where the files
 * stopped), folded per document and written once per flush, the positions after the
 * documents. The same function runs in a Distributed Map's iteration on AWS and in the local
 * pool. Run again after a failure, it applies nothing twice. A file whose items do not add
 * up to its manifest line fails after what it held was applied.
 *
 * Files are applied side by side, and a document has one writer: the events of one stream.
 * A stream whose commits an export splits over two files (DynamoDB does not say it never
 * does) would have two. So a file applies a stream only from where its stored position
 * stands: a stream whose first commit in the file comes later than the next one due is left
 * to `applyDeferredStreams`, which runs once the export's files are done and reads the
 * stream from the store. Its ids come back in `deferred`.
 */
export async function applyExportFile(work: ExportFileWork): Promise<ExportFilePart> {
  const started = performance.now();
  const where = `${work.storage.description}/${work.file.dataFileS3Key}`;
  const { target, positions, keep } = generationTarget(work);
  const found: UnreadableEvent[] = [];
  const unreadable = new UnreadableEvents((event) => found.push(event), {});
  // A call that stops leaves the commits of its last page's last stream (in the file's order)
  // to the next call, so that a stream the file holds in one run is not split between calls.
  // A stream split anyway (one that runs over a page, or a file whose streams are not each
  // in one run) is looked at again by the next call: its position says whether it goes on,
  // or, when only its first event was applied and so no position written, defers it;
  // applyDeferredStreams then applies it from the store, its repeats ignored by the read
  // model and counted again in `events`.
  const accepted = new Set<string>();
  const deferred = new Set<string>(work.resume?.deferred ?? []);
  const now = work.now ?? Date.now;
  const from = work.resume?.from ?? 0;
  const { pages, done, consumed } = readDataFile(work.storage, work.file, work.pageItems, from);
  let stopped = false;
  let heldBack = 0;
  for await (const read of pages) {
    let page = read;
    stopped = work.until !== undefined && now() >= work.until && consumed() < work.file.itemCount;
    if (stopped) {
      const last = page.at(-1)?.aggregate_id?.S;
      let cut = page.length;
      while (cut > 0 && page[cut - 1]?.aggregate_id?.S === last) cut--;
      // (A page of one stream is applied whole: the call must get somewhere.)
      if (cut > 0) {
        heldBack = page.length - cut;
        page = page.slice(0, cut);
      }
    }
    const commits = readableCommits(page, where, unreadable);
    // A stream's commits in sequence order, whatever the file's order.
    commits.sort(
      (a, b) =>
        (a.aggregate_id < b.aggregate_id ? -1 : a.aggregate_id > b.aggregate_id ? 1 : 0) ||
        a.sequence - b.sequence,
    );
    const first = new Map<string, number>();
    for (const c of commits)
      if (
        !accepted.has(c.aggregate_id) &&
        !deferred.has(c.aggregate_id) &&
        !first.has(c.aggregate_id)
      )
        first.set(c.aggregate_id, c.sequence);
    // A stream that starts here at its first event follows on from any position: only the
    // others' positions are read.
    const later = [...first].flatMap(([id, sequence]) => (sequence > 1 ? [id] : []));
    const stored = later.length > 0 ? await positions.positions(later) : new Map<string, number>();
    for (const [id, sequence] of first)
      if (sequence > (stored.get(id) ?? 0) + 1) deferred.add(id);
      else accepted.add(id);
    const envelopes = commits
      .filter((c) => !deferred.has(c.aggregate_id))
      .flatMap((c) => work.codec.envelopes(c, keep, unreadable));
    if (envelopes.length > 0) await target.deliver(envelopes);
    for (const event of found.splice(0)) await work.onUnreadable?.(event);
    work.onPage?.(page.length, envelopes.length);
    if (stopped) break;
  }
  await target.flush();
  const items = stopped ? consumed() - heldBack : (await done).items;
  if (!stopped && items !== work.file.itemCount)
    throw new StoreError(
      'CORRUPT_ARCHIVE',
      `${where} holds ${items} items, its manifest line says ${work.file.itemCount}`,
    );
  return {
    file: work.file.dataFileS3Key,
    items,
    events: target.applied,
    duplicates: target.duplicates,
    unreadable: unreadable.count,
    flushes: target.flushes,
    peakFoldedBytes: target.peakFoldedBytes,
    deferred: [...deferred],
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    done: !stopped,
    next_item: items,
  };
}

/**
 * Where `applyDeferredStreams` starts in its list of streams, and when it stops: for a call
 * that must end in time (a function's), going on in the next call from `next`.
 */
export interface DeferredStreamsPart {
  /** The index of the first stream to apply. @default 0 */
  readonly from?: number;
  /**
   * No chunk of streams is begun at or past this time (by `now`); at least one chunk is
   * applied, so that each call gets somewhere. None: the whole list.
   */
  readonly until?: number;
  readonly now?: () => number;
  /** Streams delivered at once. @default DEFERRED_CHUNK */
  readonly chunk?: number;
  /** Once aborted, no chunk is begun: the call flushes what it applied and says where it stopped. */
  readonly signal?: AbortSignal;
  /** After each chunk is delivered: the index the next one starts from, and the events applied so far. */
  readonly onChunk?: (next: number, events: number) => void;
}

/**
 * Applies the streams the files of an export left (`deferred`), one writer for them all:
 * each read from the store and passed through the generation's positions, which skip what
 * the files applied. Runs once every file of the export is done, before the next export's.
 * With `part.until` (or once `part.signal` is aborted), it stops between chunks, flushes, and
 * returns the index to go on from (`next`, `done` false); run again from an earlier index
 * (after a failure), it applies nothing twice.
 */
export async function applyDeferredStreams(
  work: GenerationWork,
  ids: readonly string[],
  part: DeferredStreamsPart = {},
): Promise<{
  readonly events: number;
  readonly duplicates: number;
  readonly next: number;
  readonly done: boolean;
}> {
  const { target, keep } = generationTarget(work);
  const size = part.chunk ?? DEFERRED_CHUNK;
  const now = part.now ?? Date.now;
  let start = part.from ?? 0;
  if (!(Number.isSafeInteger(start) && start >= 0 && start <= ids.length))
    throw new Error(
      `the deferred streams' list has ${ids.length} streams; cannot start at ${start}`,
    );
  if (!(Number.isSafeInteger(size) && size >= 1))
    throw new Error(`a chunk of deferred streams must hold at least one (got ${size})`);
  // Streams read together (`readStreams`), and delivered a chunk at once (each stream's
  // events in order: the positions of a chunk read in one request).
  for (let first = true; start < ids.length; first = false) {
    if (part.signal?.aborted) break;
    if (!first && part.until !== undefined && now() >= part.until) break;
    const chunk = ids.slice(start, start + size);
    const events = (await readStreams(work.events, chunk)).flatMap((stream) => stream.filter(keep));
    if (events.length > 0) await target.deliver(events);
    start += chunk.length;
    part.onChunk?.(start, target.applied);
  }
  await target.flush();
  return {
    events: target.applied,
    duplicates: target.duplicates,
    next: start,
    done: start >= ids.length,
  };
}

/** Streams `applyDeferredStreams` delivers at once (the positions of 100: one BatchGetItem). */
const DEFERRED_CHUNK = 100;

/** The items that are commits; a malformed one is reported unreadable (its stream held back). */
export function readableCommits(
  items: readonly Parameters<typeof fromItem>[0][],
  where: string,
  unreadable: UnreadableEvents,
): Commit[] {
  const commits: Commit[] = [];
  for (const item of items) {
    try {
      commits.push(fromItem(item, where));
    } catch (error) {
      unreadable.unreadable({
        aggregate_id: item.aggregate_id?.S ?? '?',
        sequence: Number(item.sequence?.N ?? Number.NaN),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return commits;
}

export { exportChain } from '../stream/archive/exportChain.js';

export interface ArchiveReplayOptions {
  readonly storage: ArchiveStorage;
  readonly chain: readonly ArchivedExport[];
  /** The checkpoint's name: the same name continues an interrupted run. */
  readonly name: string;
  readonly description: string;
  readonly checkpoints: ReplayCheckpoints;
  /** Files applied at once. @default 4 */
  readonly concurrency?: number;
  /** Applies one file (`applyExportFile` with the generation's stores). */
  readonly apply: (
    file: ManifestFile,
    onPage: (items: number, events: number) => void,
  ) => Promise<ExportFileResult>;
  /**
   * Applies streams read from the store (`applyDeferredStreams`): those the files of an export
   * deferred, and the `expired` ones.
   */
  readonly applyStreams: (
    ids: readonly string[],
    part: DeferredStreamsPart,
  ) => Promise<{
    readonly events: number;
    readonly duplicates: number;
    readonly next: number;
    readonly done: boolean;
  }>;
  /**
   * Streams to apply from the store once every export's files are done: those of the seasons
   * expired from the table, which an export taken after their expiry does not hold. Applied
   * in order of id, in parts of `partMs` each written and checkpointed, so an interrupted
   * run goes on after the last stream written. None: no such phase.
   */
  readonly expired?: () => Promise<readonly string[]>;
  /** The longest a part of the expired streams runs before it is written and checkpointed. @default 5000 */
  readonly partMs?: number;
  readonly onProgress?: (progress: ArchiveReplayProgress) => void;
  readonly signal?: AbortSignal;
}

/** How far a replay through the archive has got. */
export interface ArchiveReplayProgress {
  readonly files: number;
  readonly filesDone: number;
  readonly items: number;
  readonly totalItems: number;
  readonly events: number;
  /** While streams are applied from the store after files: which, and how many of them. */
  readonly streams?: {
    /** `deferred`: an export's files left them; `expired`: their seasons left the table. */
    readonly kind: 'deferred' | 'expired';
    readonly done: number;
    readonly total: number;
  };
}

export interface ArchiveReplaySummary {
  readonly resumed: boolean;
  readonly completed: boolean;
  readonly exports: readonly string[];
  readonly files: number;
  readonly items: number;
  /** Events applied to the generation. */
  readonly events: number;
  /** Events the files held again (a commit in two exports), skipped. */
  readonly duplicates: number;
  /** Streams a file left for after its export's files (`applyExportFile`). */
  readonly deferred: number;
  /** Streams of the `expired` phase: all of the list, those a resumed run had applied too. */
  readonly expired: number;
  readonly unreadable: number;
  readonly flushes: number;
  readonly peakFoldedBytes: number;
  readonly seconds: number;
}

/**
 * Applies the files of an export chain: the full export's, `concurrency` at a time, then each
 * incremental export's in turn (a stream's later commits after its earlier ones). Each file
 * done is checkpointed, so an interrupted run continues with the files not done (a file cut
 * short is applied again from its start: its positions skip what it had written).
 */
export async function replayArchive(options: ArchiveReplayOptions): Promise<ArchiveReplaySummary> {
  const started = performance.now();
  const files = options.chain.flatMap((e, exportIndex) =>
    e.files.map((file) => ({ file, exportIndex })),
  );
  const fingerprint = JSON.stringify({
    target: options.description,
    exports: options.chain.map((e) => e.id),
  });
  const previous = await options.checkpoints.load(options.name);
  const resumed = previous?.status === 'running' && previous.fingerprint === fingerprint;
  const done: (null | undefined)[] = resumed
    ? files.map((_, i) => (previous.keys[i] === null ? null : undefined))
    : files.map(() => undefined);
  const totalItems = options.chain.reduce((sum, e) => sum + e.summary.itemCount, 0);
  const state = {
    items: resumed ? previous.scanned : 0,
    events: resumed ? previous.events : 0,
    unreadable: resumed ? (previous.unreadable ?? 0) : 0,
    duplicates: 0,
    deferred: 0,
    flushes: 0,
    peakFoldedBytes: 0,
    streamsThrough: resumed ? previous.streams_through : undefined,
  };
  const startedAt = resumed ? previous.started_at : new Date().toISOString();
  const snapshot = (status: ReplayCheckpoint['status']): ReplayCheckpoint => ({
    name: options.name,
    status,
    fingerprint,
    segments: files.length,
    keys: [...done],
    streams_done: 0,
    target_position: 0,
    events: state.events,
    scanned: state.items,
    unreadable: state.unreadable,
    ...(state.streamsThrough === undefined ? {} : { streams_through: state.streamsThrough }),
    started_at: startedAt,
    updated_at: new Date().toISOString(),
  });
  await options.checkpoints.save(snapshot('running'));
  const filesDone = () => done.filter((d) => d === null).length;
  const progress = (items: number, events: number, streams?: ArchiveReplayProgress['streams']) =>
    options.onProgress?.({
      files: files.length,
      filesDone: filesDone(),
      items,
      totalItems,
      events,
      ...(streams ? { streams } : {}),
    });
  const stopped = () => options.signal?.aborted === true;

  for (let exportIndex = 0; exportIndex < options.chain.length && !stopped(); exportIndex++) {
    const pending = files
      .map((f, i) => ({ ...f, i }))
      .filter((f) => f.exportIndex === exportIndex && done[f.i] !== null);
    const deferred = new Set<string>();
    let next = 0;
    const worker = async () => {
      for (let k = next++; k < pending.length && !stopped(); k = next++) {
        const { file, i } = pending[k] as (typeof pending)[number];
        // Within a file, counted as it goes; a file's counts are kept once it is done.
        let fileItems = 0;
        let fileEvents = 0;
        const result = await options.apply(file, (items, events) => {
          fileItems += items;
          fileEvents += events;
          progress(state.items + fileItems, state.events + fileEvents);
        });
        state.items += result.items;
        state.events += result.events;
        state.duplicates += result.duplicates;
        state.unreadable += result.unreadable;
        state.flushes += result.flushes;
        state.peakFoldedBytes = Math.max(state.peakFoldedBytes, result.peakFoldedBytes);
        for (const id of result.deferred) deferred.add(id);
        // A file with deferred streams is done once they are applied, after its export's files.
        if (result.deferred.length === 0) done[i] = null;
        await options.checkpoints.save(snapshot('running'));
        progress(state.items, state.events);
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.max(1, Math.min(options.concurrency ?? 4, pending.length)) },
        worker,
      ),
    );
    if (!stopped() && deferred.size > 0) {
      const ids = [...deferred];
      const applied = await options.applyStreams(ids, {
        ...(options.signal ? { signal: options.signal } : {}),
        onChunk: (next, events) =>
          progress(state.items, state.events + events, {
            kind: 'deferred',
            done: next,
            total: ids.length,
          }),
      });
      // Stopped midway, the export's files that deferred stay to do, and their streams with them.
      if (applied.done) {
        state.events += applied.events;
        state.duplicates += applied.duplicates;
        state.deferred += deferred.size;
        for (const f of pending) done[f.i] = null;
        await options.checkpoints.save(snapshot('running'));
      }
    }
  }
  const filesCompleted = done.every((d) => d === null);
  let expired = { streams: 0, done: true };
  if (filesCompleted && options.expired) expired = await applyExpired(options.expired);
  // Stopped while its last files were in flight, it has applied them all, but it was told to
  // stop: not completed (the rebuild neither catches up nor switches), and run again, it goes
  // on from its checkpoint, every file done.
  const completed = filesCompleted && expired.done && !stopped();
  await options.checkpoints.save(snapshot(completed ? 'done' : 'running'));
  return {
    resumed,
    completed,
    exports: options.chain.map((e) => e.id),
    files: files.length,
    items: state.items,
    events: state.events,
    duplicates: state.duplicates,
    deferred: state.deferred,
    expired: expired.streams,
    unreadable: state.unreadable,
    flushes: state.flushes,
    peakFoldedBytes: state.peakFoldedBytes,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };

  /**
   * The expired streams after the last one a checkpoint names, in order of id, a part at a
   * time: each part written (by `applyStreams`) before the checkpoint names its last stream.
   */
  async function applyExpired(list: () => Promise<readonly string[]>) {
    const all = [...(await list())].sort(byCodeUnits);
    const through = state.streamsThrough;
    const ids = through === undefined ? all : all.filter((id) => id > through);
    const before = all.length - ids.length;
    let from = 0;
    while (from < ids.length && !stopped()) {
      const part = await options.applyStreams(ids, {
        from,
        until: Date.now() + (options.partMs ?? DEFAULT_PART_MS),
        ...(options.signal ? { signal: options.signal } : {}),
        onChunk: (next, events) =>
          progress(state.items, state.events + events, {
            kind: 'expired',
            done: before + next,
            total: all.length,
          }),
      });
      state.events += part.events;
      state.duplicates += part.duplicates;
      if (part.next > from) state.streamsThrough = ids[part.next - 1];
      from = part.next;
      await options.checkpoints.save(snapshot('running'));
    }
    return { streams: all.length, done: from >= ids.length };
  }
}

/** How long a part of the expired streams runs before it is written and checkpointed. */
const DEFAULT_PART_MS = 5000;

/** Strings in the order of their UTF-16 code units, as `<` compares them. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
