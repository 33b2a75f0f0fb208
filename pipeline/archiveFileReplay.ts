import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchivedEventStore } from '../stream/archive/ArchivedEventStore.js';
import type { ArchiveStorage } from '../stream/archive/ArchiveStorage.js';
import { APPEND_LANDS_WITHIN_MS } from '../stream/archive/exportTable.js';
import { type ArchivedExport, listExports, readDataFile } from '../stream/archive/readExport.js';
import type { CommitCodec } from '../stream/eventStore/Commit.js';
import type { fromItem } from '../stream/eventStore/commitItem.js';
import { readAllFilter } from '../stream/eventStore/filters.js';
import { type ReadsManyStreams, readStreams } from '../stream/eventStore/readStreams.js';
import { type UnreadableEvent, UnreadableEvents } from '../stream/eventStore/UnreadableEvents.js';
import { Mutex } from '../stream/Mutex.js';
import { envelopeLines } from '../stream/replay/FileTarget.js';
import {
  closedOnFailure,
  type ReplayCheckpoint,
  type ReplayCheckpoints,
  type ReplayFilters,
  type ReplayTarget,
} from '../stream/replay/replay.js';
import { StoreError } from '../stream/StoreError.js';
import { byCodeUnits, readableCommits } from './archiveReplay.js';

/** A stored item as a data file or a table scan gives it. */
export type StoredItem = Parameters<typeof fromItem>[0];

/** A target that takes JSON Lines already written (a file, standard output). */
export type LinesTarget = Pick<
  ReplayTarget,
  'description' | 'position' | 'resumeAt' | 'begin' | 'close'
> & {
  /** Appends whole lines as `envelopeLines` writes them. */
  writeText(bytes: Buffer): Promise<void>;
};

export interface ArchiveToFileOptions {
  readonly storage: ArchiveStorage;
  /** The export chain to read (`exportChain`), brought up to date by the caller. */
  readonly chain: readonly ArchivedExport[];
  readonly target: LinesTarget;
  /** The checkpoint's name: the same name continues an interrupted run. */
  readonly name: string;
  readonly checkpoints: ReplayCheckpoints;
  readonly codec: CommitCodec;
  readonly filters?: ReplayFilters;
  /** Ignore a checkpoint and start over. */
  readonly restart?: boolean;
  /** Data files read at once. @default 4 */
  readonly concurrency?: number;
  /**
   * The commits committed after `after` (ISO-8601), in pages, from the table: what the chain
   * does not hold. Left out, the replay ends at the chain's end.
   */
  readonly tail?: (after: string) => AsyncIterable<readonly StoredItem[]>;
  /**
   * The store over the table and the archive, whose seasons expired from the table are read
   * from the archive's indexes: their streams are left out of the chain's files and the tail,
   * and written whole after them, read through the store, so each is written once whichever
   * exports hold it (an export taken after the expiry holds none of it). None: no such phase.
   */
  readonly expired?: Pick<ArchivedEventStore, 'seasons' | 'read'> & Partial<ReadsManyStreams>;
  /** Expired streams a unit holds (each unit written whole and checkpointed). @default 1000 */
  readonly expiredPerUnit?: number;
  /** Where each file's lines wait until the file is read whole. @default the system's temporary folder */
  readonly spoolDir?: string;
  readonly onProgress?: (progress: ArchiveFileProgress) => void;
  /** Stored events that cannot be read, and the later events of their streams (held back). */
  readonly onUnreadable?: (event: UnreadableEvent) => Promise<void>;
  readonly signal?: AbortSignal;
}

export interface ArchiveFileProgress {
  readonly files: number;
  readonly filesDone: number;
  /** Items (commits) read so far, and in the chain's manifests. */
  readonly items: number;
  readonly totalItems: number;
  readonly events: number;
}

