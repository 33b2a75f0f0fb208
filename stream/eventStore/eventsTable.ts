import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { UNTIL_ACTIVE } from '../aws/clientConfig.js';
import { EVENTS_TABLE } from '../eventsTableName.js';

export { EVENTS_TABLE };

/** The sparse index of commits the local change relay has not forwarded yet. */
export const RELAY_INDEX = 'relay-pending';
/** The attribute that puts a commit in the relay index until it is forwarded. */
export const RELAY_MARKER = { relay_pending: marshall('pending') } as const;

/**
 * Creates the events table (partition key `aggregate_id`, sort key `sequence`, on-demand)
 * unless it exists, and waits until it is active. For local endpoints and tests; on AWS the
 * CDK app owns the table.
 */
export async function ensureEventsTable(
  client: DynamoDBClient,
  table = EVENTS_TABLE,
  options: { relayIndex?: boolean } = {},
): Promise<void> {
  await ensureTable(client, {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'aggregate_id', AttributeType: 'S' },
      { AttributeName: 'sequence', AttributeType: 'N' },
      ...(options.relayIndex
        ? [
            { AttributeName: 'relay_pending', AttributeType: 'S' as const },
            { AttributeName: 'committed_at', AttributeType: 'S' as const },
          ]
        : []),
    ],
    KeySchema: [
      { AttributeName: 'aggregate_id', KeyType: 'HASH' },
      { AttributeName: 'sequence', KeyType: 'RANGE' },
    ],
    ...(options.relayIndex
      ? {
          GlobalSecondaryIndexes: [
            {
              IndexName: RELAY_INDEX,
              KeySchema: [
                { AttributeName: 'relay_pending', KeyType: 'HASH' },
                { AttributeName: 'committed_at', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }
      : {}),
  });
}

/** Creates a table unless it exists, and waits until it is active. */
export async function ensureTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
): Promise<void> {
  const table = definition.TableName as string;
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // The SDK's waiter asks at once, then backs off from 5 ms (`UNTIL_ACTIVE`).
  await waitUntilTableExists({ client, ...UNTIL_ACTIVE }, { TableName: table }).catch(
    (error: unknown) => {
      throw new Error(
        `table ${table} did not become active: ${String((error as Error).message ?? error)}`,
      );
    },
  );
}
