import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamRecord } from './kinesisEvent.js';

/**
 * Something given up on, kept whole with why: a stream record a consumer could not process,
 * or a bus event a target (or EventBridge) would not take.
 */
export interface DeadLetter {
  /** Who gave up: a consumer, `bus:<bus>/<rule>` for a bus target, `publish:<bus>` for PutEvents. */
  readonly consumer: string;
  /** The Kinesis record, as the handler received it. */
  readonly record?: KinesisStreamRecord;
  /** The bus event or PutEvents entry. */
  readonly event?: unknown;
  readonly error: string;
  readonly attempts: number;
  readonly failed_at: string;
  /** When it was last sent back and failed again (with `error` the new reason). */
  readonly redriven_at?: string;
}

/** A letter of the dead-letter table with its key there. */
export interface StoredDeadLetter {
  readonly key: { readonly consumer: string; readonly id: string };
  readonly letter: DeadLetter;
}

/** The on-failure destination of consumers. */
export interface DeadLetterQueue {
  send(letter: DeadLetter): Promise<void>;
  /** Every letter (of one consumer, or all). */
  list(consumer?: string): Promise<DeadLetter[]>;
  /** How many letters each consumer has, without reading them (what `/health` shows). */
  counts(): Promise<Record<string, number>>;
}

/** All the letters of `counts()`. */
export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

export class InMemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];

  async send(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }

  async list(consumer?: string): Promise<DeadLetter[]> {
    return this.letters.filter((l) => consumer === undefined || l.consumer === consumer);
  }

  async counts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const l of this.letters) counts[l.consumer] = (counts[l.consumer] ?? 0) + 1;
    return counts;
  }
}

/**
 * How long a dead letter is kept: 14 days, the longest SQS keeps a message, long enough to be
 * seen after a holiday weekend and read with `inspect`; DynamoDB's TTL then deletes it (within
 * days of expiry, not at the second: reads do not rely on it).
 */
export const DEAD_LETTER_DAYS = 14;

/** The partition that holds the letters' counters, one item per consumer and day. */
const COUNTS = '#counts';
const DAY_MS = 86_400_000;

/** The dead-letter table's default name: partition key `consumer`, sort key `id`. */
export const DEAD_LETTERS_TABLE = 'matchstream-dead-letters';

/** The most a letter stored as JSON text takes: an item's 400 KB, less room for its key. */
const MAX_JSON_BYTES = 400 * 1024 - 1024;

/**
 * Dead letters in a DynamoDB table: durable, one item per record, readable with `inspect`.
 * A letter keeps the whole record, which can be larger than an item: a commit of 284 KB is a
 * record of 550 KB as Lambda hands it over. Such a letter is stored gzipped (that one: 70 KB).
 * Each letter expires at the end of the 14th day after the day it is stored (`expires_at`,
 * epoch seconds, the table's TTL attribute; neither list nor count shows it after that). Beside the letters, a counter per consumer and day (partition
 * `#counts`, incremented with ADD when a letter is stored, expiring with that day's letters)
 * lets `counts()` answer with one small query instead of reading every letter.
 */
