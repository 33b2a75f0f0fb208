import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { backoffDelay, describeError, isRetryableError, sleep } from '../aws/backoff.js';
import { scanSegments } from '../aws/scanSegments.js';
import type { EventEnvelope } from '../EventEnvelope.js';
import type { Commit, CommitCodec } from '../eventStore/Commit.js';
import { fromItem } from '../eventStore/commitItem.js';
import { StoreError } from '../StoreError.js';
import { type ArchiveStorage, S3Storage } from './ArchiveStorage.js';
import { exportChain } from './exportChain.js';
import { type ArchivedExport, listExports, readDataFile, verifyExport } from './readExport.js';
import { INDEX_REFRESH_MS } from './SeasonArchive.js';
import {
  commitDigest,
  INDEX_FORMAT,
  type IndexedCommit,
  parseSeasonIndex,
  type SeasonExpiry,
  type SeasonIndex,
  type SeasonIndexStream,
  seasonExpiryKey,
  seasonIndexKey,
} from './seasonIndex.js';

type Item = Record<string, AttributeValue>;

/**
 * How a stream's season is found, one event at a time: `undefined` while no event has
 * named one, a season when every event so far that names one names it, `null` when the
 * stream belongs to no single season (an event of another season, or of a kind that spans
 * seasons: a team, a saga). Only streams that end with a season are expired with it.
 */
export type SeasonFold = (
  state: string | null | undefined,
  event: EventEnvelope,
) => string | null | undefined;

/**
 * How long an expiry waits between writing a season's index and deleting its first commit:
 * longer than a reader's listing of the indexes may be stale (`INDEX_REFRESH_MS`), so a
 * reader that finds a stream gone from the table finds it in the index.
 */
export const EXPIRY_GRACE_MS = INDEX_REFRESH_MS + 1_000;

export interface ExpireSeasonOptions {
  readonly client: DynamoDBClient;
  /** The events table. */
  readonly table: string;
  readonly codec: CommitCodec;
  readonly storage: ArchiveStorage;
  /** The exports' prefix in the archive (`events`). */
  readonly prefix: string;
  readonly season: string;
  readonly seasonOf: SeasonFold;
  /** @default EXPIRY_GRACE_MS */
  readonly graceMs?: number;
  /** Parallel scan segments of the table. @default 4 */
  readonly segments?: number;
  /** Told the commits of each round of deletes once they are gone (the local change relay's REMOVE records). */
  readonly onRemoved?: (commits: readonly Commit[]) => Promise<void>;
  /** Attempts per delete, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  readonly onProgress?: (progress: ExpireProgress) => void;
  /** Stops after the current round of deletes: run again to finish. */
  readonly signal?: AbortSignal;
}

export interface ExpireProgress {
  readonly phase: 'verifying' | 'scanning' | 'locating' | 'deleting';
  readonly done: number;
  readonly total: number;
}

/** A stream whose commits (from `sequence` on) stay in the table, and why. */
export interface KeptStream {
  readonly aggregate_id: string;
  readonly sequence: number;
  readonly reason: string;
}

export interface ExpireSummary {
  readonly season: string;
  /** The index's key in the archive. */
  readonly index: string;
  /** False when an earlier, interrupted run had written it. */
  readonly index_created: boolean;
  readonly exports: readonly string[];
  readonly streams: number;
  readonly commits: number;
  readonly events: number;
  /** Commits deleted by this run. */
  readonly deleted: number;
  /** Indexed commits still in the table (kept, or left by a stop). */
  readonly remaining: number;
  readonly kept: readonly KeptStream[];
  /** Every indexed commit is gone from the table: `expired.json` is written. */
  readonly completed: boolean;
}

/**
 * Expires a closed season's streams from the events table, the archive keeping them:
 *
 * 1. Without an index yet: the export chain (the newest full export and the incremental
 *    ones after it) is verified by reading every data file back; the table is scanned for the
 *    season's streams (`seasonOf`: every event naming this season, none of another or of a
 *    stream that spans seasons); each of their commits must be in the chain with the same
 *    content (by digest), or nothing happens (`EXPIRY_REFUSED`). The index is written whole,
 *    then the expiry waits `graceMs` for readers to see it.
 * 2. With the index (written now, or by an interrupted run, whose exports are verified
 *    again): each indexed stream's commits still in the table are deleted oldest first, one
 *    commit per stream per round (BatchWriteItem, every unprocessed or failed delete retried
 *    with backoff), so the table holds the end of each stream at every moment and readers
 *    (`ArchivedEventStore`) read it whole. A commit the index does not hold as it is, or that
 *    the local relay has not forwarded yet, stops its stream there (kept, and reported), as
 *    does a delete that still fails: nothing is lost. Run again, it goes on.
 * 3. When nothing indexed is left in the table, `expired.json` is written.
 *
 * The caller checks that the season is closed.
 */
