import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendsDirectly } from '../../../stream/aws/directDynamo.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ownServer } from '../../../stream/local/serverThread.js';

/**
 * An output without what differs from one request to the next: its request id, and the order
 * of BatchGetItem's items, which DynamoDB does not promise.
 */
function answer(output: object): object {
  const { $metadata, ...rest } = output as {
    $metadata: object;
    Responses?: Record<string, object[]>;
  };
  if (rest.Responses)
    for (const items of Object.values(rest.Responses))
      items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return rest;
}

describe("dynalite on a thread answers requests handed over directly as it answers the SDK's", () => {
  let dynamo: EmbeddedDynamo;
  let direct: DynamoDBClient;
  let sdk: DynamoDBClient;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ thread: true });
    direct = dynamoClient(ownServer(dynamo.endpoint));
    sdk = dynamoClient({ endpoint: dynamo.endpoint, unsigned: true });
    for (const table of ['direct-a', 'direct-b'])
      await ensureTable(sdk, {
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      });
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  it('the same outputs for every operation on items, bytes included', async () => {
    expect(sendsDirectly(direct)).toBe(true);
    expect(sendsDirectly(sdk)).toBe(false);
    const item = (i: number) => ({
      pk: { S: 'p' },
      sk: { N: String(i) },
      b: { B: new Uint8Array([i % 256, 0, 255]) },
      bs: { BS: [new Uint8Array([i % 256]), new Uint8Array([1, 2])] },
      doc: { M: { list: { L: [{ S: 'x' }, { N: '1.5' }, { NULL: true }, { BOOL: false }] } } },
      ss: { SS: ['a', 'b'] },
    });
    // Each client writes its own table the same way, then both read both tables.
    for (const [client, table] of [
      [direct, 'direct-a'],
      [sdk, 'direct-b'],
    ] as const) {
      await client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [table]: Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: item(i) } })),
          },
        }),
      );
      await client.send(new PutItemCommand({ TableName: table, Item: item(25) }));
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'p' }, sk: { N: '3' } },
          UpdateExpression: 'SET #n = :n',
          ExpressionAttributeNames: { '#n': 'note' },
          ExpressionAttributeValues: { ':n': { B: new Uint8Array([9]) } },
        }),
      );
      await client.send(
        new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'p' }, sk: { N: '4' } } }),
      );
    }
    const reads = (table: string) => [
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'p' }, sk: { N: '3' } } }),
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'p' }, sk: { N: '4' } } }),
      new BatchGetItemCommand({
        RequestItems: {
          [table]: { Keys: [0, 1, 2, 4].map((i) => ({ pk: { S: 'p' }, sk: { N: String(i) } })) },
        },
      }),
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :z',
        ExpressionAttributeValues: { ':p': { S: 'p' }, ':a': { N: '2' }, ':z': { N: '20' } },
        Limit: 5,
        ScanIndexForward: false,
      }),
      new ScanCommand({ TableName: table, Limit: 7, ReturnConsumedCapacity: 'TOTAL' }),
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'p' }, sk: { N: '5' } },
        UpdateExpression: 'REMOVE doc',
        ReturnValues: 'ALL_OLD',
      }),
    ];
    const a = [];
    const b = [];
    for (const command of reads('direct-a')) a.push(answer(await direct.send(command as never)));
    for (const command of reads('direct-b')) b.push(answer(await sdk.send(command as never)));
    // The tables' names aside, which each answer carries.
    expect(JSON.parse(JSON.stringify(a).replaceAll('direct-a', 'T'))).toEqual(
      JSON.parse(JSON.stringify(b).replaceAll('direct-b', 'T')),
    );
    const got = (await direct.send(
      new GetItemCommand({ TableName: 'direct-a', Key: { pk: { S: 'p' }, sk: { N: '3' } } }),
    )) as { Item?: Record<string, { B?: Uint8Array; BS?: Uint8Array[] }> };
    expect(got.Item?.b?.B).toBeInstanceOf(Uint8Array);
    expect([...(got.Item?.b?.B ?? [])]).toEqual([3, 0, 255]);
    expect(got.Item?.bs?.BS?.map((x) => [...x])).toEqual([[3], [1, 2]]);
    expect([...(got.Item?.note?.B ?? [])]).toEqual([9]);
    // Pages: a query continued from where the last one stopped.
    const first = await direct.send(
      new QueryCommand({
        TableName: 'direct-a',
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'p' } },
        Limit: 10,
      }),
    );
    const rest = await direct.send(
      new QueryCommand({
        TableName: 'direct-a',
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'p' } },
        ExclusiveStartKey: first.LastEvaluatedKey,
      }),
    );
    expect((first.Items?.length ?? 0) + (rest.Items?.length ?? 0)).toBe(25);
  });

  it("errors as the client's own exceptions, each request checked for itself", async () => {
    const put = () =>
      direct.send(
        new PutItemCommand({
          TableName: 'direct-a',
          Item: { pk: { S: 'once' }, sk: { N: '1' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await put();
    for (let i = 0; i < 2; i++)
      await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(
      direct.send(new GetItemCommand({ TableName: 'no-such', Key: { pk: { S: 'x' } } })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    // An expression parsed before, now with a value it does not use: refused as it would be.
    const update = (values: Record<string, { S: string }>) =>
      direct.send(
        new UpdateItemCommand({
          TableName: 'direct-a',
          Key: { pk: { S: 'once' }, sk: { N: '1' } },
          UpdateExpression: 'SET v = :v',
          ExpressionAttributeValues: values,
        }),
      );
    await update({ ':v': { S: 'a' } });
    await update({ ':v': { S: 'a' } });
    await expect(update({ ':v': { S: 'a' }, ':unused': { S: 'b' } })).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('unused in expressions'),
    });
  });
});
