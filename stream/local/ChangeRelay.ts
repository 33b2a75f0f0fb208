import { isDeepStrictEqual } from 'node:util';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { REQUEST_TIMEOUT_MS } from '../aws/clientConfig.js';
import { batchGetReliably, batchWriteReliably } from '../aws/dynamoBatch.js';
import { putRecordsReliably } from '../aws/putRecordsReliably.js';
import { scanSegments } from '../aws/scanSegments.js';
import { commitChange, itemChange } from '../changes/commitChange.js';
import type { Commit } from '../eventStore/Commit.js';
import { fromItem, toItem } from '../eventStore/commitItem.js';
import type { CommitHandOver } from '../eventStore/DynamoEventStore.js';
import { RELAY_INDEX, RELAY_MARKER } from '../eventStore/eventsTable.js';
import { type StoreStoppedError, storeStopped } from '../StoreError.js';

export interface ChangeRelayOptions {
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly region?: string;
  /** Commits forwarded per pass (one PutRecords call holds up to 500). */
  readonly batchSize?: number;
  /**
   * How long an idle relay waits before looking again, unless woken (`notify`): after each
   * pass that found nothing the wait doubles, up to `maxPollIntervalMs`.
   */
  readonly pollIntervalMs?: number;
  /** The longest wait of an idle relay (default: 2,000 ms, or `pollIntervalMs` if longer). */
  readonly maxPollIntervalMs?: number;
  /**
   * Each record that Kinesis refused after every retry (it stays pending and is tried again),
   * and each malformed item forwarded as it is.
   */
  readonly onError?: (error: Error) => void;
  /** Called after records were put on the stream (the local consumers wake up on it). */
  readonly onForwarded?: (count: number) => void;
  /**
   * The table the relay keeps its checkpoint in (partition key `relay`, a string:
   * `RELAY_TABLE`, made by `ensureRuntimeTables`). With it, the relay takes over the commits
   * of its process's store (`take`), which are written without the marker; without it, every
   * commit carries the marker.
   */
  readonly checkpointTable?: string;
  /** Segments of the scan after an unclean stop (see `ChangeRelay`). @default 4 */
  readonly recoverySegments?: number;
  /**
   * How long a taken commit whose write ended with its outcome unknown, and that a read did
   * not find, is read again before the relay gives up on it (see `ChangeRelay`).
   * @default twice the clients' request timeout (60,000 ms)
   */
  readonly doubtMs?: number;
  /**
   * After `doubtMs`, how long such a commit is still looked up by its key (every
   * `lingerReadMs`), without holding the checkpoint back, and forwarded if it is found stored
   * as written; then the relay gives up on it. @default a day (86,400,000 ms)
   */
  readonly lingerMs?: number;
  /** How often a commit past its `doubtMs` is looked up. @default 30,000 ms */
  readonly lingerReadMs?: number;
}

export interface RelayStats {
  /** Records accepted by Kinesis. */
  forwarded: number;
  /** Passes that found something to forward. */
  passes: number;
  /** Records Kinesis refused after retries (tried again on a later pass). */
  refused: number;
  /** Stale index entries repaired (see `ChangeRelay`). */
  repaired: number;
  /** Index entries of commits the table does not hold, left alone (see `ChangeRelay`). */
  unstored: number;
  /** Commits taken over from the store (written without the marker). */
  taken: number;
  /** Commits found again by the scan after an unclean stop, and forwarded. */
  recovered: number;
  /** Checkpoints written. */
  checkpoints: number;
  /**
   * Taken commits whose write ended with its outcome unknown and that reads did not find for
   * `doubtMs`: the checkpoint no longer waits for them; each is looked up by its key for
   * `lingerMs` more (each reported through `onError`).
   */
  lingered: number;
  /** Of those, or of those a stopped run left in doubt, the ones found stored and forwarded. */
  foundLate: number;
  /** Commits in doubt not found in `doubtMs` and `lingerMs`: given up on (each reported). */
  abandoned: number;
}

