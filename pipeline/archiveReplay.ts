import type { DocumentStore } from '../projections/DocumentStore.js';
import type { Projection } from '../projections/Projection.js';
import { Projector } from '../projections/Projector.js';
import { ReadModelTarget } from '../projections/ReadModelTarget.js';
import type { ArchiveStorage } from '../stream/archive/ArchiveStorage.js';
import type { JsonItem, ManifestFile } from '../stream/archive/exportFormat.js';
import { type ArchivedExport, readDataFile } from '../stream/archive/readExport.js';
import { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import { DeferredPositionStore } from '../stream/consumer/DeferredPositionStore.js';
import type { PositionStore } from '../stream/consumer/PositionStore.js';
import type { Commit, CommitCodec } from '../stream/eventStore/Commit.js';
import { fromItem } from '../stream/eventStore/commitItem.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { readAllFilter } from '../stream/eventStore/filters.js';
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
  readonly events: Pick<EventStore, 'read'>;
  readonly codec: CommitCodec;
  /** Flush once the folded documents pass this many bytes (see `Projector.foldedBytes`). */
  readonly budgetBytes: number;
  /** Stored events that cannot be read, and the later events of their streams (held back). */
  readonly onUnreadable?: (event: UnreadableEvent) => Promise<void>;
  /** After each page: the items and events of it. */
  readonly onPage?: (items: number, events: number) => void;
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
  readonly seconds: number;
}

/**
 * Applies one data file of an export to a generation of a read model: its items decoded as
 * commits, their events upcast, passed through the positions of the generation's consumer
 * (so what was applied before is skipped and that consumer takes over where the files
 * stopped), folded per document and written once per flush, the positions after the
 * documents. The same function runs in a Distributed Map's iteration on AWS and in the local
 * pool. Run again after a failure, it applies nothing twice. A file whose items do not add
 * up to its manifest line fails after what it held was applied.
 */
export async function applyExportFile(work: ExportFileWork): Promise<ExportFileResult> {
  const started = performance.now();
  const where = `${work.storage.description}/${work.file.dataFileS3Key}`;
  const projector = new Projector(work.projection, work.documents);
  const positions = new DeferredPositionStore(work.positions);
  const sequencer = new AggregateSequencer({
    consumer: work.consumer,
    store: work.events,
    positions,
    apply: (events) => projector.fold(events),
  });
  const target = new ReadModelTarget(projector, `read model ${work.projection.name}`, {
    sequencer,
    positions,
    budgetBytes: work.budgetBytes,
  });
  const found: UnreadableEvent[] = [];
  const unreadable = new UnreadableEvents((event) => found.push(event), {});
  const keep = readAllFilter(
    work.projection.eventTypes === '*' ? {} : { eventTypes: work.projection.eventTypes },
  );
  const { pages, done } = readDataFile(work.storage, work.file);
  for await (const page of pages) {
    const commits = readableCommits(page, where, unreadable);
    // A stream's commits in sequence order, whatever the file's order.
    commits.sort(
      (a, b) =>
        (a.aggregate_id < b.aggregate_id ? -1 : a.aggregate_id > b.aggregate_id ? 1 : 0) ||
        a.sequence - b.sequence,
    );
    const envelopes = commits.flatMap((c) => work.codec.envelopes(c, keep, unreadable));
    if (envelopes.length > 0) await target.deliver(envelopes);
    for (const event of found.splice(0)) await work.onUnreadable?.(event);
    work.onPage?.(page.length, envelopes.length);
  }
  await target.flush();
  const read = await done;
  if (read.items !== work.file.itemCount)
    throw new StoreError(
      'CORRUPT_ARCHIVE',
      `${where} holds ${read.items} items, its manifest line says ${work.file.itemCount}`,
    );
  return {
    file: work.file.dataFileS3Key,
    items: read.items,
    events: target.applied,
    duplicates: target.duplicates,
    unreadable: unreadable.count,
    flushes: target.flushes,
    peakFoldedBytes: target.peakFoldedBytes,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
}

/** The items that are commits; a malformed one is reported unreadable (its stream held back). */
function readableCommits(items: readonly JsonItem[], where: string, unreadable: UnreadableEvents) {
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

/** The exports a rebuild reads, in order: the newest full export, then the incrementals after it. */
export function exportChain(exports: readonly ArchivedExport[]): ArchivedExport[] {
  const fullAt = exports.findLastIndex((e) => !e.incremental);
  if (fullAt < 0) return [];
  const chain = [exports[fullAt] as ArchivedExport];
  for (const e of exports.slice(fullAt + 1))
    if (e.incremental && e.summary.exportFromTime !== undefined) {
      const last = chain.at(-1) as ArchivedExport;
      // An incremental export continues the chain when it starts at or before its end.
      if (Date.parse(e.summary.exportFromTime) <= Date.parse(last.upTo)) chain.push(e);
    }
  return chain;
}

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
  readonly onProgress?: (progress: {
    readonly files: number;
    readonly filesDone: number;
    readonly items: number;
    readonly totalItems: number;
    readonly events: number;
  }) => void;
  readonly signal?: AbortSignal;
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
    flushes: 0,
    peakFoldedBytes: 0,
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
    started_at: startedAt,
    updated_at: new Date().toISOString(),
  });
  await options.checkpoints.save(snapshot('running'));
  const filesDone = () => done.filter((d) => d === null).length;
  const progress = (items: number, events: number) =>
    options.onProgress?.({
      files: files.length,
      filesDone: filesDone(),
      items,
      totalItems,
      events,
    });
  const stopped = () => options.signal?.aborted === true;

  for (let exportIndex = 0; exportIndex < options.chain.length && !stopped(); exportIndex++) {
    const pending = files
      .map((f, i) => ({ ...f, i }))
      .filter((f) => f.exportIndex === exportIndex && done[f.i] !== null);
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
        done[i] = null;
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
  }
  const completed = done.every((d) => d === null);
  await options.checkpoints.save(snapshot(completed ? 'done' : 'running'));
  return {
    resumed,
    completed,
    exports: options.chain.map((e) => e.id),
    files: files.length,
    items: state.items,
    events: state.events,
    duplicates: state.duplicates,
    unreadable: state.unreadable,
    flushes: state.flushes,
    peakFoldedBytes: state.peakFoldedBytes,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
}