export async function expireSeason(options: ExpireSeasonOptions): Promise<ExpireSummary> {
  const { storage, season } = options;
  const indexKey = seasonIndexKey(season);
  let index = await readIndex(storage, indexKey);
  const created = index === undefined;
  if (index === undefined) {
    index = await buildIndex(options);
    if (index.streams.length === 0)
      throw new StoreError(
        'EXPIRY_REFUSED',
        `the table holds no stream wholly in season ${season}: nothing to expire`,
        { table: options.table },
      );
    await storage.write(indexKey, `${JSON.stringify(index)}\n`);
    await sleep(options.graceMs ?? EXPIRY_GRACE_MS, options.signal);
  } else {
    const { exports } = await listExports(storage, options.prefix);
    const named = exports.filter((e) => index?.exports.includes(e.id));
    if (named.length !== index.exports.length)
      throw new StoreError(
        'CORRUPT_ARCHIVE',
        `${storage.description}/${indexKey} names exports the archive does not hold: ${index.exports.filter((id) => !named.some((e) => e.id === id)).join(', ')}`,
      );
    await verifyAll(options, named);
  }
  const { deleted, remaining, kept } = await deleteIndexed(options, index);
  const completed = remaining === 0;
  if (completed) {
    const expiry: SeasonExpiry = {
      season,
      completed_at: new Date().toISOString(),
      streams: index.stream_count,
      commits_deleted: index.commit_count,
    };
    await storage.write(seasonExpiryKey(season), `${JSON.stringify(expiry)}\n`);
  }
  return {
    season,
    index: indexKey,
    index_created: created,
    exports: index.exports,
    streams: index.stream_count,
    commits: index.commit_count,
    events: index.event_count,
    deleted,
    remaining,
    kept,
    completed,
  };
}

/** The season's index if the archive holds it. */
export async function readIndex(
  storage: ArchiveStorage,
  key: string,
): Promise<SeasonIndex | undefined> {
  for await (const object of storage.list(key))
    if (object.key === key)
      return parseSeasonIndex(
        (await storage.read(key)).toString('utf8'),
        `${storage.description}/${key}`,
      );
  return undefined;
}

async function verifyAll(
  options: ExpireSeasonOptions,
  chain: readonly ArchivedExport[],
): Promise<void> {
  const total = chain.reduce((n, e) => n + e.files.length, 0);
  let done = 0;
  for (const archived of chain) {
    const verification = await verifyExport(options.storage, archived, () => {
      options.onProgress?.({ phase: 'verifying', done: ++done, total });
    });
    if (!verification.ok)
      throw new StoreError(
        'EXPIRY_REFUSED',
        `export ${archived.id} does not match its manifest (${verification.mismatches[0]?.file ?? `${verification.items_read} items read, ${verification.items_in_manifest} in the summary`}): take a new full export ("${exportCommand(options)}")`,
      );
  }
}

/** A stream of the season as the table holds it. */
interface Candidate {
  readonly commits: { sequence: number; last_sequence: number; digest: string }[];
  events: number;
}

/**
 * The command that exports the table into the archive the expiry reads: on AWS the deployed
 * table into the bucket (`--aws --table --bucket`), so that the command given is one that
 * makes the export this expiry needs, not one of a data folder.
 */
function exportCommand(
  options: Pick<ExpireSeasonOptions, 'storage' | 'table'>,
  incremental = '',
): string {
  return options.storage instanceof S3Storage
    ? `matchstream archive export${incremental} --aws --table ${options.table} --bucket ${options.storage.bucket}`
    : `matchstream archive export${incremental}`;
}