/**
 * The table → Kinesis hop where Kinesis Data Streams for DynamoDB is not available (the
 * embedded default): it forwards each new commit as the change record AWS would write, with
 * the aggregate id as partition key. At least once, and nothing lost across a crash, two ways.
 *
 * **Commits its own process's store writes** (given a `checkpointTable`): the store asks the
 * relay to `take` each commit as it stamps it, and writes one taken without any marker; it
 * tells the relay how the write ended (`stored`, `notStored`), and the relay forwards it from
 * memory. Nothing is written back: one write per commit, as on AWS. What a crash could lose
 * is what the relay took and had not forwarded, so the relay keeps a checkpoint: a
 * `watermark` no taken commit it has not forwarded was stamped (`committed_at`) before, and
 * whether it is `open`. It only takes a commit stamped at or after every watermark it has
 * written or is writing (the *floor*), and a watermark never passes a commit it took and has
 * not forwarded, so whatever the checkpoint holds when the process dies, every such commit
 * lies at or after it. A relay that stops cleanly writes `open: false`; one that starts on a
 * checkpoint still open scans the table once for commits without the marker stamped at or
 * after the watermark, and forwards them again (the consumers absorb a repeat, as below). A
 * commit it cannot take (none stamped before the floor, a store clock stepped back, more than
 * `MAX_HANDED` waiting, a relay not running) is written with the marker, as below.
 *
 * A write that failed in a way that may have stored its item (a timeout, a connection reset)
 * is read back and forwarded if it is stored as written. If the key holds another commit, this
 * one was refused by its condition and can never land. If the key is empty, the request may
 * still be on its way to the server: the relay reads it again, backing off, for `doubtMs`,
 * and keeps its watermark at or before it meanwhile. Past that, its watermark moves on
 * (`lingered`, reported) and the commit is looked up by its key every `lingerReadMs` for
 * `lingerMs` (a day) more, forwarded if it is found (`foundLate`), given up on after that
 * (`abandoned`, reported). The checkpoint lists every commit in doubt (`doubts`: key and
 * stamp), so a relay that stops with some, or dies, leaves them to the next run, which looks
 * them up by key: a clean stop leaves its checkpoint closed, and the next run scans nothing.
 *
 * **Commits with the marker** (any other writer: `matchstream ingest` with no pipeline, a
 * relay not running): they are written with a `relay_pending` marker (a sparse index), the
 * relay finds them there, and removes the marker only after Kinesis accepted the record. A
 * crash in between forwards the commit again, which the consumers absorb (a read model's
 * documents carry their stream's sequence, and the consumers' positions the rest).
 *
 * The index is not the truth, the table is: dynalite writes an item's index entries first,
 * then the item, and only removes the entry its previous version had. A process killed
 * between the two leaves an entry (a copy of the whole item, the index projects everything)
 * for an append that never finished: its writer was never answered and may write something
 * else at that position, or the same events at another `committed_at` (another entry). So
 * each pass reads the commits from the table, and forwards and clears only those that carry
 * the marker with the entry's `committed_at`, as stored: never the index's copy, which would
 * publish an event that was never stored and then write it over what was. An entry with no
 * item is left alone (counted in `unstored`, reported once); an entry whose item no longer
 * has the marker, or was stored at another time, would come back on every pass, so it is
 * repaired: the stored item is written once with the entry's marker and time, which gives it
 * that very entry, and once as it is, which removes it.
 *
 * Commits the store of this process stored are handed over (`stored`, or `notify(commit)`):
 * those are forwarded first, as they were written, without reading them back from the index
 * and the table; the index is read when none is waiting. A commit forwarded from the index is
 * not forwarded again when it was handed over too. One with the marker that Kinesis refused
 * stays pending in the index, as any other, for a later pass; a taken one is tried again from
 * memory. A relay that stops, or is handed more than `MAX_HANDED` marked commits at once,
 * leaves those pending, where a pass over the index (this relay's, or the next process's)
 * finds them.
 */
export class ChangeRelay implements CommitHandOver {
  readonly stats: RelayStats = {
    forwarded: 0,
    passes: 0,
    refused: 0,
    repaired: 0,
    unstored: 0,
    taken: 0,
    recovered: 0,
    checkpoints: 0,
    lingered: 0,
    foundLate: 0,
    abandoned: 0,
  };
  /** Entries without an item in the last pass, and those reported already. */
  private unstoredBefore = new Set<string>();
  private readonly reported = new Set<string>();
  private readonly batchSize: number;
  private readonly doubtMs: number;
  private readonly lingerMs: number;
  private readonly lingerReadMs: number;
  /**
   * Commits in doubt the checkpoint no longer waits for (past `doubtMs`, or left by a run
   * before), by key: looked up now and then until found, taken by another commit, or too old.
   */
  private readonly lingering = new Map<string, Lingering>();
  /** Whether `lingering` changed since the checkpoint was written (it lists them). */
  private lingeringChanged = false;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private running: Promise<void> | undefined;
  private stopping = false;
  /** The drains under way (`drain`), which `stop` waits for before the stream may close. */
  private readonly draining = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  /** Set by `notify`: a commit came while a pass ran, which that pass may have missed. */
  private notified = false;
  private lock: Promise<void> = Promise.resolve();
  /** Commits stored and handed over (`stored`, `notify`), not forwarded yet. */
  private handed = new Map<string, Commit>();
  /** Commits taken over (written without the marker) and not forwarded yet, by key. */
  private readonly taken = new Map<string, Taken>();
  /**
   * The highest watermark written or being written: only a commit stamped at or after it is
   * taken. Undefined while the relay cannot take any (its checkpoint not open).
   */
  private floor: string | undefined;
  /** The latest `committed_at` of a taken commit forwarded. */
  private latestForwarded = '';
  /** When the checkpoint was last written (ms), and the watermark it holds. */
  private checkpointedAt = 0;
  private checkpointed: string | undefined;
  /** Settles once the running relay opened its checkpoint (`opened`). */
  private opening: Promise<void> = Promise.resolve();

