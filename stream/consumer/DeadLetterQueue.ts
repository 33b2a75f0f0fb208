import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
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
 * A gzipped letter larger than an item is kept in parts of this size, each an item of its own
 * beside the letter's (sort key `<id>#part#<token>#<n>`), written before it: a letter is never
 * seen without its parts. The token is new each time a letter is written, so rewriting one
 * never changes the parts it is read with until it names the new ones.
 */
const PART_BYTES = 350 * 1024;

/** How a letter's JSON is stored: as text, gzipped, or gzipped in parts. */
function encodeLetter(json: string): {
  /** The letter's own attributes. */
  readonly body: Record<string, unknown>;
  /** Its parts (none when it fits an item) and the token they are named with. */
  readonly parts: readonly Buffer[];
  readonly token: string;
} {
  if (Buffer.byteLength(json) <= MAX_JSON_BYTES)
    return { body: { letter: json }, parts: [], token: '' };
  const gzipped = gzipSync(json);
  if (gzipped.length <= MAX_JSON_BYTES)
    return { body: { letter_gz: gzipped }, parts: [], token: '' };
  const parts: Buffer[] = [];
  for (let at = 0; at < gzipped.length; at += PART_BYTES)
    parts.push(gzipped.subarray(at, at + PART_BYTES));
  const token = randomUUID().slice(0, 8);
  return { body: { letter_parts: parts.length, parts_token: token }, parts, token };
}

/** The sort key of the nth part of a letter written with this token. */
const partId = (id: string, token: string, n: number) =>
  `${id}#part#${token}#${String(n).padStart(4, '0')}`;

/** The parts a stored letter is read with: none, or a count and the token they were written with. */
function partsOf(item: Record<string, AttributeValue> | undefined): {
  readonly token: string;
  readonly count: number;
} {
  return { token: item?.parts_token?.S ?? '', count: Number(item?.letter_parts?.N ?? 0) };
}

/**
 * Dead letters in a DynamoDB table: durable, one item per record, readable with `inspect`.
 * A letter keeps the whole record, which can be larger than an item: a commit of 284 KB is a
 * record of 550 KB as Lambda hands it over. Such a letter is stored gzipped (that one: 70 KB),
 * and one still larger gzipped in parts (`PART_BYTES`): the change record of a calculation of
 * 10,000 teams, whose stored data is gzipped Avro already, took over 400 KB gzipped, and a
 * consumer that could not store it as a letter retried it forever, holding its shard.
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
    const id = `${letter.failed_at}#${randomUUID()}`;
    const { body, parts, token } = encodeLetter(json);
    await this.putParts({ consumer: letter.consumer, id }, token, parts, expires);
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ consumer: letter.consumer, id, ...body, expires_at: expires }),
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
    await this.removeParts(key, partsOf(removed));
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
    const { body, parts, token } = encodeLetter(JSON.stringify(letter));
    if (parts.length > 0) {
      // New parts first, under a new token (the letter as stored reads whole with its own
      // until it names the new ones), expiring with the letter.
      const { Item: stored } = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: marshall(key), ConsistentRead: true }),
      );
      if (!stored) return false;
      await this.putParts(key, token, parts, Number(stored.expires_at?.N ?? 0));
    }
    const set = Object.keys(body);
    const removed = ['letter', 'letter_gz', 'letter_parts', 'parts_token'].filter(
      (n) => !set.includes(n),
    );
    let before: Record<string, AttributeValue> | undefined;
    try {
      ({ Attributes: before } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(key),
          UpdateExpression: `SET ${set.map((n) => `${n} = :${n}`).join(', ')} REMOVE ${removed.join(', ')}`,
          ExpressionAttributeValues: marshall(
            Object.fromEntries(Object.entries(body).map(([n, v]) => [`:${n}`, v])),
          ),
          ConditionExpression: 'attribute_exists(id)',
          ReturnValues: 'ALL_OLD',
        }),
      ));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      await this.removeParts(key, { token, count: parts.length });
      return false;
    }
    // The parts of the letter this one replaced, as the update found it.
    await this.removeParts(key, partsOf(before));
    return true;
  }

  /** Writes a letter's parts (none for a letter that fits an item), named with its token. */
  private async putParts(
    key: StoredDeadLetter['key'],
    token: string,
    parts: readonly Buffer[],
    expires: number,
  ): Promise<void> {
    for (const [n, part] of parts.entries())
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            consumer: key.consumer,
            id: partId(key.id, token, n),
            part,
            // Parts expire with their letter; a part left by a write cut short goes with them.
            ...(expires > 0 ? { expires_at: expires } : {}),
          }),
        }),
      );
  }

  /** Deletes the parts a letter was read with. */
  private async removeParts(
    key: StoredDeadLetter['key'],
    { token, count }: ReturnType<typeof partsOf>,
  ): Promise<void> {
    for (let n = 0; n < count; n++)
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall({ consumer: key.consumer, id: partId(key.id, token, n) }),
        }),
      );
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
    const rows: Record<string, unknown>[] = [];
    const parts = new Map<string, Uint8Array>();
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
      for (const item of page.Items ?? []) {
        if (item.consumer?.S === COUNTS) continue;
        const row = unmarshall(item);
        if (row.part instanceof Uint8Array) parts.set(`${row.consumer}\u0000${row.id}`, row.part);
        else rows.push(row);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    // Assembled once every page is read: a letter's parts may come on a later page than it.
    const now = Math.floor(this.now() / 1000);
    for (const row of rows) {
      const {
        letter,
        letter_gz: gzipped,
        letter_parts: count,
        parts_token: token,
        expires_at: expires,
        id,
      } = row;
      if (typeof expires === 'number' && expires <= now) continue;
      const key = { consumer: String(row.consumer), id: String(id) };
      const inParts =
        typeof count === 'number'
          ? Buffer.concat(
              Array.from({ length: count }, (_, n) => {
                const part = parts.get(`${key.consumer}\u0000${partId(key.id, String(token), n)}`);
                if (!part)
                  throw new Error(
                    `dead letter ${key.consumer}/${key.id}: part ${n} of ${count} is missing`,
                  );
                return part;
              }),
            )
          : undefined;
      const json = inParts
        ? gunzipSync(inParts).toString('utf8')
        : gzipped instanceof Uint8Array
          ? gunzipSync(gzipped).toString('utf8')
          : typeof letter === 'string'
            ? letter
            : '{}';
      letters.push({ key, letter: JSON.parse(json) as DeadLetter });
    }
    return letters;
  }
}
