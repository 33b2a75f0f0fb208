import { createHash } from 'node:crypto';
import type { Commit } from '../eventStore/Commit.js';
import { toItem } from '../eventStore/commitItem.js';
import { StoreError } from '../StoreError.js';
import { jsonItem } from './exportFormat.js';

/**
 * The index of a season expired from the events table, kept in the archive beside the
 * exports (`seasons/<season>/index.json`, the season URI-encoded), JSON, written whole once,
 * before the first commit is deleted:
 *
 * ```json
 * {"format": "matchstream-season-index", "version": 1, "season": "2025",
 *  "created_at": "...", "exports": ["<export id>", ...],
 *  "files": ["events/AWSDynamoDB/<export id>/data/<name>.json.gz", ...],
 *  "streams": [{"aggregate_id": "match:2025-001", "last_sequence": 2,
 *               "commits": [{"sequence": 1, "last_sequence": 2, "file": 0, "digest": "..."}]}],
 *  "stream_count": 1, "commit_count": 1, "event_count": 2}
 * ```
 *
 * Each stream is listed whole (its commits from sequence 1 to `last_sequence`, in order),
 * each commit with the data file of the export chain that holds it (`file`, an index into
 * `files`) and the digest of its content (`commitDigest`), which readers check. When the
 * expiry has deleted every listed commit it can, it writes `seasons/<season>/expired.json`.
 */
export interface SeasonIndex {
  readonly format: typeof INDEX_FORMAT;
  readonly version: 1;
  readonly season: string;
  readonly created_at: string;
  /** The export chain whose files hold the commits, oldest first. */
  readonly exports: readonly string[];
  /** Data files (keys in the archive) the commits are in. */
  readonly files: readonly string[];
  /** By aggregate id. */
  readonly streams: readonly SeasonIndexStream[];
  readonly stream_count: number;
  readonly commit_count: number;
  readonly event_count: number;
}

export interface SeasonIndexStream {
  readonly aggregate_id: string;
  /** The stream's last sequence: the stream is indexed from sequence 1 to this. */
  readonly last_sequence: number;
  readonly commits: readonly IndexedCommit[];
}

export interface IndexedCommit {
  readonly sequence: number;
  readonly last_sequence: number;
  /** Index into `SeasonIndex.files`. */
  readonly file: number;
  readonly digest: string;
}

/** What `expired.json` says once an expiry is done. */
export interface SeasonExpiry {
  readonly season: string;
  readonly completed_at: string;
  readonly streams: number;
  readonly commits_deleted: number;
}

export const INDEX_FORMAT = 'matchstream-season-index';
/** Where the seasons' indexes are in the archive (beside `events/`, the exports). */
export const SEASONS_PREFIX = 'seasons';

export function seasonFolder(season: string): string {
  return `${SEASONS_PREFIX}/${encodeURIComponent(season)}`;
}
export function seasonIndexKey(season: string): string {
  return `${seasonFolder(season)}/index.json`;
}
export function seasonExpiryKey(season: string): string {
  return `${seasonFolder(season)}/expired.json`;
}

/**
 * A commit's content as a digest (SHA-256, base64): the item it is stored as, without
 * anything but the commit (the local relay's marker), so the table's copy and an export's
 * compare equal.
 */
export function commitDigest(commit: Commit): string {
  return createHash('sha256')
    .update(JSON.stringify(jsonItem(toItem(commit))))
    .digest('base64');
}

/** An index read back, checked field by field; `where` names it in errors. */
export function parseSeasonIndex(text: string, where: string): SeasonIndex {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StoreError('CORRUPT_ARCHIVE', `${where}: not JSON`);
  }
  const index = parsed as Partial<SeasonIndex> | null;
  if (
    !index ||
    typeof index !== 'object' ||
    index.format !== INDEX_FORMAT ||
    index.version !== 1 ||
    typeof index.season !== 'string' ||
    !Array.isArray(index.files) ||
    !Array.isArray(index.streams) ||
    !Array.isArray(index.exports)
  )
    throw new StoreError('CORRUPT_ARCHIVE', `${where}: not a season index (${INDEX_FORMAT} 1)`);
  for (const stream of index.streams) {
    let next = 1;
    for (const c of stream.commits ?? []) {
      if (c.sequence !== next || c.last_sequence < c.sequence || index.files[c.file] === undefined)
        throw new StoreError(
          'CORRUPT_ARCHIVE',
          `${where}: the commits of ${stream.aggregate_id} are not whole from sequence 1`,
          { aggregateId: stream.aggregate_id },
        );
      next = c.last_sequence + 1;
    }
    if (next - 1 !== stream.last_sequence)
      throw new StoreError(
        'CORRUPT_ARCHIVE',
        `${where}: ${stream.aggregate_id} ends at ${next - 1}, not at ${stream.last_sequence}`,
        { aggregateId: stream.aggregate_id },
      );
  }
  return index as SeasonIndex;
}