  constructor(private readonly options: ChangeRelayOptions) {
    this.batchSize = Math.min(Math.max(options.batchSize ?? 500, 1), 500);
    this.doubtMs = Math.max(0, options.doubtMs ?? 2 * REQUEST_TIMEOUT_MS);
    this.lingerMs = Math.max(0, options.lingerMs ?? LINGER_MS);
    this.lingerReadMs = Math.max(1, options.lingerReadMs ?? LINGER_READ_MS);
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.maxPollIntervalMs = Math.max(this.pollIntervalMs, options.maxPollIntervalMs ?? 2_000);
  }

  /**
   * Takes a commit just stamped over from the store, which then writes it without the marker
   * (see the class comment); false: the store writes it with the marker.
   */
  take(commit: Commit): boolean {
    if (this.floor === undefined || this.stopping || commit.committed_at < this.floor) return false;
    if (this.taken.size + this.handed.size >= MAX_HANDED) return false;
    const key = commitKey(commit);
    // A second append at the same position under way: the store's condition decides.
    if (this.taken.has(key)) return false;
    this.taken.set(key, { commit, stage: 'writing' });
    this.stats.taken++;
    return true;
  }

  /** A commit stored by this process's store, taken or not: forwarded as it was written. */
  stored(commit: Commit): void {
    const taken = this.taken.get(commitKey(commit));
    if (taken?.commit === commit) {
      taken.stage = 'stored';
      // Never dropped: nothing else would find it (the limit is kept by `take`).
      this.handed.set(commitKey(commit), commit);
      this.notified = true;
      this.wake?.();
    } else this.notify(commit);
  }

  /**
   * A taken commit whose write did not store it (`certain`: DynamoDB refused its condition or
   * it was never sent), or may have: read back by the next pass, and again while in doubt.
   */
  notStored(commit: Commit, certain: boolean): void {
    const key = commitKey(commit);
    const taken = this.taken.get(key);
    if (taken?.commit !== commit) return;
    if (certain) this.taken.delete(key);
    else {
      taken.stage = 'unknown';
      this.notified = true;
      this.wake?.();
    }
  }

  /**
   * Forwards what is pending, once; returns the number of records Kinesis accepted. Passes
   * run one at a time (the background loop and `drain` would otherwise send the same commit
   * twice).
   */
  forwardPending(): Promise<number> {
    const pass = this.lock.then(() => this.pass());
    this.lock = pass.then(
      () => undefined,
      () => undefined,
    );
    return pass;
  }

  private async pass(): Promise<number> {
    await this.readBackUnknown();
    if (this.handed.size > 0) return this.forwardHanded();
    const { dynamo, table } = this.options;
    const page = await dynamo.send(
      new QueryCommand({
        TableName: table,
        IndexName: RELAY_INDEX,
        KeyConditionExpression: 'relay_pending = :p',
        ExpressionAttributeValues: { ':p': RELAY_MARKER.relay_pending },
        Limit: this.batchSize,
      }),
    );
    const entries = page.Items ?? [];
    if (entries.length === 0) return 0;
    // A key can have two entries (its item's and one of an unfinished append): read it once.
    const keys = new Map(entries.map((e) => [batchKeyOf(e), tableKey(e)]));
    const stored = await batchGetReliably(dynamo, table, [...keys.values()], KEY, {
      consistent: true,
    });
    const items: Record<string, AttributeValue>[] = [];
    const stale: { entry: Record<string, AttributeValue>; item: Record<string, AttributeValue> }[] =
      [];
    const unstored = new Set<string>();
    for (const entry of entries) {
      const item = stored.get(batchKeyOf(entry));
      if (!item) unstored.add(keyOf(entry));
      else if (!item.relay_pending) stale.push({ entry, item });
      else if (isDeepStrictEqual(item.committed_at, entry.committed_at)) items.push(item);
      // Else an entry of an earlier attempt: repaired once the item's own entry is cleared.
    }
    this.noteUnstored(unstored);
    if (stale.length > 0) await this.repair(stale);
    if (items.length === 0) return 0;
    const records = inStreamOrder(items).map((pending) =>
      this.recordOfItem(withoutMarker(pending), true),
    );
    const sent = await this.send(records);
    // Handed over meanwhile as well: forwarded already.
    for (const record of sent) this.handed.delete(record.key);
    return sent.length;
  }

  /** Forwards commits handed over by the store, as they were stored (see the class comment). */
  private async forwardHanded(): Promise<number> {
    const records: Forwarded[] = [];
    for (const [key, commit] of this.handed) {
      if (records.length >= this.batchSize) break;
      this.handed.delete(key);
      records.push(this.recordOf(commit));
    }
    return (await this.send(records)).length;
  }

