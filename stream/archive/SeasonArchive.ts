import type { Commit } from '../eventStore/Commit.js';
import { fromItem } from '../eventStore/commitItem.js';
import { StoreError } from '../StoreError.js';
import type { ArchiveStorage } from './ArchiveStorage.js';
import { readDataFile } from './readExport.js';
import {
  commitDigest,
  parseSeasonIndex,
  SEASONS_PREFIX,
  type SeasonIndex,
  type SeasonIndexStream,
} from './seasonIndex.js';

/** A stream of a season index, with the index it is in. */
export interface IndexedStream {
  readonly index: SeasonIndex;
  readonly stream: SeasonIndexStream;
}

export interface SeasonArchiveOptions {
  /**
   * A lookup that finds no index for a stream lists the archive's indexes again when the
   * last listing is older than this. An expiry waits longer than this between writing an
   * index and deleting the first commit (`EXPIRY_GRACE_MS`), so a reader never misses a
   * stream deleted after it last listed. @default INDEX_REFRESH_MS
   */
  readonly refreshMs?: number;
  /** Data files kept in memory (their commits of indexed streams only). @default 4 */
  readonly cachedFiles?: number;
  readonly now?: () => number;
}

/** How stale a listing of the season indexes may be when a stream is looked up. */
export const INDEX_REFRESH_MS = 5_000;

/**
 * The expired seasons of an archive as readers see them: the season indexes (listed under
 * `seasons/`, each loaded once: an index is written once and never changed), the streams
 * they hold, and those streams' commits read from the export data files the index names,
 * checked against the index's digests.
 */
export class SeasonArchive {
  private readonly indexes = new Map<string, SeasonIndex>();
  private readonly streams = new Map<string, IndexedStream>();
  private listedAt = Number.NEGATIVE_INFINITY;
  private listing: Promise<void> | undefined;
  private readonly files = new Map<string, Promise<Map<string, Commit[]>>>();
  private readonly refreshMs: number;
  private readonly cachedFiles: number;
  private readonly now: () => number;

  constructor(
    readonly storage: ArchiveStorage,
    options: SeasonArchiveOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? INDEX_REFRESH_MS;
    this.cachedFiles = Math.max(1, options.cachedFiles ?? 4);
    this.now = options.now ?? Date.now;
  }

  /** The indexed stream of this id, listing the indexes again if the listing is stale. */
  async lookup(aggregateId: string): Promise<IndexedStream | undefined> {
    const found = this.streams.get(aggregateId);
    if (found) return found;
    await this.refresh(false);
    return this.streams.get(aggregateId);
  }

  /** Every indexed stream (after listing the indexes again if the listing is stale). */
  async all(): Promise<ReadonlyMap<string, IndexedStream>> {
    await this.refresh(false);
    return this.streams;
  }

  /** Lists the indexes now, whatever the age of the last listing. */
  async reload(): Promise<void> {
    await this.refresh(true);
  }

  /** The stream's commits from the archive, in order, each checked against the index. */
  async commitsOf(indexed: IndexedStream): Promise<Commit[]> {
    const { index, stream } = indexed;
    const out: Commit[] = [];
    const byFile = new Map<number, Commit[]>();
    for (const file of new Set(stream.commits.map((c) => c.file))) {
      const key = index.files[file] as string;
      byFile.set(file, (await this.file(key)).get(stream.aggregate_id) ?? []);
    }
    for (const wanted of stream.commits) {
      const commit = byFile.get(wanted.file)?.find((c) => c.sequence === wanted.sequence);
      if (!commit || commitDigest(commit) !== wanted.digest)
        throw new StoreError(
          'CORRUPT_ARCHIVE',
          `${this.storage.description}/${index.files[wanted.file]}: the commit ${stream.aggregate_id}/${wanted.sequence} of the index of season ${index.season} is ${commit ? 'not the one indexed' : 'missing'}`,
          { aggregateId: stream.aggregate_id, sequence: wanted.sequence },
        );
      out.push(commit);
    }
    return out;
  }

  private async refresh(force: boolean): Promise<void> {
    if (!force && this.now() - this.listedAt < this.refreshMs) return;
    if (!this.listing)
      this.listing = (async () => {
        try {
          const started = this.now();
          for await (const object of this.storage.list(`${SEASONS_PREFIX}/`)) {
            if (!object.key.endsWith('/index.json') || this.indexes.has(object.key)) continue;
            const where = `${this.storage.description}/${object.key}`;
            const index = parseSeasonIndex(
              (await this.storage.read(object.key)).toString('utf8'),
              where,
            );
            this.indexes.set(object.key, index);
            for (const stream of index.streams)
              this.streams.set(stream.aggregate_id, { index, stream });
            // Files read before held only the streams known then.
            this.files.clear();
          }
          this.listedAt = started;
        } finally {
          this.listing = undefined;
        }
      })();
    await this.listing;
  }

  /** A data file's commits of indexed streams, by stream (the last few files kept). */
  private file(key: string): Promise<Map<string, Commit[]>> {
    const cached = this.files.get(key);
    if (cached) {
      // Most recently used last.
      this.files.delete(key);
      this.files.set(key, cached);
      return cached;
    }
    const loading = (async () => {
      const byStream = new Map<string, Commit[]>();
      const where = `${this.storage.description}/${key}`;
      const { pages } = readDataFile(this.storage, {
        dataFileS3Key: key,
        itemCount: 0,
        md5Checksum: '',
        etag: '',
      });
      for await (const page of pages)
        for (const item of page) {
          const id = item.aggregate_id?.S;
          if (id === undefined || !this.streams.has(id)) continue;
          const commit = fromItem(item, where);
          const list = byStream.get(id) ?? [];
          list.push(commit);
          byStream.set(id, list);
        }
      return byStream;
    })();
    loading.catch(() => this.files.delete(key));
    this.files.set(key, loading);
    while (this.files.size > this.cachedFiles) {
      const oldest = this.files.keys().next().value as string;
      this.files.delete(oldest);
    }
    return loading;
  }
}
