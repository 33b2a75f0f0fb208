import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { batchGetReliably } from '../aws/dynamoBatch.js';
import type { EventEnvelope, NewEvent } from '../EventEnvelope.js';
import type { Commit } from '../eventStore/Commit.js';
import {
  DynamoEventStore,
  type DynamoEventStoreOptions,
  type ScanKey,
  type ScanOptions,
  type ScanPage,
} from '../eventStore/DynamoEventStore.js';
import type { AppendResult, ReadOptions } from '../eventStore/EventStore.js';
import { commitOverlaps, readAllFilter, readFilter } from '../eventStore/filters.js';
import {
  type ReadsManyStreams,
  readEach,
  type WholeStreamOptions,
} from '../eventStore/readStreams.js';
import { ConcurrencyError, StoreError } from '../StoreError.js';
import type { IndexedStream, SeasonArchive } from './SeasonArchive.js';

export interface ArchivedEventStoreOptions extends DynamoEventStoreOptions {
  /** The season indexes of the archive, and the data files they point into. */
  readonly seasons: SeasonArchive;
}

/** The scan key of a segment that has finished the table and reads its expired streams. */
const ARCHIVED_KEY = 'archived_stream';
/** Expired streams read per page of a scan's archive part. */
const STREAMS_PER_PAGE = 100;

/**
 * The event store as one store over the table and the archive: a stream of a closed season
 * expired from the table (`matchstream archive expire`) reads from the export data files its
 * season index names, a stream still in the table from the table, in order, nothing twice.
 *
 * An expiry deletes a stream's commits oldest first, so the table always holds the end of
 * a stream, from some commit on: a read whose first commit the table does not hold takes
 * the commits before the table's first one from the archive (the index lists the stream
 * whole), which gives the same events before, during and after an expiry. A read the
 * table answers from its first asked sequence never looks at the archive.
 *
 * Appends after the end of an expired stream are refused (`STREAM_EXPIRED`): a closed season
 * takes no more events; the same events again are recognised as a repeat, as in the table.
 * Scans (replay, rebuild) leave the indexed streams out of the table's segments and read
 * them whole at the end of the segment their id hashes to, with a scan key that says where
 * they are, so an interrupted replay resumes there too.
 */
export class ArchivedEventStore extends DynamoEventStore implements ReadsManyStreams {
  readonly seasons: SeasonArchive;

  constructor(options: ArchivedEventStoreOptions) {
    super(options);
    this.seasons = options.seasons;
  }

  override async append(
    aggregateId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
  ): Promise<AppendResult> {
    const indexed = await this.seasons.lookup(aggregateId);
    if (!indexed) return super.append(aggregateId, expectedVersion, events);
    const first = await this.firstSequence(aggregateId);
    if (first === 1) return super.append(aggregateId, expectedVersion, events);
    return this.appendToExpired(aggregateId, expectedVersion, events, indexed, first);
  }

  /**
   * An append to a stream expired from the table, answered as the table answers one to a
   * stream it holds: the same events again at a position the stream holds are a repeat
   * (`duplicate`, as a feed ingested again after the expiry), any other at a stale version a
   * `ConcurrencyError` (the caller reads the stream, through the archive, and decides again).
   * Only an append after the stream's last event is refused (`STREAM_EXPIRED`).
   */
  private async appendToExpired(
    aggregateId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
    indexed: IndexedStream,
    first: number | undefined,
  ): Promise<AppendResult> {
    const commit = this.codec.build(aggregateId, expectedVersion, events);
    const repeat = this.codec.repeated(
      commit,
      await this.commitStartingAt(indexed, commit.sequence, first),
    );
    if (repeat) return repeat;
    // The table holds the end of the stream when it holds any of it.
    const version =
      first === undefined ? indexed.stream.last_sequence : await this.version(aggregateId);
    if (expectedVersion !== version)
      throw new ConcurrencyError(aggregateId, expectedVersion, version);
    throw new StoreError(
      'STREAM_EXPIRED',
      `stream ${aggregateId} was expired from the table with the closed season ${indexed.index.season}: a closed season takes no more events`,
      { aggregateId, sequence: commit.sequence, table: this.table },
    );
  }

  /** The stream's commit starting at `sequence`: the table's from its first commit on, else the archive's. */
  private async commitStartingAt(
    indexed: IndexedStream,
    sequence: number,
    first: number | undefined,
  ): Promise<Commit | undefined> {
    const id = indexed.stream.aggregate_id;
    if (first !== undefined && sequence >= first) return this.commitAt(id, sequence);
    if (!indexed.stream.commits.some((c) => c.sequence === sequence)) return undefined;
    return (await this.seasons.commitsOf(indexed)).find((c) => c.sequence === sequence);
  }