  /**
   * Reads back the taken commits whose write failed in a way that may have stored them (all
   * of them with `all`, else those new or due for another read): one stored as written (no
   * marker, the same `committed_at`) is forwarded; one whose key holds another commit can
   * never land and is let go; one not found stays in doubt, read again later (see the class
   * comment), until `doubtMs` has passed, then lingers. Lingering commits due (all with
   * `all`) are looked up in the same read, and forwarded when found stored as written.
   */
  private async readBackUnknown(all = false): Promise<void> {
    const now = Date.now();
    const keyOfCommit = (c: { aggregate_id: string; sequence: number }) => ({
      aggregate_id: { S: c.aggregate_id },
      sequence: { N: String(c.sequence) },
    });
    const unknown = [...this.taken.values()]
      .filter((t) => t.stage === 'unknown' && (all || !t.doubt || t.doubt.readAt <= now))
      .map((taken) => ({ taken, key: keyOfCommit(taken.commit) }));
    const due = [...this.lingering.entries()]
      .filter(([, l]) => all || l.readAt <= now)
      .map(([id, lingering]) => ({ id, lingering, key: keyOfCommit(lingering) }));
    if (unknown.length === 0 && due.length === 0) return;
    const { dynamo, table } = this.options;
    const stored = await batchGetReliably(
      dynamo,
      table,
      [...unknown, ...due].map(({ key }) => key),
      KEY,
      { consistent: true },
    );
    for (const { taken, key } of unknown) {
      const { commit } = taken;
      const item = stored.get(batchKeyOf(key));
      if (item && !item.relay_pending && item.committed_at?.S === commit.committed_at) {
        taken.stage = 'stored';
        taken.doubt = undefined;
        this.handed.set(commitKey(commit), commit);
      } else if (item) this.taken.delete(commitKey(commit));
      else if (!taken.doubt) {
        taken.doubt = { since: now, readAt: now + DOUBT_FIRST_READ_MS, wait: DOUBT_FIRST_READ_MS };
      } else if (now - taken.doubt.since >= this.doubtMs) {
        this.taken.delete(commitKey(commit));
        this.linger(
          {
            aggregate_id: commit.aggregate_id,
            sequence: commit.sequence,
            committed_at: commit.committed_at,
            since: taken.doubt.since,
            readAt: now + this.lingerReadMs,
          },
          now,
        );
      } else {
        const wait = Math.min(taken.doubt.wait * 2, DOUBT_LONGEST_WAIT_MS);
        taken.doubt = { ...taken.doubt, readAt: now + wait, wait };
      }
    }
    const found: Forwarded[] = [];
    for (const { id, lingering, key } of due) {
      const item = stored.get(batchKeyOf(key));
      if (item && !item.relay_pending && item.committed_at?.S === lingering.committed_at) {
        // Taken out of the list once Kinesis took it (`send`).
        found.push(this.recordOfItem(item, false));
        lingering.readAt = now + this.lingerReadMs;
      } else if (item) {
        // Another commit holds its key, or it carries the marker (the index pass has it).
        this.lingering.delete(id);
        this.lingeringChanged = true;
      } else if (now - lingering.since >= this.doubtMs + this.lingerMs) {
        this.lingering.delete(id);
        this.lingeringChanged = true;
        this.stats.abandoned++;
        this.options.onError?.(
          new Error(
            `relay: gave up on ${lingering.aggregate_id} #${lingering.sequence} (stamped ${lingering.committed_at}): its write ended with its outcome unknown and it was not in the table for ${Math.round((now - lingering.since) / 1000)} s; if it is stored after all, it is not forwarded`,
          ),
        );
      } else lingering.readAt = now + this.lingerReadMs;
    }
    if (found.length > 0) {
      const sent = await this.send(found);
      this.stats.foundLate += sent.length;
    }
  }

  /** Keeps a commit in doubt by its key, without holding the checkpoint back (see the class comment). */
  private linger(lingering: Lingering, now: number): void {
    const key = commitKey(lingering);
    if (!this.lingering.has(key) && this.lingering.size >= MAX_LINGERING) {
      // The oldest goes: the checkpoint item must stay well under DynamoDB's 400 KB.
      const [oldestKey, oldest] = [...this.lingering].sort(
        ([, a], [, b]) => a.since - b.since,
      )[0] as [string, Lingering];
      this.lingering.delete(oldestKey);
      this.stats.abandoned++;
      this.options.onError?.(
        new Error(
          `relay: gave up on ${oldest.aggregate_id} #${oldest.sequence} (stamped ${oldest.committed_at}): more than ${MAX_LINGERING} writes of unknown outcome are looked up; if it is stored after all, it is not forwarded`,
        ),
      );
    }
    this.lingering.set(key, lingering);
    this.lingeringChanged = true;
    this.stats.lingered++;
    this.options.onError?.(
      new Error(
        `relay: ${lingering.aggregate_id} #${lingering.sequence} (stamped ${lingering.committed_at}): its write ended with its outcome unknown and it was not in the table for ${Math.round((now - lingering.since) / 1000)} s; the checkpoint no longer waits for it, and it is looked up every ${duration(this.lingerReadMs)} for ${duration(this.lingerMs)} more and forwarded if it is stored`,
      ),
    );
  }

