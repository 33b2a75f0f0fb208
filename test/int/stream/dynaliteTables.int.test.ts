import {
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ownServer } from '../../../stream/local/serverThread.js';

describe('the embedded dynalite, its table descriptions kept, follows every change of a table', () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ thread: true });
    client = dynamoClient(ownServer(dynamo.endpoint));
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  /** Made, and active. */
  const create = (sortKey: boolean) =>
    ensureTable(client, {
      TableName: 'kept',
      // Provisioned: dynalite asks an index added later for its throughput either way.
      ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        ...(sortKey ? [{ AttributeName: 'sk', AttributeType: 'N' as const }] : []),
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        ...(sortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : []),
      ],
    });
  /** The table's status once it is no longer the one given (absent: none). */
  const settled = async (from: string) => {
    for (;;) {
      const status = await client
        .send(new DescribeTableCommand({ TableName: 'kept' }))
        .then((d) => d.Table?.TableStatus)
        .catch((e: unknown) => {
          if (e instanceof ResourceNotFoundException) return undefined;
          throw e;
        });
      if (status !== from) return status;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('a table deleted, made again with another key, its throughput changed', async () => {
    await create(false);
    await client.send(new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'a' } } }));
    expect(
      (await client.send(new GetItemCommand({ TableName: 'kept', Key: { pk: { S: 'a' } } }))).Item,
    ).toEqual({ pk: { S: 'a' } });

    await client.send(new DeleteTableCommand({ TableName: 'kept' }));
    expect(await settled('DELETING')).toBeUndefined();
    await expect(
      client.send(new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'b' } } })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);

    // Made again with a sort key: an item without one is refused, as the new key schema says.
    await create(true);
    await expect(
      client.send(new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'b' } } })),
    ).rejects.toThrow(/key/i);
    await client.send(
      new PutItemCommand({
        TableName: 'kept',
        Item: { pk: { S: 'b' }, sk: { N: '1' }, g: { S: 'x' } },
      }),
    );

    // Throughput changed (all UpdateTable changes in dynalite): items are still served.
    await client.send(
      new UpdateTableCommand({
        TableName: 'kept',
        ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 2 },
      }),
    );
    expect(await settled('UPDATING')).toBe('ACTIVE');
    await client.send(
      new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'c' }, sk: { N: '2' } } }),
    );
    const found = await client.send(
      new QueryCommand({
        TableName: 'kept',
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'c' } },
      }),
    );
    expect(found.Items).toEqual([{ pk: { S: 'c' }, sk: { N: '2' } }]);
  });
});
