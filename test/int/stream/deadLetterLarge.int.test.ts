import { randomBytes } from 'node:crypto';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { putRecordsReliably } from '../../../stream/aws/putRecordsReliably.js';
import { commitChange } from '../../../stream/changes/commitChange.js';
import { InMemoryCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import {
  DEAD_LETTERS_TABLE,
  type DeadLetter,
  DynamoDeadLetterQueue,
} from '../../../stream/consumer/DeadLetterQueue.js';
import { decodeRecord } from '../../../stream/consumer/decodeRecord.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { EventSourceMapping } from '../../../stream/local/EventSourceMapping.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { ensureRuntimeTables } from '../../../stream/local/localTables.js';
import { matchRecorded, registry } from '../../support/registry.js';

let dynamoServer: EmbeddedDynamo;
let kinesisServer: EmbeddedKinesis;
let dynamo: DynamoDBClient;
let kinesis: KinesisClient;

beforeAll(async () => {
  dynamoServer = await startEmbeddedDynamo();
  kinesisServer = await startEmbeddedKinesis();
  dynamo = dynamoClient({ endpoint: dynamoServer.endpoint });
  kinesis = kinesisClient({ endpoint: kinesisServer.endpoint });
  await ensureRuntimeTables(dynamo);
});

afterAll(async () => {
  dynamo?.destroy();
  kinesis?.destroy();
  await kinesisServer?.stop();
  await dynamoServer?.stop();
});

describe('a consumer that cannot process a large commit', () => {
  it('dead-letters its whole record and goes on with the shard', async () => {
    // Prepare: a commit of 1,000 results (284 KB stored, 550 KB as Lambda hands it over) that
    // the consumer fails on, and a small one behind it on the same shard.
    const codec = new CommitCodec(registry);
    const commitOf = (id: string, count: number) =>
      codec.build(
        id,
        0,
        Array.from({ length: count }, (_, i) => ({
          event_type: 'MatchRecorded',
          data: matchRecorded(`m${i}`),
        })),
      );
    const [large, small] = [commitOf('match:large', 1_000), commitOf('match:small', 1)];
    await ensureStream(kinesis, 'changes', 1);
    const put = await putRecordsReliably(
      kinesis,
      'changes',
      [large, small].map((commit) => {
        const { record, partitionKey } = commitChange(commit, 'events', 'us-east-1');
        return { data: Buffer.from(JSON.stringify(record)), partitionKey };
      }),
    );
    expect(put.failed).toEqual([]);
    const deadLetters = new DynamoDeadLetterQueue(dynamo);
    const applied: string[] = [];
    const mapping = new EventSourceMapping({
      consumer: 'read-models',
      kinesis,
      streamName: 'changes',
      checkpoints: new InMemoryCheckpointStore(),
      deadLetters,
      maximumRetryAttempts: 1,
      retryDelayMs: 1,
      pollIntervalMs: 20,
      handler: async ({ Records }) => {
        const commits = Records.map((r) => decodeRecord(r).commit);
        if (commits.some((c) => c?.aggregate_id === 'match:large')) throw new Error('boom');
        applied.push(...commits.map((c) => c?.aggregate_id ?? '?'));
        return { batchItemFailures: [] };
      },
    });

    // Act
    await mapping.start();
    await mapping.waitUntilIdle(15_000);
    await mapping.stop();

    // Assess
    expect(applied).toEqual(['match:small']);
    const letters = await deadLetters.list('read-models');
    expect(letters).toHaveLength(1);
    expect(letters[0]?.error).toBe('boom');
    expect(decodeRecord(letters[0]?.record ?? ({} as never)).commit).toEqual(large);
  }, 30_000);
});

describe('a letter larger than an item even gzipped', () => {
  /** A letter of `kib` KiB that gzip cannot shrink (random bytes, as base64). */
  const letterOf = (consumer: string, kib: number, error: string): DeadLetter => ({
    consumer,
    event: { data: randomBytes(kib * 768).toString('base64') },
    error,
    attempts: 1,
    failed_at: new Date().toISOString(),
  });
  const itemsOf = async (consumer: string) =>
    (
      (await dynamo.send(new ScanCommand({ TableName: DEAD_LETTERS_TABLE, ConsistentRead: true })))
        .Items ?? []
    ).filter((i) => i.consumer?.S === consumer);

  it('is kept in parts, read back whole, rewritten and removed with them', async () => {
    // Prepare: 900 KiB of base64 that gzip leaves at about 680 KiB, over an item's 400 KB.
    const queue = new DynamoDeadLetterQueue(dynamo);
    const letter = letterOf('parts-test', 900, 'too large to apply');

    // Act
    await queue.send(letter);

    // Assert: the letter is as sent, counted once, and stored as an item and its parts.
    expect(await queue.list('parts-test')).toEqual([letter]);
    expect((await queue.counts())['parts-test']).toBe(1);
    const stored = await itemsOf('parts-test');
    expect(stored.filter((i) => i.part).length).toBeGreaterThanOrEqual(2);

    // Rewritten smaller (it fits an item now), then larger again: read whole each time, and
    // no part of an earlier version is left.
    const [entry] = await queue.entries('parts-test');
    const key = entry?.key ?? { consumer: '', id: '' };
    const small = { ...letter, error: 'failed again', attempts: 2 };
    delete (small as { event?: unknown }).event;
    expect(await queue.replace(key, small)).toBe(true);
    expect(await queue.list('parts-test')).toEqual([small]);
    expect(await itemsOf('parts-test')).toHaveLength(1);
    const large = letterOf('parts-test', 1_200, 'failed a third time');
    expect(await queue.replace(key, large)).toBe(true);
    expect(await queue.list('parts-test')).toEqual([large]);
    const parts = (await itemsOf('parts-test')).filter((i) => i.part).length;
    expect(parts).toBe(3);

    // Removed: the letter and every part.
    await queue.remove(key);
    expect(await queue.list('parts-test')).toEqual([]);
    expect(await itemsOf('parts-test')).toEqual([]);
  }, 30_000);
});
