import { symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureTable } from '../../../stream/eventStore/eventsTable.js';
import { dynalitesBatchWriteItem } from '../../../stream/local/dynaliteBatchWrites.js';
import { dynalitesDb } from '../../../stream/local/dynaliteKeys.js';
import { startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ownServer, startServerThread } from '../../../stream/local/serverThread.js';
import { tempDir } from '../../support/tempDir.js';

const TABLE = 'batched';

/** A table with a sparse global index on `g`. */
const create = (client: DynamoDBClient) =>
  ensureTable(client, {
    TableName: TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'g', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'by-g',
        KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });

const write = (client: DynamoDBClient, requests: object[]) =>
  client.send(
    new BatchWriteItemCommand({
      RequestItems: { [TABLE]: requests as never },
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
const put = (pk: string, g?: string, size = 10) => ({
  PutRequest: {
    Item: { pk: { S: pk }, ...(g ? { g: { S: g } } : {}), doc: { S: 'x'.repeat(size) } },
  },
});
const remove = (pk: string) => ({ DeleteRequest: { Key: { pk: { S: pk } } } });

describe.each([
  ['on a thread of its own', true],
  ['in this process', false],
])("the embedded dynalite's BatchWriteItem, %s", (_, thread) => {
  it('writes, moves and deletes items and their index entries, and bills as DynamoDB does', async () => {
    const dynamo = await startEmbeddedDynamo({ thread });
    const client = dynamoClient(ownServer(dynamo.endpoint));
    try {
      await create(client);
      // 25 items, the most a call takes; every other one in the index.
      const first = await write(
        client,
        Array.from({ length: 25 }, (_, i) =>
          put(`p${i}`, i % 2 ? 'odd' : undefined, i === 0 ? 2500 : 10),
        ),
      );
      // Over the same keys: moved to another index key, taken out of the index, deleted.
      const second = await write(client, [
        put('p1', 'one'),
        put('p3'),
        remove('p5'),
        remove('p0'),
        remove('none'),
      ]);
      const inIndex = async (g: string) =>
        (
          await client.send(
            new QueryCommand({
              TableName: TABLE,
              IndexName: 'by-g',
              KeyConditionExpression: 'g = :g',
              ExpressionAttributeValues: { ':g': { S: g } },
            }),
          )
        ).Items?.map((i) => i.pk?.S).sort();
      const items = (await client.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];

      expect(first.UnprocessedItems).toEqual({});
      // One unit an item of up to 1 KB, three for the one of 2.5 KB.
      expect(first.ConsumedCapacity).toEqual([{ TableName: TABLE, CapacityUnits: 24 + 3 }]);
      // p0 billed as large as it was when deleted; a key never written, one unit.
      expect(second.ConsumedCapacity).toEqual([{ TableName: TABLE, CapacityUnits: 4 + 3 }]);
      expect(await inIndex('one')).toEqual(['p1']);
      expect(await inIndex('odd')).toEqual(
        ['p7', 'p9', 'p11', 'p13', 'p15', 'p17', 'p19', 'p21', 'p23'].sort(),
      );
      expect(items.map((i) => i.pk?.S).sort()).toEqual(
        Array.from({ length: 25 }, (_, i) => `p${i}`)
          .filter((p) => p !== 'p0' && p !== 'p5')
          .sort(),
      );
    } finally {
      client.destroy();
      await dynamo.stop();
    }
  });
});

describe('a module patch of a server thread that replaces a module', () => {
  const tmp = tempDir();
  // dynalite's BatchWriteItem replaced by one that refuses every call.
  const refuse = (_db: unknown) => (_store: unknown, _data: unknown, cb: (e: Error) => void) =>
    cb(
      Object.assign(new Error('replaced'), {
        statusCode: 400,
        body: { __type: 'com.amazon.coral.validate#ValidationException', message: 'replaced' },
      }),
    );

  /** A server thread of dynalite with the patch of these two modules: every BatchWriteItem refused. */
  async function refusesBatchWrites(module: string, replaces: string): Promise<void> {
    const server = await startServerThread('dynalite', { createTableMs: 0 }, [
      { source: refuse.toString(), module, replaces },
    ]);
    const client = dynamoClient(ownServer(server.endpoint));
    try {
      await create(client);
      await expect(write(client, [put('a')])).rejects.toThrow('replaced');
    } finally {
      client.destroy();
      await server.stop();
    }
  }

  it('is what the server runs', async () => {
    await refusesBatchWrites(dynalitesDb(), dynalitesBatchWriteItem());
  });

  it('is what the server runs when its modules are named through a link to the folder of the package', async () => {
    // Prepare: a link to dynalite's folder (its db/index.js is the module the patch is given).
    const linked = tmp.path('dynalite');
    symlinkSync(dirname(dirname(dynalitesDb())), linked, 'dir');

    // Act, assess: the patch named by paths through the link.
    await refusesBatchWrites(
      join(linked, 'db', 'index.js'),
      join(linked, 'actions', 'batchWriteItem.js'),
    );
  });
});
