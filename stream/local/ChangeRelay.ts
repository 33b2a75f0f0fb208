import { isDeepStrictEqual } from 'node:util';
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetReliably, batchWriteReliably } from '../aws/dynamoBatch.js';
import { putRecordsReliably } from '../aws/putRecordsReliably.js';
import { commitChange, itemChange } from '../changes/commitChange.js';
import type { Commit } from '../eventStore/Commit.js';
import { fromItem, toItem } from '../eventStore/commitItem.js';
import { RELAY_INDEX, RELAY_MARKER } from '../eventStore/eventsTable.js';

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
}

/**
 * The table → Kinesis hop where Kinesis Data Streams for DynamoDB is not available (the
 * embedded default): it forwards each new commit as the change record AWS would write, with
 * the aggregate id as partition key.
 *
 * At least once, and nothing lost across a crash: commits are written with a `relay_pending`
 * marker (a sparse index), the relay finds them there, and removes the marker only after
 * Kinesis accepted the record. A crash in between forwards the commit again, which the
 * consumers' per-stream positions absorb.
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
 * The store of this process hands over each commit it stored (`notify(commit)`): those are
 * forwarded first, as they were written, without reading them back from the index and the
 * table (the store was answered, so the item is there, marker and all); the index is read
 * when none is waiting. A commit forwarded from the index is not forwarded again when it was
 * handed over too, and one Kinesis refused stays pending in the index, as any other, for a
 * later pass. A relay that stops, or is handed more than `MAX_HANDED` at once, leaves the rest
 * pending, where a pass over the index (this relay's, or the next process's) finds it.
 */
export class ChangeRelay {
  readonly stats: RelayStats = { forwarded: 0, passes: 0, refused: 0, repaired: 0, unstored: 0 };
  /** Entries without an item in the last pass, and those reported already. */
  private unstoredBefore = new Set<string>();
  private readonly reported = new Set<string>();
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  /** Set by `notify`: a commit came while a pass ran, which that pass may have missed. */
  private notified = false;
  private lock: Promise<void> = Promise.resolve();
  /** Commits the store of this process stored and handed over (`notify`), not forwarded yet. */
  private handed = new Map<string, Commit>();

  constructor(private readonly options: ChangeRelayOptions) {
    this.batchSize = Math.min(Math.max(options.batchSize ?? 500, 1), 500);
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.maxPollIntervalMs = Math.max(this.pollIntervalMs, options.maxPollIntervalMs ?? 2_000);
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
    if (this.handed.size > 0) return this.forwardHanded();
    const { dynamo, table } = this.options;
    const region = this.options.region ?? 'us-east-1';
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
    const records = items.map((pending) => {
      const item = withoutMarker(pending);
      let commit: Commit;
      try {
        commit = fromItem(item, table);
      } catch (error) {
        // Not a commit: forwarded as it is, for the consumers to dead-letter with why.
        this.options.onError?.(
          new Error(
            `relay: forwarding a malformed item as it is: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
        const { record, partitionKey } = itemChange(item, table, region);
        return { data: Buffer.from(JSON.stringify(record)), partitionKey, item };
      }
      return this.recordOf(commit);
    });
    const sent = await this.send(records);
    // Handed over meanwhile as well: forwarded already.
    for (const item of sent) this.handed.delete(keyOf(item));
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

  /** A commit's change record, and its item as written back without the marker. */
  private recordOf(commit: Commit): Forwarded {
    const { record, partitionKey } = commitChange(
      commit,
      this.options.table,
      this.options.region ?? 'us-east-1',
    );
    return { data: Buffer.from(JSON.stringify(record)), partitionKey, item: toItem(commit) };
  }

  /**
   * Puts the records on the stream, then takes the ones Kinesis accepted out of the pending
   * index; the items of those.
   */
  private async send(records: readonly Forwarded[]): Promise<Record<string, AttributeValue>[]> {
    const { dynamo, table, kinesis, streamName } = this.options;
    this.stats.passes++;
    const result = await putRecordsReliably(kinesis, streamName, records);
    for (const failed of result.failed) {
      this.stats.refused++;
      this.options.onError?.(
        new Error(
          `relay: Kinesis refused the change of ${failed.record.partitionKey}: ${failed.errorCode}: ${failed.errorMessage}`,
        ),
      );
    }
    // Only now is the commit safely in the stream: take it out of the pending index by
    // writing the item back without the marker (commits never change, so this is safe, and
    // it batches where UpdateItem would not).
    const sent = result.sent.map((s) => s.record.item);
    await batchWriteReliably(
      dynamo,
      table,
      sent.map((item) => ({ put: item })),
      KEY,
    );
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

  /** Forwards until nothing is pending. */
  async drain(): Promise<void> {
    while ((await this.forwardPending()) > 0);
  }

  /** Runs in the background until `stop()`, forwarding as commits come (see `notify`). */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /**
   * Says a commit was stored: an idle relay looks at once instead of at its next poll. Given
   * the commit (stored by this process, with the marker), it forwards it without reading it.
   */
  notify(commit?: Commit): void {
    if (commit && this.handed.size < MAX_HANDED)
      this.handed.set(`${commit.aggregate_id}\u0000${commit.sequence}`, commit);
    this.notified = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    // What was handed over and not forwarded is pending in the index, for the next relay.
    this.handed.clear();
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  private async loop(): Promise<void> {
    // Passes in a row that found nothing: an idle relay looks less and less often (every
    // commit of this process wakes it), so an idle pipeline sends next to no requests.
    let idle = 0;
    while (!this.stopping) {
      let forwarded = 0;
      this.notified = false;
      try {
        forwarded = await this.forwardPending();
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

/** A record to put on the stream, with the item to write back once Kinesis took it. */
interface Forwarded {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly item: Record<string, AttributeValue>;
}

/**
 * Commits kept when handed over faster than they are forwarded (about 1 KB each); past that,
 * the others are found in the index.
 */
const MAX_HANDED = 10_000;

/** The events table's key attributes. */
const KEY = ['aggregate_id', 'sequence'];

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
