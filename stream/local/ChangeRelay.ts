import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { batchWriteReliably } from '../aws/dynamoBatch.js';
import { putRecordsReliably } from '../aws/putRecordsReliably.js';
import { commitChange, itemChange } from '../changes/commitChange.js';
import type { Commit } from '../eventStore/Commit.js';
import { fromItem, toItem } from '../eventStore/commitItem.js';
import { RELAY_INDEX } from '../eventStore/eventsTable.js';

export interface ChangeRelayOptions {
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly region?: string;
  /** Commits forwarded per pass (one PutRecords call holds up to 500). */
  readonly batchSize?: number;
  /** How long an idle relay waits before looking again, unless woken. */
  readonly pollIntervalMs?: number;
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
 * dynalite writes an item and its index entries one after the other: killed in between, it
 * can leave an index entry saying "pending" for an item that no longer carries the marker, and
 * writing the item back without the marker does not remove that entry (the item did not
 * change). Such an entry would come back on every pass, forwarded again each time, and the
 * pipeline would never settle. A key found pending right after the relay cleared it, whose
 * item has no marker, is such an entry: it is repaired by writing the item once with the marker and once without, which
 * makes the index follow the item.
 */
export class ChangeRelay {
  readonly stats: RelayStats = { forwarded: 0, passes: 0, refused: 0, repaired: 0 };
  /** Keys whose marker the last pass removed: one of them pending again is a stale entry. */
  private cleared = new Set<string>();
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private lock: Promise<void> = Promise.resolve();

  constructor(private readonly options: ChangeRelayOptions) {
    this.batchSize = Math.min(Math.max(options.batchSize ?? 500, 1), 500);
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
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
    const { dynamo, table, kinesis, streamName } = this.options;
    const region = this.options.region ?? 'us-east-1';
    const page = await dynamo.send(
      new QueryCommand({
        TableName: table,
        IndexName: RELAY_INDEX,
        KeyConditionExpression: 'relay_pending = :p',
        ExpressionAttributeValues: { ':p': { S: 'pending' } },
        Limit: this.batchSize,
      }),
    );
    const found = page.Items ?? [];
    if (found.length === 0) return 0;
    const stale = await this.staleOf(found);
    if (stale.size > 0) await this.repair(found.filter((item) => stale.has(keyOf(item))));
    const items = found.filter((item) => !stale.has(keyOf(item)));
    if (items.length === 0) {
      this.cleared.clear();
      return 0;
    }
    this.stats.passes++;
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
      const { record, partitionKey } = commitChange(commit, table, region);
      return { data: Buffer.from(JSON.stringify(record)), partitionKey, item: toItem(commit) };
    });
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
      ['aggregate_id', 'sequence'],
    );
    this.cleared = new Set(sent.map(keyOf));
    this.stats.forwarded += sent.length;
    if (sent.length > 0) this.options.onForwarded?.(sent.length);
    return sent.length;
  }

  /**
   * The keys among `found` whose index entry is stale: cleared by the last pass, and the item
   * itself (read consistently) without the marker.
   */
  private async staleOf(found: readonly Record<string, AttributeValue>[]): Promise<Set<string>> {
    const stale = new Set<string>();
    for (const item of found) {
      if (!this.cleared.has(keyOf(item))) continue;
      const { Item } = await this.options.dynamo.send(
        new GetItemCommand({
          TableName: this.options.table,
          Key: {
            aggregate_id: item.aggregate_id ?? { S: '' },
            sequence: item.sequence ?? { N: '0' },
          },
          ConsistentRead: true,
        }),
      );
      if (Item && !Item.relay_pending) stale.add(keyOf(item));
    }
    return stale;
  }

  /** Makes stale "pending" index entries follow their items (see the class comment). */
  private async repair(stale: readonly Record<string, AttributeValue>[]): Promise<void> {
    const { dynamo, table } = this.options;
    const keys = ['aggregate_id', 'sequence'];
    await batchWriteReliably(
      dynamo,
      table,
      stale.map((item) => ({ put: item })),
      keys,
    );
    await batchWriteReliably(
      dynamo,
      table,
      stale.map((item) => ({ put: withoutMarker(item) })),
      keys,
    );
    this.stats.repaired += stale.length;
    this.options.onError?.(
      new Error(`relay: repaired ${stale.length} stale entries of the pending index`),
    );
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

  /** Says a commit was stored: an idle relay looks at once instead of at its next poll. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let forwarded = 0;
      try {
        forwarded = await this.forwardPending();
      } catch (error) {
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
      if (forwarded === 0 && !this.stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }
}

/** An item's table key, as one string. */
function keyOf(item: Record<string, AttributeValue>): string {
  return `${item.aggregate_id?.S ?? ''}\u0000${item.sequence?.N ?? ''}`;
}

function withoutMarker(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const { relay_pending: _, ...rest } = item;
  return rest;
}