  override async read(aggregateId: string, options: ReadOptions = {}): Promise<EventEnvelope[]> {
    const commits = await this.readCommits(aggregateId, options);
    const events = this.envelopesOf(commits, options);
    const from = options.fromSequence ?? 1;
    if (events[0]?.sequence === from || (options.toSequence ?? from) < from) return events;
    const indexed = await this.seasons.lookup(aggregateId);
    if (!indexed) return events;
    // A read from the stream's start to its end found where the table begins it (nowhere,
    // when it found nothing), whatever of it could be decoded: no second query.
    const whole = from === 1 && options.toSequence === undefined;
    const first = whole ? commits[0]?.sequence : await this.firstSequence(aggregateId);
    if (first !== undefined && first > indexed.stream.last_sequence + 1)
      throw new StoreError(
        'CORRUPT_ARCHIVE',
        `stream ${aggregateId}: the archive holds it up to ${indexed.stream.last_sequence}, the table from ${first}`,
        { aggregateId, table: this.table },
      );
    // Below the table's first commit, the archive; from it on, the table (read before: a
    // commit deleted since is in the archive, and is taken from there).
    const below = first ?? Number.POSITIVE_INFINITY;
    const keep = readFilter(options);
    const archived = (await this.seasons.commitsOf(indexed))
      .filter((c) => c.sequence < below && commitOverlaps(c, options))
      .flatMap((c) => this.codec.envelopes(c, keep, options.unreadable));
    return [...archived, ...events.filter((e) => e.sequence >= below)];
  }

  /**
   * Whole streams, each as `read` gives it, with one request per hundred keys for the streams
   * of expired seasons instead of a Query each: the table is asked only whether it holds the
   * commit at each sequence the index starts a commit at, or the one after the stream's end.
   * A stream the table holds none of those for is read from the archive alone; any other is
   * read as `read` does (an expiry under way, or events appended after the index).
   *
   * Why those keys are enough: the table keys a commit by its stream and first sequence, and
   * an append after version v writes the commit starting at v + 1, where v is a version the
   * stream had (the end of one of its commits; `DynamoEventStore`). So every commit the table
   * can hold of an indexed stream starts at one of the index's commits (one not deleted yet,
   * or written again by a writer that read the stream as empty or as it was) or right after
   * its end (events appended after the index was written); later commits of such an appended
   * end only come after that one.
   */
  async readMany(
    ids: readonly string[],
    options: WholeStreamOptions = {},
  ): Promise<EventEnvelope[][]> {
    const indexed = await this.seasons.all();
    const keys: Record<string, AttributeValue>[] = [];
    for (const id of new Set(ids)) {
      const stream = indexed.get(id)?.stream;
      if (!stream) continue;
      for (const sequence of [...stream.commits.map((c) => c.sequence), stream.last_sequence + 1])
        keys.push(marshall({ aggregate_id: id, sequence }));
    }
    const found =
      keys.length === 0
        ? new Map()
        : await this.call(undefined, () =>
            batchGetReliably(this.client, this.table, keys, ['aggregate_id', 'sequence']),
          );
    const inTable = new Set([...found.values()].map((item) => item.aggregate_id?.S));
    const keep = readFilter(options);
    return readEach(ids, async (id) => {
      const archived = indexed.get(id);
      if (!archived || inTable.has(id)) return this.read(id, options);
      return (await this.seasons.commitsOf(archived)).flatMap((c) =>
        this.codec.envelopes(c, keep, options.unreadable),
      );
    });
  }

  override async *scanSegmentPages(
    segment: number,
    segments: number,
    options: ScanOptions = {},
  ): AsyncGenerator<ScanPage> {
    const indexed = await this.seasons.all();
    const excluded = new Set(indexed.keys());
    // This segment's expired streams, grouped by the data file they start in (read once).
    const ids = [...excluded]
      .filter((id) => segmentOf(id, segments) === segment)
      .sort((a, b) => {
        const fa = firstFile(indexed.get(a));
        const fb = firstFile(indexed.get(b));
        return fa < fb ? -1 : fa > fb ? 1 : a < b ? -1 : a > b ? 1 : 0;
      });
    const resumeAt = options.startKey?.[ARCHIVED_KEY]?.N;
    let position = resumeAt === undefined ? undefined : Number(resumeAt);
    if (position === undefined) {
      for await (const page of super.scanSegmentPages(segment, segments, {
        ...options,
        exclude: (id) => excluded.has(id) || (options.exclude?.(id) ?? false),
      }))
        yield page.next === null && ids.length > 0 ? { ...page, next: archivedKey(0) } : page;
      position = 0;
    }
    const keep = readAllFilter(options);
    const perPage = Math.max(1, Math.min(options.pageSize ?? STREAMS_PER_PAGE, STREAMS_PER_PAGE));
    for (let k = position; k < ids.length; k += perPage) {
      const page = ids.slice(k, k + perPage).filter((id) => !options.exclude?.(id));
      const streams = await this.readMany(
        page,
        options.unreadable ? { unreadable: options.unreadable } : {},
      );
      const events = streams.flatMap((stream) => stream.filter(keep));
      const scanned = page.reduce((n, id) => n + (indexed.get(id)?.stream.commits.length ?? 0), 0);
      yield {
        segment,
        events,
        scanned,
        next: k + perPage < ids.length ? archivedKey(k + perPage) : null,
      };
    }
  }
}

function archivedKey(position: number): ScanKey {
  return { [ARCHIVED_KEY]: { N: String(position) } as AttributeValue };
}

function firstFile(
  indexed:
    | { index: { files: readonly string[] }; stream: { commits: readonly { file: number }[] } }
    | undefined,
): string {
  const file = indexed?.stream.commits[0]?.file;
  return file === undefined ? '' : (indexed?.index.files[file] ?? '');
}

/** The scan segment a stream's id falls in (FNV-1a of the id). */
export function segmentOf(aggregateId: string, segments: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < aggregateId.length; i++) {
    hash ^= aggregateId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, segments);
}