  /**
   * Every commit in doubt, as the checkpoint lists them: taken ones whose write's outcome is
   * unknown (the checkpoint waits for them), and lingering ones.
   */
  private doubts(): Lingering[] {
    const now = Date.now();
    const doubts = [...this.lingering.values()];
    for (const { commit, stage, doubt } of this.taken.values())
      if (stage === 'unknown')
        doubts.push({
          aggregate_id: commit.aggregate_id,
          sequence: commit.sequence,
          committed_at: commit.committed_at,
          since: doubt?.since ?? now,
          readAt: 0,
        });
    return doubts;
  }

  /** A commit's change record, and whether it carries the marker (written back once sent). */
  private recordOf(commit: Commit): Forwarded {
    const key = commitKey(commit);
    const taken = this.taken.get(key);
    const { record, partitionKey } = commitChange(
      commit,
      this.options.table,
      this.options.region ?? 'us-east-1',
    );
    return {
      data: Buffer.from(JSON.stringify(record)),
      partitionKey,
      key,
      ...(taken?.commit === commit ? { commit } : { item: toItem(commit) }),
    };
  }

  /**
   * The change record of an item read from the table (without its marker); `marked`: it is
   * written back once sent. One that is not a commit is forwarded as it is, for the consumers
   * to dead-letter with why.
   */
  private recordOfItem(item: Record<string, AttributeValue>, marked: boolean): Forwarded {
    const { table } = this.options;
    let commit: Commit;
    try {
      commit = fromItem(item, table);
    } catch (error) {
      this.options.onError?.(
        new Error(
          `relay: forwarding a malformed item as it is: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
      const { record, partitionKey } = itemChange(item, table, this.options.region ?? 'us-east-1');
      return {
        data: Buffer.from(JSON.stringify(record)),
        partitionKey,
        key: keyOf(item),
        ...(marked ? { item } : {}),
      };
    }
    if (marked) return this.recordOf(commit);
    const { record, partitionKey } = commitChange(
      commit,
      table,
      this.options.region ?? 'us-east-1',
    );
    return { data: Buffer.from(JSON.stringify(record)), partitionKey, key: commitKey(commit) };
  }

  /**
   * Puts the records on the stream, then takes the ones Kinesis accepted out of the pending
   * index (those with the marker) or out of what this relay took; the records accepted.
   */
  private async send(records: readonly Forwarded[]): Promise<Forwarded[]> {
    const { dynamo, table, kinesis, streamName } = this.options;
    this.stats.passes++;
    const result = await putRecordsReliably(kinesis, streamName, records);
    // A stream whose store stopped refuses every record alike: said once for the pass.
    let stopped: StoreStoppedError | undefined;
    for (const failed of result.failed) {
      this.stats.refused++;
      // A taken commit is in no index: tried again from memory.
      if (failed.record.commit) this.handed.set(failed.record.key, failed.record.commit);
      const stop = storeStopped(failed.error);
      if (stop) stopped ??= stop;
      else
        this.options.onError?.(
          new Error(
            `relay: Kinesis refused the change of ${failed.record.partitionKey}: ${failed.errorCode}: ${failed.errorMessage}`,
          ),
        );
    }
    if (stopped) this.options.onError?.(stopped);
    const sent = result.sent.map((s) => s.record);
    for (const record of sent) {
      if (this.lingering.delete(record.key)) this.lingeringChanged = true;
      if (!record.commit) continue;
      if (this.taken.get(record.key)?.commit === record.commit) this.taken.delete(record.key);
      if (record.commit.committed_at > this.latestForwarded)
        this.latestForwarded = record.commit.committed_at;
    }
    // Only now is a marked commit safely in the stream: take it out of the pending index by
    // writing the item back without the marker (commits never change, so this is safe, and
    // it batches where UpdateItem would not).
    const marked = sent.flatMap((record) => (record.item ? [{ put: record.item }] : []));
    if (marked.length > 0) await batchWriteReliably(dynamo, table, marked, KEY);
    this.stats.forwarded += sent.length;
    if (sent.length > 0) this.options.onForwarded?.(sent.length);
    return sent;
  }

  /** Makes stale "pending" index entries follow their items (see the class comment). */
  private async repair(
    stale: readonly {
      entry: Record<string, AttributeValue>;
      item: Record<string, AttributeValue>;
    }[],
  ): Promise<void> {
    const { dynamo, table } = this.options;
    await batchWriteReliably(
      dynamo,
      table,
      stale.map(({ entry, item }) => ({
        put: {
          ...item,
          ...RELAY_MARKER,
          ...(entry.committed_at ? { committed_at: entry.committed_at } : {}),
        },
      })),
      KEY,
    );
    await batchWriteReliably(
      dynamo,
      table,
      stale.map(({ item }) => ({ put: item })),
      KEY,
    );
    this.stats.repaired += stale.length;
    this.options.onError?.(
      new Error(`relay: repaired ${stale.length} stale entries of the pending index`),
    );
  }

  /**
   * Reports entries without an item, each once: seen in two passes in a row, since an append
   * under way has its entry written a moment before its item.
   */
  private noteUnstored(keys: ReadonlySet<string>): void {
    for (const key of keys) {
      if (!this.unstoredBefore.has(key) || this.reported.has(key)) continue;
      this.reported.add(key);
      this.stats.unstored++;
      this.options.onError?.(
        new Error(
          `relay: ${key.replace('\u0000', ' #')} is pending in the index but not in the table (an append stopped between the two): not forwarded`,
        ),
      );
    }
    this.unstoredBefore = new Set(keys);
  }

  /** The lowest watermark the checkpoint may hold now: no taken commit not forwarded is before it. */
  private watermark(): string {
    let low: string | undefined;
    for (const { commit } of this.taken.values())
      if (low === undefined || commit.committed_at < low) low = commit.committed_at;
    const floor = this.floor ?? '';
    return [floor, low ?? this.latestForwarded].sort().at(-1) ?? floor;
  }

  /**
   * Writes the checkpoint: `open` while the relay may take commits. The floor rises to the
   * watermark before the write, so no commit stamped before it is taken while it is written.
   */
  private async checkpoint(open: boolean, watermark = this.watermark()): Promise<void> {
    const table = this.options.checkpointTable;
    if (!table) return;
    if (this.floor !== undefined && watermark > this.floor) this.floor = watermark;
    const doubts = this.doubts();
    this.lingeringChanged = false;
    const written = this.options.dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          relay: { S: this.options.table },
          watermark: { S: watermark },
          open: { BOOL: open },
          written_at: { S: new Date().toISOString() },
          ...(doubts.length > 0
            ? {
                doubtful: { N: String(doubts.length) },
                doubts: {
                  L: doubts.map((d) => ({
                    M: {
                      aggregate_id: { S: d.aggregate_id },
                      sequence: { N: String(d.sequence) },
                      committed_at: { S: d.committed_at },
                      since: { S: new Date(d.since).toISOString() },
                    },
                  })),
                },
              }
            : {}),
        },
      }),
    );
    try {
      await written;
    } catch (error) {
      this.lingeringChanged = true;
      throw error;
    }
    this.checkpointed = watermark;
    this.checkpointedAt = Date.now();
    this.stats.checkpoints++;
  }

  /** Moves the checkpoint on, at most once a second, when its watermark can rise. */
  private async moveCheckpoint(): Promise<void> {
    if (this.floor === undefined || Date.now() - this.checkpointedAt < CHECKPOINT_EVERY_MS) return;
    const watermark = this.watermark();
    if (watermark !== this.checkpointed || this.lingeringChanged)
      await this.checkpoint(true, watermark);
  }

  /**
   * Opens the checkpoint before the relay takes any commit: after an unclean stop (the
   * checkpoint still open), first finds again and hands over the commits without the marker
   * stamped at or after its watermark.
   */
  private async open(): Promise<void> {
    const { checkpointTable, dynamo, table } = this.options;
    if (!checkpointTable) return;
    const { Item } = await dynamo.send(
      new GetItemCommand({
        TableName: checkpointTable,
        Key: { relay: { S: table } },
        ConsistentRead: true,
      }),
    );
    const now = new Date().toISOString();
    let watermark = now;
    // The commits in doubt the last run left: looked up by key from the first pass on.
    const left = lingeringOf(Item?.doubts);
    for (const lingering of left) this.lingering.set(commitKey(lingering), lingering);
    // A checkpoint of an earlier release counts them without naming them: it stays open, and
    // the scan below finds them if they landed.
    const unnamed = left.length === 0 ? Number(Item?.doubtful?.N ?? 0) : 0;
    if (left.length > 0)
      this.options.onError?.(
        new Error(
          `relay: the last run stopped with ${left.length} ${left.length === 1 ? 'write' : 'writes'} whose outcome it could not learn: looked up by key, and forwarded if stored`,
        ),
      );
    if (Item?.open?.BOOL === true && Item.watermark?.S !== undefined) {
      const since = Item.watermark.S;
      const started = performance.now();
      const found = await this.recover(since);
      const why =
        unnamed > 0
          ? `stopped with ${unnamed} ${unnamed === 1 ? 'write' : 'writes'} whose outcome it could not learn`
          : 'stopped without closing its checkpoint';
      this.options.onError?.(
        new Error(
          `relay: the last run ${why}: ${found} commits stored since ${since} without the marker found in ${((performance.now() - started) / 1000).toFixed(1)} s and forwarded again`,
        ),
      );
      // The oldest commit found again, which is not forwarded yet.
      if (this.taken.size > 0 && this.watermark() < now) watermark = this.watermark();
    }
    await this.checkpoint(true, watermark);
    this.floor = watermark;
  }

  /**
   * The scan after an unclean stop: every commit without the marker stamped at or after
   * `since`, handed over as taken (a malformed item forwarded as it is); their number.
   */
  private async recover(since: string): Promise<number> {
    const { dynamo, table } = this.options;
    const segments = Math.max(1, this.options.recoverySegments ?? 4);
    let found = 0;
    const malformed: Forwarded[] = [];
    await scanSegments(
      dynamo,
      {
        TableName: table,
        ConsistentRead: true,
        FilterExpression: 'committed_at >= :since AND attribute_not_exists(relay_pending)',
        ExpressionAttributeValues: { ':since': { S: since } },
      },
      segments,
      (items) => {
        for (const item of items) {
          found++;
          let commit: Commit;
          try {
            commit = fromItem(item, table);
          } catch {
            malformed.push(this.recordOfItem(item, false));
            continue;
          }
          const key = commitKey(commit);
          this.taken.set(key, { commit, stage: 'stored' });
          this.handed.set(key, commit);
        }
      },
    );
    this.stats.recovered += found;
    if (malformed.length > 0) await this.send(malformed);
    return found;
  }

  /**
   * Forwards until nothing is pending, or until a stop under way (which forwards what the relay
   * took, and waits for the drains to end before the stream may close).
   */
  async drain(): Promise<void> {
    const pass = (async () => {
      while (!this.stopping && (await this.forwardPending()) > 0);
    })();
    this.draining.add(pass);
    try {
      await pass;
    } finally {
      this.draining.delete(pass);
    }
  }

  /** Runs in the background until `stop()`, forwarding as commits come (see `notify`). */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    let opened = () => {};
    this.opening = new Promise<void>((resolve) => (opened = resolve));
    this.running = this.loop(opened);
  }

  /**
   * Settles once the started relay has opened its checkpoint (after the scan an unclean stop
   * calls for) or failed to: from then on it takes commits over.
   */
  opened(): Promise<void> {
    return this.opening;
  }

  /**
   * Says a commit was stored: an idle relay looks at once instead of at its next poll. Given
   * the commit (stored by this process, with the marker), it forwards it without reading it.
   */
  notify(commit?: Commit): void {
    if (commit && this.handed.size < MAX_HANDED) this.handed.set(commitKey(commit), commit);
    this.notified = true;
    this.wake?.();
  }

  /**
   * Stops the background loop. What this relay took is forwarded first, as far as Kinesis
   * takes it (the commits in doubt read once more), and the checkpoint closed unless a commit
   * it took and that is stored is left (else the next relay scans); the commits still in doubt
   * are listed in it, for the next relay to look up. What was handed over with the marker and
   * not forwarded is pending in the index.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await Promise.allSettled(this.draining);
    this.running = undefined;
    if (this.floor !== undefined) {
      this.floor = undefined;
      try {
        await this.readBackUnknown(true);
        while (this.taken.size > 0 && (await this.forwardTaken()) > 0);
        // Open only for what the checkpoint cannot name: a commit in doubt is listed in it.
        await this.checkpoint([...this.taken.values()].some((t) => t.stage !== 'unknown'));
      } catch (error) {
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
    }
    this.handed.clear();
    this.taken.clear();
    this.lingering.clear();
    // Stopped: a drain from now on forwards what is pending in the index, as before a start.
    this.stopping = false;
  }

  /** One pass over what this relay took and still holds (at stop). */
  private forwardTaken(): Promise<number> {
    for (const [key, commit] of this.handed)
      if (this.taken.get(key)?.commit !== commit) this.handed.delete(key);
    return this.forwardPending();
  }

  private async loop(opened: () => void): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      // Without its checkpoint the relay takes nothing: every commit carries the marker.
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    } finally {
      opened();
    }
    // Passes in a row that found nothing: an idle relay looks less and less often (every
    // commit of this process wakes it), so an idle pipeline sends next to no requests.
    let idle = 0;
    while (!this.stopping) {
      let forwarded = 0;
      this.notified = false;
      try {
        forwarded = await this.forwardPending();
        await this.moveCheckpoint();
      } catch (error) {
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
      if (forwarded > 0 || this.notified) idle = 0;
      else if (!this.stopping) {
        const wait = Math.min(
          this.pollIntervalMs * 2 ** Math.min(idle, 16),
          this.maxPollIntervalMs,
        );
        idle++;
        const woken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), wait);
          this.wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        this.wake = undefined;
        if (woken) idle = 0;
      }
    }
  }
}

/** A commit this relay took: being written, stored, or written with an outcome unknown. */
interface Taken {
  readonly commit: Commit;
  stage: 'writing' | 'stored' | 'unknown';
  /**
   * An unknown outcome not found when read: since when (ms), when to read it again, and the
   * wait before that read.
   */
  doubt?: { readonly since: number; readonly readAt: number; readonly wait: number } | undefined;
}

/**
 * A record to put on the stream: with the item to write back once Kinesis took it (a commit
 * with the marker), or the commit this relay took (nothing to write back).
 */
interface Forwarded {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly key: string;
  readonly item?: Record<string, AttributeValue>;
  readonly commit?: Commit;
}

/** A commit in doubt known by its key and stamp: since when (ms), and when to look it up next. */
interface Lingering {
  readonly aggregate_id: string;
  readonly sequence: number;
  readonly committed_at: string;
  readonly since: number;
  readAt: number;
}

/** The commits in doubt a checkpoint lists (`doubts`); none for one without the list. */
function lingeringOf(list: AttributeValue | undefined): Lingering[] {
  const doubts: Lingering[] = [];
  for (const entry of list?.L ?? []) {
    const m = entry.M;
    const sequence = Number(m?.sequence?.N);
    const since = Date.parse(m?.since?.S ?? '');
    if (!m?.aggregate_id?.S || !m.committed_at?.S || !Number.isInteger(sequence)) continue;
    doubts.push({
      aggregate_id: m.aggregate_id.S,
      sequence,
      committed_at: m.committed_at.S,
      since: Number.isNaN(since) ? Date.now() : since,
      readAt: 0,
    });
  }
  return doubts;
}

/** A span of time for people: "30 s", "24 h". */
function duration(ms: number): string {
  return ms >= 3_600_000 && ms % 3_600_000 === 0
    ? `${ms / 3_600_000} h`
    : `${Math.round(ms / 100) / 10} s`;
}

/**
 * Pending commits as the index gives them (by `committed_at`), each stream's put back in
 * sequence order in the places its commits hold: the index orders commits stamped in the same
 * millisecond in no particular way (dynalite gave a stream's #9, #10, #2, #1), and a clock set
 * back between two appends stamps the later one earlier.
 */
export function inStreamOrder(
  items: readonly Record<string, AttributeValue>[],
): Record<string, AttributeValue>[] {
  const slots = new Map<string, number[]>();
  items.forEach((item, i) => {
    const stream = item.aggregate_id?.S ?? '';
    const taken = slots.get(stream) ?? [];
    taken.push(i);
    slots.set(stream, taken);
  });
  const ordered = [...items];
  for (const taken of slots.values()) {
    if (taken.length < 2) continue;
    const bySequence = taken
      .map((i) => items[i] as Record<string, AttributeValue>)
      .sort((a, b) => Number(a.sequence?.N ?? 0) - Number(b.sequence?.N ?? 0));
    taken.forEach((slot, k) => {
      ordered[slot] = bySequence[k] as Record<string, AttributeValue>;
    });
  }
  return ordered;
}

/** How often at most the checkpoint moves while commits flow. */
const CHECKPOINT_EVERY_MS = 1_000;

/** The wait before a commit in doubt is read again, doubling each time up to the longest. */
const DOUBT_FIRST_READ_MS = 250;
const DOUBT_LONGEST_WAIT_MS = 5_000;

/** How long a commit in doubt is looked up after `doubtMs`, and how often. */
const LINGER_MS = 86_400_000;
const LINGER_READ_MS = 30_000;

/** The most commits in doubt looked up at once (about 150 B each in the checkpoint item). */
const MAX_LINGERING = 1_000;

/**
 * Commits kept when handed over faster than they are forwarded (about 1 KB each); past that,
 * marked ones are found in the index, and the store writes new ones with the marker.
 */
const MAX_HANDED = 10_000;

/** The events table's key attributes. */
const KEY = ['aggregate_id', 'sequence'];

/** A commit's key, as `keyOf` gives an item's. */
function commitKey(commit: { readonly aggregate_id: string; readonly sequence: number }): string {
  return `${commit.aggregate_id}\u0000${commit.sequence}`;
}

/** An item's key as `batchGetReliably` keys what it found. */
function batchKeyOf(item: Record<string, AttributeValue>): string {
  return KEY.map((k) => JSON.stringify(item[k])).join('\u0000');
}

/** An index entry's table key (an index always projects it). */
function tableKey(entry: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const { aggregate_id, sequence } = entry;
  if (!aggregate_id || !sequence)
    throw new Error(`relay: an entry of ${RELAY_INDEX} has no table key`);
  return { aggregate_id, sequence };
}

/** An item's table key, as one string. */
function keyOf(item: Record<string, AttributeValue>): string {
  const { aggregate_id, sequence } = unmarshall(tableKey(item));
  return `${aggregate_id}\u0000${sequence}`;
}

function withoutMarker(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const { relay_pending: _, ...rest } = item;
  return rest;
}
