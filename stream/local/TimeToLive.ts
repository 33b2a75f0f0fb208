import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import type { Log } from '../Log.js';

/** A table whose items may expire, and the attribute that says when (epoch seconds). */
export interface TtlTable {
  readonly table: string;
  readonly attribute: string;
}

/**
 * DynamoDB's TTL ignores an expiry more than five years in the past (Developer Guide, "Using
 * DynamoDB Time to Live (TTL)": the value "must be a datetimestamp with an expiration of no
 * more than five years in the past").
 */
const OLDEST_EXPIRY_SECONDS = 5 * 365 * 86_400;

/** Deletes in flight per table. */
const DELETES_IN_FLIGHT = 8;

export interface TimeToLiveOptions {
  readonly client: DynamoDBClient;
  /** The tables to sweep. */
  readonly tables: readonly TtlTable[];
  /**
   * Between the end of one sweep and the start of the next; the first starts at `start`.
   * DynamoDB deletes an expired item typically within a few days; an hour keeps a data
   * folder from growing with what has expired, at the cost of a scan of each table.
   * @default 3_600_000
   */
  readonly intervalMs?: number;
  /** The time now, in milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Where the sweeps say what they deleted (info) and what went wrong (warn). */
  readonly log?: Log;
  /** A sweep that failed; the next one tries again. */
  readonly onError?: (error: Error) => void;
}

/**
 * What DynamoDB's Time to Live does for a table, for the embedded dynalite, which has none:
 * a sweep scans each table for items whose TTL attribute is a number of epoch seconds now
 * past (and no more than five years past) and deletes each one on condition that the
 * attribute still holds what the scan saw, so an item given a later expiry meanwhile stays.
 * An item without the attribute, or with one of another type, never expires. Until a sweep
 * deletes it, an expired item is still read, as on AWS.
 */
export class TimeToLive {
  private readonly keys = new Map<string, readonly string[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly options: TimeToLiveOptions) {}

  /** Sweeps now, then every `intervalMs` after each sweep ends, until `stop`. */
  start(): void {
    if (this.stopped || this.timer || this.running) return;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.sweep()
        .catch((error: Error) => {
          this.options.log?.warn({ component: 'ttl', error: error.message }, 'TTL sweep failed');
          this.options.onError?.(error);
        })
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.options.intervalMs ?? 3_600_000);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Stops the sweeps; one under way ends after the deletes in flight, and is waited for. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * One sweep of every table: the items deleted, per table. A table that is not there (yet)
   * is skipped; any other failure ends the sweep with an error.
   */
  async sweep(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const table of this.options.tables) {
      if (this.stopped) break;
      const n = await this.sweepTable(table);
      if (n === undefined) continue;
      deleted[table.table] = n;
    }
    const total = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (total > 0) this.options.log?.info({ component: 'ttl', deleted }, 'expired items deleted');
    return deleted;
  }

  private async sweepTable(ttl: TtlTable): Promise<number | undefined> {
    const keys = await this.keyAttributes(ttl.table);
    if (!keys) return undefined;
    const now = Math.floor((this.options.now ?? Date.now)() / 1000);
    const names: Record<string, string> = { '#ttl': ttl.attribute };
    keys.forEach((k, i) => {
      names[`#k${i}`] = k;
    });
    let deleted = 0;
    const pages = paginateScan(
      { client: this.options.client },
      {
        TableName: ttl.table,
        // A comparison with a number matches numbers only: an attribute of another type
        // never expires, as on AWS.
        FilterExpression: '#ttl < :now AND #ttl >= :oldest',
        ProjectionExpression: ['#ttl', ...keys.map((_, i) => `#k${i}`)].join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':now': { N: String(now) },
          ':oldest': { N: String(now - OLDEST_EXPIRY_SECONDS) },
        },
      },
    );
    for await (const page of pages) {
      const items = page.Items ?? [];
      for (let i = 0; i < items.length && !this.stopped; i += DELETES_IN_FLIGHT) {
        const done = await Promise.all(
          items
            .slice(i, i + DELETES_IN_FLIGHT)
            .map((item) => deleteIfStillExpired(this.options.client, ttl, keys, item)),
        );
        deleted += done.filter(Boolean).length;
      }
      // A command that ends does not wait for the rest of a table; the next sweep does it.
      if (this.stopped) break;
    }
    return deleted;
  }

  /** The table's key attributes (hash, then range); undefined when there is no such table. */
  private async keyAttributes(table: string): Promise<readonly string[] | undefined> {
    const known = this.keys.get(table);
    if (known) return known;
    try {
      const { Table } = await this.options.client.send(
        new DescribeTableCommand({ TableName: table }),
      );
      const schema = Table?.KeySchema ?? [];
      const keys = ['HASH', 'RANGE'].flatMap((type) =>
        schema.filter((k) => k.KeyType === type).map((k) => k.AttributeName as string),
      );
      this.keys.set(table, keys);
      return keys;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }
}

/**
 * Deletes an item a scan found expired, unless its expiry changed since (or it is gone): true
 * if deleted.
 */
export async function deleteIfStillExpired(
  client: DynamoDBClient,
  ttl: TtlTable,
  keys: readonly string[],
  item: Record<string, AttributeValue>,
): Promise<boolean> {
  const seen = item[ttl.attribute];
  if (!seen) return false;
  const key = Object.fromEntries(keys.map((k) => [k, item[k] as AttributeValue]));
  try {
    await client.send(
      new DeleteItemCommand({
        TableName: ttl.table,
        Key: key,
        ConditionExpression: '#ttl = :seen',
        ExpressionAttributeNames: { '#ttl': ttl.attribute },
        ExpressionAttributeValues: { ':seen': seen },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