export class DynamoDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table = DEAD_LETTERS_TABLE,
    private readonly now: () => number = Date.now,
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    const json = JSON.stringify(letter);
    const day = new Date(this.now()).toISOString().slice(0, 10);
    // A letter expires with its day's counter, at the end of its last day: kept 14 to 15 days.
    const expires = Math.ceil((Date.parse(day) + (DEAD_LETTER_DAYS + 1) * DAY_MS) / 1000);
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          consumer: letter.consumer,
          id: `${letter.failed_at}#${randomUUID()}`,
          ...(Buffer.byteLength(json) <= MAX_JSON_BYTES
            ? { letter: json }
            : { letter_gz: gzipSync(json) }),
          expires_at: expires,
        }),
      }),
    );
    // Counted after it is stored: a crash in between undercounts by one, never shows a
    // letter that is not there.
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ consumer: COUNTS, id: `${letter.consumer}#${day}` }),
        UpdateExpression: 'ADD letters :one SET expires_at = :expires',
        ExpressionAttributeValues: marshall({ ':one': 1, ':expires': expires }),
      }),
    );
  }

  /**
   * Removes a letter (one that was sent back) and takes it off its day's count. Removing one
   * that is gone already does nothing, so a redrive cut short can be run again.
   */
  async remove(key: StoredDeadLetter['key']): Promise<void> {
    const { Attributes: removed } = await this.client.send(
      new DeleteItemCommand({
        TableName: this.table,
        Key: marshall(key),
        ReturnValues: 'ALL_OLD',
      }),
    );
    const expires = removed?.expires_at?.N;
    if (!removed || expires === undefined) return;
    // The counter is the day's the letter expires with (see `send`): kept 15 days after it.
    const day = new Date(Number(expires) * 1000 - (DEAD_LETTER_DAYS + 1) * DAY_MS)
      .toISOString()
      .slice(0, 10);
    await this.client
      .send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ consumer: COUNTS, id: `${key.consumer}#${day}` }),
          // Only a counter that is there and above 0: a crash between the two writes of `send`
          // undercounts, and a count never goes below what is stored.
          UpdateExpression: 'ADD letters :minus',
          ConditionExpression: 'letters > :zero',
          ExpressionAttributeValues: marshall({ ':minus': -1, ':zero': 0 }),
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
  }

  /**
   * Rewrites a letter in place (the same key, the same expiry): a letter that failed again
   * keeps its place with the new reason. Only a letter still there is rewritten (false when it
   * is gone).
   */
  async replace(key: StoredDeadLetter['key'], letter: DeadLetter): Promise<boolean> {
    const json = JSON.stringify(letter);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(key),
          ...(Buffer.byteLength(json) <= MAX_JSON_BYTES
            ? {
                UpdateExpression: 'SET letter = :letter REMOVE letter_gz',
                ExpressionAttributeValues: marshall({ ':letter': json }),
              }
            : {
                UpdateExpression: 'SET letter_gz = :gz REMOVE letter',
                ExpressionAttributeValues: marshall({ ':gz': gzipSync(json) }),
              }),
          ConditionExpression: 'attribute_exists(id)',
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async counts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const now = Math.floor(this.now() / 1000);
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'consumer = :c',
          ExpressionAttributeValues: marshall({ ':c': COUNTS }),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const { id, letters, expires_at: expires } = unmarshall(item);
        // TTL deletes within days of expiry: what has expired is not counted meanwhile.
        if (typeof expires === 'number' && expires <= now) continue;
        const consumer = String(id).slice(0, String(id).lastIndexOf('#'));
        counts[consumer] = (counts[consumer] ?? 0) + Number(letters ?? 0);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return counts;
  }

  async list(consumer?: string): Promise<DeadLetter[]> {
    return (await this.entries(consumer)).map((e) => e.letter);
  }

  /** Every letter (of one consumer, or all) with its key in the table. */
  async entries(consumer?: string): Promise<StoredDeadLetter[]> {
    const letters: StoredDeadLetter[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        consumer === undefined
          ? new ScanCommand({
              TableName: this.table,
              ExclusiveStartKey: start,
              ConsistentRead: true,
            })
          : new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: 'consumer = :c',
              ExpressionAttributeValues: marshall({ ':c': consumer }),
              ExclusiveStartKey: start,
              ConsistentRead: true,
            }),
      );
      const now = Math.floor(this.now() / 1000);
      for (const item of page.Items ?? []) {
        if (item.consumer?.S === COUNTS) continue;
        const { letter, letter_gz: gzipped, expires_at: expires, id } = unmarshall(item);
        if (typeof expires === 'number' && expires <= now) continue;
        const json =
          gzipped instanceof Uint8Array
            ? gunzipSync(gzipped).toString('utf8')
            : typeof letter === 'string'
              ? letter
              : '{}';
        letters.push({
          key: { consumer: String(item.consumer?.S), id: String(id) },
          letter: JSON.parse(json) as DeadLetter,
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return letters;
  }
}
