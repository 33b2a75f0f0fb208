import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { putRecordsReliably } from '../../../stream/aws/putRecordsReliably.js';
import { commitChange } from '../../../stream/changes/commitChange.js';
import { InMemoryCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import { inspectDocument } from '../../../stream/consumer/inspectRecords.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { EmbeddedRuntime } from '../../../stream/local/EmbeddedRuntime.js';
import { EventSourceMapping } from '../../../stream/local/EventSourceMapping.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { FolderInvocationRecords, failureFolder } from '../../../stream/local/failureFolder.js';
import { uuidFromName } from '../../../stream/uuid.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
const codec = new CommitCodec(registry);
let kinesis: EmbeddedKinesis;
let client: KinesisClient;

beforeAll(async () => {
  kinesis = await startEmbeddedKinesis();
  client = kinesisClient({ endpoint: kinesis.endpoint });
});

afterAll(async () => {
  client?.destroy();
  await kinesis?.stop();
});

describe("the local mapping's on-failure destination, as Lambda's S3 one", () => {
  it('writes a batch it gives up on as the invocation record Lambda writes to S3, whole, at the key Lambda uses; inspect decodes it', async () => {
    // Prepare: two commits on the stream; the consumer fails the second for good.
    await ensureStream(client, 'failures', 1);
    const commits = ['m1', 'm2'].map((m) =>
      codec.build(`match:${m}`, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(m) }]),
    );
    const put = await putRecordsReliably(
      client,
      'failures',
      commits.map((c) => {
        const { record, partitionKey } = commitChange(c, 'events', 'us-east-1');
        return { data: Buffer.from(JSON.stringify(record)), partitionKey };
      }),
    );
    expect(put.failed).toEqual([]);
    const folder = tmp.path('failures');
    const deadLetters = new InMemoryDeadLetterQueue();
    const esm = new EventSourceMapping({
      consumer: 'read-models',
      kinesis: client,
      streamName: 'failures',
      checkpoints: new InMemoryCheckpointStore(),
      deadLetters,
      onFailure: new FolderInvocationRecords(folder),
      maximumRetryAttempts: 1,
      pollIntervalMs: 20,
      retryDelayMs: 1,
      handler: async (event) => ({
        batchItemFailures: event.Records.filter((r) => r.kinesis.partitionKey === 'match:m2').map(
          (r) => ({ itemIdentifier: r.kinesis.sequenceNumber }),
        ),
      }),
    });

    // Act
    await esm.start();
    await esm.waitUntilIdle();
    await esm.stop();

    // Assess: one object, keyed aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>.
    const objects = await new FolderInvocationRecords(folder).list();
    expect(objects).toHaveLength(1);
    const [object] = objects;
    const uuid = uuidFromName('event-source-mapping:read-models');
    expect(object?.key).toMatch(
      new RegExp(
        `^aws/lambda/${uuid}/shardId-000000000000/\\d{4}/\\d{2}/\\d{2}/\\d{4}-\\d{2}-\\d{2}T\\d{2}\\.\\d{2}\\.\\d{2}-[0-9a-f-]{36}$`,
      ),
    );
    const record = JSON.parse(object?.body ?? '{}');
    expect(record).toMatchObject({
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:read-models',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 2,
      },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      version: '1.0',
      KinesisBatchInfo: { shardId: 'shardId-000000000000', batchSize: 1 },
    });
    // The payload is the event as the function was invoked with it, as JSON text.
    expect(typeof record.payload).toBe('string');
    const payload = JSON.parse(record.payload);
    expect(
      payload.Records.map((r: { kinesis: { partitionKey: string } }) => r.kinesis.partitionKey),
    ).toEqual(['match:m2']);
    expect(record.KinesisBatchInfo.startSequenceNumber).toBe(
      payload.Records[0].kinesis.sequenceNumber,
    );
    // The dead letter is kept as before.
    expect(deadLetters.letters).toHaveLength(1);
    // inspect reads the object into the event inside.
    const lines = inspectDocument(record, registry, object?.key);
    expect(lines).toEqual([
      expect.objectContaining({
        kind: 'event',
        event_type: 'MatchRecorded',
        aggregate_id: 'match:m2',
        source: expect.objectContaining({
          on_failure: expect.objectContaining({ condition: 'RetryAttemptsExhausted' }),
        }),
      }),
    ]);
  });

  it('reports an invocation record without its payload (what SQS keeps) as pointers into the stream', () => {
    const lines = inspectDocument(
      {
        requestContext: { functionArn: 'f', condition: 'RetryAttemptsExhausted' },
        KinesisBatchInfo: {
          shardId: 'shardId-1',
          startSequenceNumber: '4',
          endSequenceNumber: '9',
        },
      },
      registry,
      'queue.json',
    );
    expect(lines).toEqual([
      {
        kind: 'error',
        where: 'queue.json',
        error: expect.stringContaining('shard shardId-1 sequence 4 to 9'),
      },
    ]);
  });
});

describe('the embedded runtime on a data folder', () => {
  it("keeps what a consumer gave up on in the folder's failures/, beside the dead letter", async () => {
    // Prepare: a consumer whose effect fails for one match, every time.
    const dataDir = tmp.path('runtime');
    const runtime = await EmbeddedRuntime.start({
      dataDir,
      shards: 1,
      consumerDefaults: { maximumRetryAttempts: 1, retryDelayMs: 1 },
    });
    try {
      await runtime.addConsumer('read-models', async (events) => {
        if (events.some((e) => e.aggregate_id === 'match:bad')) throw new Error('cannot apply');
      });
      for (const m of ['good', 'bad'])
        await runtime.store.append(`match:${m}`, 0, [
          { event_type: 'MatchRecorded', data: matchRecorded(m) },
        ]);

      // Act
      await runtime.settle();

      // Assess
      const objects = await new FolderInvocationRecords(failureFolder(dataDir)).list();
      expect(objects.map((o) => o.key.split('/').slice(0, 3).join('/'))).toEqual([
        `aws/lambda/${uuidFromName('event-source-mapping:read-models')}`,
      ]);
      const lines = inspectDocument(JSON.parse(objects[0]?.body ?? '{}'), registry, 'object');
      expect(lines.map((l) => (l.kind === 'event' ? l.aggregate_id : l.error))).toEqual([
        'match:bad',
      ]);
      expect((await runtime.deadLetters.list('read-models')).length).toBe(1);
    } finally {
      await runtime.stop();
    }
  }, 60_000);
});
