import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportHandler } from '../../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { ensureTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { ownServer, serverThreadAt } from '../../../stream/local/serverThread.js';

const TABLE = 'thread-messages';

describe("a server thread answers this process's requests as messages", () => {
  let dynamo: EmbeddedDynamo;
  let kinesis: EmbeddedKinesis;
  beforeAll(async () => {
    [dynamo, kinesis] = await Promise.all([
      startEmbeddedDynamo({ thread: true }),
      startEmbeddedKinesis({ thread: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.stop(), kinesis?.stop()]);
  });

  it('dynalite: the same answers as over HTTP, errors included, each to its own request', async () => {
    const messages = dynamoClient(ownServer(dynamo.endpoint));
    const http = dynamoClient({ endpoint: dynamo.endpoint, unsigned: true });
    expect(messages.config.requestHandler).toBeInstanceOf(TransportHandler);
    expect(http.config.requestHandler).not.toBeInstanceOf(TransportHandler);

    await ensureTable(messages, {
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    // 300 writes at once, half of them by each way: every answer reaches its own request.
    const put = (client: typeof messages, i: number) =>
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: `k${i}` }, n: { N: String(i) }, b: { B: new Uint8Array([i % 256, 7]) } },
        }),
      );
    await Promise.all(Array.from({ length: 300 }, (_, i) => put(i % 2 ? messages : http, i)));
    const read = (client: typeof messages, i: number) =>
      client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `k${i}` } } }));
    const got = await Promise.all(Array.from({ length: 300 }, (_, i) => read(messages, i)));
    got.forEach((answer, i) => {
      expect(answer.Item).toEqual({
        pk: { S: `k${i}` },
        n: { N: String(i) },
        b: { B: new Uint8Array([i % 256, 7]) },
      });
    });
    expect((await read(http, 299)).Item).toEqual(got[299]?.Item);

    // A refused condition and a missing table come back as the SDK's typed errors.
    await expect(
      messages.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'k1' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(
      messages.send(new GetItemCommand({ TableName: 'no-such-table', Key: { pk: { S: 'a' } } })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('kinesalite: records put and read back whole', async () => {
    const messages = kinesisClient(ownServer(kinesis.endpoint));
    expect(messages.config.requestHandler).toBeInstanceOf(TransportHandler);
    await ensureStream(messages, 'thread-changes', 1);
    const data = Array.from({ length: 20 }, (_, i) => new Uint8Array([i, 0, 255, i * 3]));
    const put = await messages.send(
      new PutRecordsCommand({
        StreamName: 'thread-changes',
        Records: data.map((d, i) => ({ Data: d, PartitionKey: `p${i}` })),
      }),
    );
    expect(put.FailedRecordCount ?? 0).toBe(0);
    const { Shards } = await messages.send(new ListShardsCommand({ StreamName: 'thread-changes' }));
    const { ShardIterator } = await messages.send(
      new GetShardIteratorCommand({
        StreamName: 'thread-changes',
        ShardId: Shards?.[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records } = await messages.send(new GetRecordsCommand({ ShardIterator }));
    expect(Records?.map((r) => [...(r.Data ?? [])])).toEqual(data.map((d) => [...d]));
  });

  it('once the thread stops, its requests fail at once, saying so', async () => {
    const own = await startEmbeddedDynamo({ thread: true });
    const client = dynamoClient({ ...ownServer(own.endpoint), maxAttempts: 1 });
    expect(serverThreadAt(own.endpoint)).toBeDefined();
    await own.stop();

    expect(serverThreadAt(own.endpoint)).toBeUndefined();
    // No thread there now: a new client of that endpoint would go over HTTP.
    expect(ownServer(own.endpoint)).toEqual({ endpoint: own.endpoint, unsigned: true });
    await expect(
      client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } })),
    ).rejects.toThrow("the tables' store has stopped");
  });
});