export interface ArchiveFileSummary {
  readonly name: string;
  readonly target: string;
  readonly source: 'archive';
  /** The exports read, oldest first. */
  readonly exports: readonly string[];
  /** The chain's end: every commit up to it is in the exports. */
  readonly up_to: string | null;
  readonly resumed: boolean;
  readonly completed: boolean;
  /** Events written. */
  readonly events: number;
  /** Items read: the data files' commits, then the table's after the chain. */
  readonly scanned: number;
  readonly files: number;
  /** Commits read again (in two exports, or in an export and the table after it): written once. */
  readonly duplicates: number;
  readonly unreadable: number;
  /** The commits after the chain's end, read from the table; null when not read. */
  readonly tail: { readonly after: string; readonly items: number; readonly events: number } | null;
  /** Streams of expired seasons, left out of the files and the tail and read through the store. */
  readonly expired_streams: number;
  readonly seconds: number;
  readonly events_per_second: number;
}

/**
 * The fingerprint of a run: what it reads and where it writes, and the expired streams it
 * reads through the store (how many, a unit's size, a digest of their ids; none: left out,
 * as before there were any).
 */
function fingerprintOf(
  target: string,
  filters: ReplayFilters,
  exports: readonly string[],
  expired: readonly string[],
  perUnit: number,
) {
  return JSON.stringify({
    target,
    filters,
    source: 'archive',
    exports,
    ...(expired.length > 0
      ? {
          expired: `${expired.length}/${perUnit}:${createHash('sha256').update(expired.join('\n')).digest('base64url')}`,
        }
      : {}),
  });
}

/** Expired streams a unit of the replay reads: one checkpoint each. */
const EXPIRED_STREAMS_PER_UNIT = 1000;
/** Expired streams a page of a unit holds (read together, `readStreams`). */
const EXPIRED_PAGE = 100;

/** What a page of a unit writes: its lines, and what it read. */
interface PageLines {
  readonly text: string;
  readonly events: number;
  readonly items: number;
  readonly duplicates: number;
}

/**
 * The exports an interrupted archive replay under `name` was reading, from the archive, so
 * that it goes on with them; undefined when there is no such run (or it is done).
 */
export async function interruptedChain(
  checkpoints: ReplayCheckpoints,
  name: string,
  storage: ArchiveStorage,
  prefix: string,
): Promise<ArchivedExport[] | undefined> {
  const previous = await checkpoints.load(name);
  if (previous?.status !== 'running') return undefined;
  const ids = (JSON.parse(previous.fingerprint) as { exports?: unknown }).exports;
  if (!Array.isArray(ids)) return undefined;
  const { exports } = await listExports(storage, prefix);
  const chain = ids.map((id) => exports.find((e) => e.id === id));
  if (chain.some((e) => e === undefined))
    throw new StoreError(
      'CORRUPT_ARCHIVE',
      `the interrupted replay "${name}" read exports ${ids.join(', ')}, and ${storage.description} no longer holds them all: start over`,
    );
  return chain as ArchivedExport[];
}

/**
 * Replays the store into a file through the archive: every data file of the export chain
 * (the full export's `concurrency` at a time, then each incremental export's), then, with
 * `tail`, the commits the table holds after the chain's end, then, with `expired`, the
 * streams of expired seasons read whole through the store (left out of the files and the
 * tail), a thousand streams a unit. Each item is decoded as a commit
 * and its events upcast and filtered as a scan's are (`readAllFilter`, `aggregateIds`);
 * unreadable ones are reported and their streams held back, as a scan does.
 *
 * A commit is written once however many exports hold it: one committed well before the
 * chain's first boundary (a minute before the full export's time and the first incremental
 * export's start) can be in the full export only; every later one is remembered by its key
 * and skipped when read again (an incremental export overlapping the one before, or the
 * table's commits after the chain's end).
 *
 * Files are read side by side, each into a spool file, and a file's lines go to the target
 * whole once it has been read through and matched its manifest line (items and MD5; a
 * mismatch is a `CORRUPT_ARCHIVE` error naming it). Each file written is checkpointed with the
 * target's size, so an interrupted run continues with the files not written (the target cut
 * back to the checkpoint); it first reads the files it had written again, for the keys of the
 * commits past that boundary, and writes nothing of them.
 */