async function buildIndex(options: ExpireSeasonOptions): Promise<SeasonIndex> {
  const { storage, season } = options;
  const chain = exportChain((await listExports(storage, options.prefix)).exports);
  if (chain.length === 0)
    throw new StoreError(
      'EXPIRY_REFUSED',
      `the archive (${storage.description}) holds no export: run "${exportCommand(options)}" first`,
    );
  await verifyAll(options, chain);

  // The season's streams, from the table (the system of record).
  const states = new Map<string, string | null | undefined>();
  const streams = new Map<string, Candidate>();
  const segments = Math.max(1, options.segments ?? 4);
  let scanned = 0;
  await scanSegments(
    options.client,
    { TableName: options.table, ConsistentRead: true },
    segments,
    (items) => {
      for (const item of items) {
        const commit = fromItem(item, options.table);
        const id = commit.aggregate_id;
        let state = states.get(id);
        if (state === null) continue;
        for (const event of options.codec.envelopes(commit)) state = options.seasonOf(state, event);
        states.set(id, state);
        if (state === null) {
          streams.delete(id);
          continue;
        }
        const candidate = streams.get(id) ?? { commits: [], events: 0 };
        candidate.commits.push({
          sequence: commit.sequence,
          last_sequence: commit.last_sequence,
          digest: commitDigest(commit),
        });
        candidate.events += commit.events.length;
        streams.set(id, candidate);
      }
      scanned += items.length;
      options.onProgress?.({ phase: 'scanning', done: scanned, total: 0 });
    },
  );
  for (const [id, state] of states) if (state !== season) streams.delete(id);
  for (const [id, candidate] of streams) {
    candidate.commits.sort((a, b) => a.sequence - b.sequence);
    let next = 1;
    for (const c of candidate.commits) {
      if (c.sequence !== next)
        throw new StoreError(
          'EXPIRY_REFUSED',
          `stream ${id} of season ${season} is not whole in the table (no commit at sequence ${next})`,
          { aggregateId: id, sequence: next },
        );
      next = c.last_sequence + 1;
    }
  }

  // Where the chain holds each of their commits: the earliest data file with the same content.
  const files = chain.flatMap((e) => e.files);
  const located = new Map<string, Map<number, number>>();
  let filesRead = 0;
  let nextFile = 0;
  const worker = async () => {
    for (let f = nextFile++; f < files.length; f = nextFile++) {
      const file = files[f] as (typeof files)[number];
      const { pages } = readDataFile(storage, file);
      for await (const page of pages)
        for (const item of page) {
          const id = item.aggregate_id?.S;
          const candidate = id === undefined ? undefined : streams.get(id);
          if (!candidate || id === undefined) continue;
          const commit = fromItem(item, `${storage.description}/${file.dataFileS3Key}`);
          const wanted = candidate.commits.find((c) => c.sequence === commit.sequence);
          if (!wanted || wanted.digest !== commitDigest(commit)) continue;
          const at = located.get(id) ?? new Map<number, number>();
          const before = at.get(commit.sequence);
          if (before === undefined || f < before) at.set(commit.sequence, f);
          located.set(id, at);
        }
      options.onProgress?.({ phase: 'locating', done: ++filesRead, total: files.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, worker));

  const missing: string[] = [];
  const indexed: SeasonIndexStream[] = [];
  let commits = 0;
  let events = 0;
  for (const id of [...streams.keys()].sort()) {
    const candidate = streams.get(id) as Candidate;
    const at = located.get(id);
    const list: IndexedCommit[] = [];
    for (const c of candidate.commits) {
      const file = at?.get(c.sequence);
      if (file === undefined) missing.push(`${id}/${c.sequence}`);
      else
        list.push({ sequence: c.sequence, last_sequence: c.last_sequence, file, digest: c.digest });
    }
    indexed.push({
      aggregate_id: id,
      last_sequence: candidate.commits.at(-1)?.last_sequence ?? 0,
      commits: list,
    });
    commits += list.length;
    events += candidate.events;
  }
  if (missing.length > 0)
    throw new StoreError(
      'EXPIRY_REFUSED',
      `the export chain (${chain.map((e) => e.id).join(', ')}) does not hold ${missing.length} of the commits of season ${season} as the table does (first: ${missing[0]}): run "${exportCommand(options, ' --incremental')}" (or a full export) and expire again`,
    );
  return {
    format: INDEX_FORMAT,
    version: 1,
    season,
    created_at: new Date().toISOString(),
    exports: chain.map((e) => e.id),
    files: files.map((f) => f.dataFileS3Key),
    streams: indexed,
    stream_count: indexed.length,
    commit_count: commits,
    event_count: events,
  };
}

/** Deletes the indexed commits still in the table, oldest first per stream. */
async function deleteIndexed(
  options: ExpireSeasonOptions,
  index: SeasonIndex,
): Promise<{ deleted: number; remaining: number; kept: KeptStream[] }> {
  const kept: KeptStream[] = [];
  const queues = new Map<string, Commit[]>();
  let next = 0;
  let inTable = 0;
  const plan = async () => {
    for (let k = next++; k < index.streams.length; k = next++) {
      const stream = index.streams[k] as SeasonIndexStream;
      const queue: Commit[] = [];
      let stopped = false;
      for (const item of await streamItems(options, stream.aggregate_id)) {
        const commit = fromItem(item, options.table);
        const wanted = stream.commits.find((c) => c.sequence === commit.sequence);
        if (wanted) inTable++;
        if (stopped) continue;
        const reason = !wanted
          ? `sequence ${commit.sequence} is not in the index (appended after it)`
          : wanted.digest !== commitDigest(commit)
            ? `sequence ${commit.sequence} differs from the archived commit`
            : item.relay_pending
              ? `sequence ${commit.sequence} is not on the change stream yet (run "matchstream start" first)`
              : undefined;
        if (reason) {
          // Later commits stay too: the table keeps the end of the stream.
          if (wanted)
            kept.push({ aggregate_id: stream.aggregate_id, sequence: commit.sequence, reason });
          stopped = true;
          continue;
        }
        queue.push(commit);
      }
      if (queue.length > 0) queues.set(stream.aggregate_id, queue);
    }
  };
  await Promise.all(Array.from({ length: 8 }, plan));

  let deleted = 0;
  while (queues.size > 0 && options.signal?.aborted !== true) {
    const heads = [...queues.values()].map((q) => q[0] as Commit);
    const { gone, failed } = await deleteCommits(options, heads);
    deleted += gone.length;
    for (const commit of gone) {
      const queue = queues.get(commit.aggregate_id) as Commit[];
      queue.shift();
      if (queue.length === 0) queues.delete(commit.aggregate_id);
    }
    for (const { commit, error } of failed) {
      kept.push({ aggregate_id: commit.aggregate_id, sequence: commit.sequence, reason: error });
      queues.delete(commit.aggregate_id);
    }
    options.onProgress?.({ phase: 'deleting', done: deleted, total: index.commit_count });
  }
  return { deleted, remaining: inTable - deleted, kept };
}

/** A stream's items as stored (with the relay's marker, if any), in sequence order. */
async function streamItems(options: ExpireSeasonOptions, aggregateId: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await options.client.send(
      new QueryCommand({
        TableName: options.table,
        KeyConditionExpression: 'aggregate_id = :id',
        ExpressionAttributeValues: { ':id': { S: aggregateId } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Deletes commits of distinct streams in calls of 25, retrying each unprocessed delete, and
 * each call that failed for a passing reason, with backoff: what is still not deleted after
 * `maxAttempts` comes back in `failed`. An error that no retry can cure (permissions, a
 * missing table) throws: the run stops, and a new run goes on from where it was.
 */
async function deleteCommits(
  options: ExpireSeasonOptions,
  commits: readonly Commit[],
): Promise<{ gone: Commit[]; failed: { commit: Commit; error: string }[] }> {
  const gone: Commit[] = [];
  const failed: { commit: Commit; error: string }[] = [];
  const maxAttempts = options.maxAttempts ?? 8;
  const keyOf = (id: string, sequence: string) => `${id}\u0000${sequence}`;
  for (let i = 0; i < commits.length; i += 25) {
    let pending = new Map(
      commits.slice(i, i + 25).map((c) => [keyOf(c.aggregate_id, String(c.sequence)), c] as const),
    );
    let lastError = 'UnprocessedItems';
    for (let attempt = 1; pending.size > 0 && attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(backoffDelay(attempt - 1, options.baseDelayMs ?? 100, 5_000));
      const requests: WriteRequest[] = [...pending.values()].map((c) => ({
        DeleteRequest: {
          Key: { aggregate_id: { S: c.aggregate_id }, sequence: { N: String(c.sequence) } },
        },
      }));
      let unprocessed: WriteRequest[];
      try {
        const result = await options.client.send(
          new BatchWriteItemCommand({ RequestItems: { [options.table]: requests } }),
        );
        unprocessed = result.UnprocessedItems?.[options.table] ?? [];
        lastError = 'UnprocessedItems';
      } catch (error) {
        if (!isRetryableError(error)) {
          const { errorCode, errorMessage } = describeError(error);
          throw new StoreError(
            'STORE_UNAVAILABLE',
            `deleting expired commits from ${options.table}: ${errorCode}: ${errorMessage}`,
            { table: options.table },
            { cause: error },
          );
        }
        const { errorCode, errorMessage } = describeError(error);
        lastError = `${errorCode}: ${errorMessage}`;
        continue;
      }
      const left = new Map<string, Commit>();
      for (const request of unprocessed) {
        const key = request.DeleteRequest?.Key;
        const k = keyOf(key?.aggregate_id?.S ?? '', key?.sequence?.N ?? '');
        const commit = pending.get(k);
        if (commit) left.set(k, commit);
      }
      const removed = [...pending].filter(([k]) => !left.has(k)).map(([, commit]) => commit);
      gone.push(...removed);
      // Told at once: a later call that throws must not leave these untold.
      if (removed.length > 0) await options.onRemoved?.(removed);
      pending = left;
    }
    for (const commit of pending.values())
      failed.push({
        commit,
        error: `still not deleted after ${maxAttempts} attempts (${lastError})`,
      });
  }
  return { gone, failed };
}
