import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { putRecordsReliably } from '../../../stream/aws/putRecordsReliably.js';
import { commitChange } from '../../../stream/changes/commitChange.js';
import { InMemoryCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { DynamoDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
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