export async function replayArchiveToFile(
  options: ArchiveToFileOptions,
): Promise<ArchiveFileSummary> {
  return closedOnFailure(options.target, () => replayArchiveAll(options));
}

async function replayArchiveAll(options: ArchiveToFileOptions): Promise<ArchiveFileSummary> {
  const started = performance.now();
  const filters = options.filters ?? {};
  const { chain, storage } = options;
  const exports = chain.map((e) => e.id);
  const files = chain.flatMap((e, exportIndex) => e.files.map((file) => ({ file, exportIndex })));
  const upTo = chain.at(-1)?.upTo ?? null;
  const tailAt = files.length;
  // The expired streams: left out of the files and the tail, read whole after them, in units.
  const indexed = options.expired ? await options.expired.seasons.all() : new Map();
  const ids = filters.aggregateIds ? new Set(filters.aggregateIds) : undefined;
  const expiredIds = [...indexed.keys()].filter((id) => !ids || ids.has(id)).sort(byCodeUnits);
  const perUnit = options.expiredPerUnit ?? EXPIRED_STREAMS_PER_UNIT;
  const expiredUnits = Array.from({ length: Math.ceil(expiredIds.length / perUnit) }, (_, k) =>
    expiredIds.slice(k * perUnit, (k + 1) * perUnit),
  );
  const units = files.length + 1 + expiredUnits.length;
  const fingerprint = fingerprintOf(
    options.target.description,
    filters,
    exports,
    expiredIds,
    perUnit,
  );
  const previous = options.restart ? undefined : await options.checkpoints.load(options.name);
  if (previous?.status === 'running' && previous.fingerprint !== fingerprint)
    throw new Error(
      `replay "${options.name}" was interrupted with other settings (${previous.fingerprint}); run it with those, or start over with a new name or --restart`,
    );
  const resumed = previous?.status === 'running';
  const done: (null | undefined)[] = Array.from({ length: units }, (_, i) =>
    resumed && previous.keys[i] === null ? null : undefined,
  );
  const state = {
    items: resumed ? previous.scanned : 0,
    events: resumed ? previous.events : 0,
    duplicates: 0,
    tail: null as ArchiveFileSummary['tail'],
  };
  const found: UnreadableEvent[] = [];
  const unreadable = new UnreadableEvents(
    (event) => found.push(event),
    resumed ? (previous.poisoned_streams ?? {}) : {},
  );
  const unreadableBefore = resumed ? (previous.unreadable ?? 0) : 0;
  const sendUnreadable = async () => {
    for (const event of found.splice(0)) await options.onUnreadable?.(event);
  };
  const startedAt = resumed ? previous.started_at : new Date().toISOString();
  const snapshot = (status: ReplayCheckpoint['status']): ReplayCheckpoint => ({
    name: options.name,
    status,
    fingerprint,
    segments: units,
    keys: [...done],
    streams_done: 0,
    target_position: options.target.position?.() ?? 0,
    events: state.events,
    scanned: state.items,
    unreadable: unreadableBefore + unreadable.count,
    poisoned_streams: unreadable.streams(),
    started_at: startedAt,
    updated_at: new Date().toISOString(),
  });
  if (resumed) await options.target.resumeAt?.(previous.target_position);
  else await options.target.begin?.();
  await options.checkpoints.save(snapshot('running'));

  // Before this instant a commit can be in the full export only (see above).
  const boundary =
    Math.min(
      ...chain.map((e, i) =>
        i === 0 ? Date.parse(e.upTo) : Date.parse(e.summary.exportFromTime ?? e.upTo),
      ),
    ) - APPEND_LANDS_WITHIN_MS;
  const seen = new Set<string>();
  const wanted = (item: StoredItem) => {
    const id = item.aggregate_id?.S ?? '';
    return (!ids || ids.has(id)) && !indexed.has(id);
  };
  /** True the first time a commit past the boundary is met, false after. */
  const firstTime = (item: StoredItem): boolean => {
    const committed = Date.parse(item.committed_at?.S ?? '');
    if (committed <= boundary) return true;
    const key = `${item.aggregate_id?.S ?? ''}\u0000${item.sequence?.N ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  const keep = readAllFilter(filters);
  /** A page's lines: its new commits in stream order, their events decoded and filtered. */
  const linesOf = (items: readonly StoredItem[], where: string) => {
    let duplicates = 0;
    const fresh = items.filter((item) => {
      if (!wanted(item)) return false;
      if (firstTime(item)) return true;
      duplicates++;
      return false;
    });
    const commits = readableCommits(fresh, where, unreadable);
    commits.sort(
      (a, b) =>
        (a.aggregate_id < b.aggregate_id ? -1 : a.aggregate_id > b.aggregate_id ? 1 : 0) ||
        a.sequence - b.sequence,
    );
    const envelopes = commits.flatMap((c) => options.codec.envelopes(c, keep, unreadable));
    return {
      text: envelopes.length > 0 ? envelopeLines(envelopes) : '',
      events: envelopes.length,
      items: items.length,
      duplicates,
    };
  };
  async function* linesOfPages(
    pages: AsyncIterable<readonly StoredItem[]>,
    where: string,
  ): AsyncGenerator<PageLines> {
    for await (const page of pages) yield linesOf(page, where);
  }
  /** An expired unit's lines: its streams read whole through the store, a page at a time. */
  async function* expiredLines(
    store: NonNullable<ArchiveToFileOptions['expired']>,
    unitIds: readonly string[],
  ): AsyncGenerator<PageLines> {
    for (let k = 0; k < unitIds.length && !stopped(); k += EXPIRED_PAGE) {
      const page = unitIds.slice(k, k + EXPIRED_PAGE);
      const envelopes = (await readStreams(store, page, { unreadable })).flatMap((stream) =>
        stream.filter(keep),
      );
      yield {
        text: envelopes.length > 0 ? envelopeLines(envelopes) : '',
        events: envelopes.length,
        items: page.reduce((n, id) => n + (indexed.get(id)?.stream.commits.length ?? 0), 0),
        duplicates: 0,
      };
    }
  }

  const totalItems =
    chain.reduce((sum, e) => sum + e.summary.itemCount, 0) +
    expiredIds.reduce((n, id) => n + (indexed.get(id)?.stream.commits.length ?? 0), 0);
  const progress = (items: number, events: number) =>
    options.onProgress?.({
      files: files.length,
      filesDone: done.slice(0, files.length).filter((d) => d === null).length,
      items,
      totalItems,
      events,
    });
  let failed = false;
  const stopped = () => failed || options.signal?.aborted === true;
  const spoolDir = await mkdtemp(join(options.spoolDir ?? tmpdir(), 'matchstream-replay-'));
  const writer = new Mutex();
  // In flight: what files being read hold so far, for progress.
  const reading = { items: 0, events: 0 };

  /**
   * Reads a unit (a data file, or the table after the chain) into its spool file; once read
   * whole and not stopped, writes the spool to the target and checkpoints it as done.
   */
  const unit = async (
    index: number,
    pages: AsyncIterable<PageLines>,
    check: () => Promise<void>,
  ): Promise<{ items: number; events: number } | undefined> => {
    const spool = join(spoolDir, `${index}.jsonl`);
    const handle = await open(spool, 'w');
    let items = 0;
    let events = 0;
    let duplicates = 0;
    try {
      for await (const lines of pages) {
        if (lines.text !== '') await handle.write(lines.text);
        items += lines.items;
        events += lines.events;
        duplicates += lines.duplicates;
        reading.items += lines.items;
        reading.events += lines.events;
        await sendUnreadable();
        progress(state.items + reading.items, state.events + reading.events);
        if (stopped()) break;
      }
    } finally {
      await handle.close();
      reading.items -= items;
      reading.events -= events;
    }
    if (stopped()) {
      await rm(spool, { force: true });
      return undefined;
    }
    await check();
    await writer.run(async () => {
      for await (const chunk of createReadStream(spool))
        await options.target.writeText(chunk as Buffer);
      state.items += items;
      state.events += events;
      state.duplicates += duplicates;
      done[index] = null;
      await options.checkpoints.save(snapshot('running'));
    });
    await rm(spool, { force: true });
    progress(state.items + reading.items, state.events + reading.events);
    return { items, events };
  };

  try {
    // A resumed run learns which commits past the boundary the files it wrote held.
    for (const [i, { file }] of files.entries())
      if (done[i] === null)
        for await (const page of readDataFile(storage, file).pages)
          for (const item of page) if (wanted(item)) firstTime(item);

    for (let exportIndex = 0; exportIndex < chain.length && !stopped(); exportIndex++) {
      const pending = files
        .map((f, i) => ({ ...f, i }))
        .filter((f) => f.exportIndex === exportIndex && done[f.i] !== null);
      let next = 0;
      const worker = async () => {
        for (let k = next++; k < pending.length && !stopped(); k = next++) {
          const { file, i } = pending[k] as (typeof pending)[number];
          const where = `${storage.description}/${file.dataFileS3Key}`;
          const { pages, done: read } = readDataFile(storage, file);
          await unit(i, linesOfPages(pages, where), async () => {
            const { items, md5 } = await read;
            const checksumOk = !file.md5Checksum || md5 === file.md5Checksum;
            if (items !== file.itemCount || !checksumOk)
              throw new StoreError(
                'CORRUPT_ARCHIVE',
                `${where} holds ${items} items, its manifest line says ${file.itemCount}${checksumOk ? '' : ', and its MD5 differs'}: the export does not match its manifest`,
              );
          });
        }
      };
      // One file failing stops the others before the spools go.
      const results = await Promise.allSettled(
        Array.from(
          { length: Math.max(1, Math.min(options.concurrency ?? 4, pending.length)) },
          () =>
            worker().catch((error: unknown) => {
              failed = true;
              throw error;
            }),
        ),
      );
      const failure = results.find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
    }

    if (options.tail && upTo !== null && !stopped() && done[tailAt] !== null) {
      // From a little before the end: an append may land that long after its committed_at.
      const after = new Date(Date.parse(upTo) - APPEND_LANDS_WITHIN_MS).toISOString();
      const read = await unit(
        tailAt,
        linesOfPages(options.tail(after), 'the events table'),
        async () => {},
      );
      if (read) state.tail = { after: upTo, ...read };
    } else if (!options.tail || upTo === null) done[tailAt] = null;

    const expired = options.expired;
    for (const [k, unitIds] of expiredUnits.entries()) {
      const index = tailAt + 1 + k;
      if (stopped() || !expired) break;
      if (done[index] !== null) await unit(index, expiredLines(expired, unitIds), async () => {});
    }
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
  await sendUnreadable();
  await options.target.close?.();
  const completed = !stopped() && done.every((d) => d === null);
  await options.checkpoints.save(snapshot(completed ? 'done' : 'running'));
  const seconds = (performance.now() - started) / 1000;
  return {
    name: options.name,
    target: options.target.description,
    source: 'archive',
    exports,
    up_to: upTo,
    resumed,
    completed,
    events: state.events,
    scanned: state.items,
    files: files.length,
    duplicates: state.duplicates,
    unreadable: unreadableBefore + unreadable.count,
    tail: state.tail,
    expired_streams: expiredIds.length,
    seconds: Number(seconds.toFixed(3)),
    events_per_second: Math.round(state.events / Math.max(seconds, 0.001)),
  };
}
