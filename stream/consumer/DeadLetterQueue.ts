import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
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
}

/** The on-failure destination of consumers. */
export interface DeadLetterQueue {
  send(letter: DeadLetter): Promise<void>;
  /** Every letter (of one consumer, or all). */
  list(consumer?: string): Promise<DeadLetter[]>;
}

export class InMemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];

  async send(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }

  async list(consumer?: string): Promise<DeadLetter[]> {
    return this.letters.filter((l) => consumer === undefined || l.consumer === consumer);
  }
}

/** The dead-letter table's default name: partition key `consumer`, sort key `id`. */
export const DEAD_LETTERS_TABLE = 'matchstream-dead-letters';

/** The most a letter stored as JSON text takes: an item's 400 KB, less room for its key. */
const MAX_JSON_BYTES = 400 * 1024 - 1024;

/**
 * Dead letters in a DynamoDB table: durable, one item per record, readable with `inspect`.
 * A letter keeps the whole record, which can be larger than an item: a commit of 284 KB is a
 * record of 550 KB as Lambda hands it over. Such a letter is stored gzipped (that one: 70 KB).
 */
export class DynamoDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table = DEAD_LETTERS_TABLE,
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    const json = JSON.stringify(letter);
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          consumer: letter.consumer,
          id: `${letter.failed_at}#${randomUUID()}`,
          ...(Buffer.byteLength(json) <= MAX_JSON_BYTES
            ? { letter: json }
            : { letter_gz: gzipSync(json) }),
        }),
      }),
    );
  }

  async list(consumer?: string): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
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
        const { letter, letter_gz: gzipped } = unmarshall(item);
        const json =
          gzipped instanceof Uint8Array
            ? gunzipSync(gzipped).toString('utf8')
            : typeof letter === 'string'
              ? letter
              : '{}';
        letters.push(JSON.parse(json) as DeadLetter);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return letters;
  }
}
