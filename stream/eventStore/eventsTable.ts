import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';

/** The events table's default name. */
export const EVENTS_TABLE = 'matchstream-events';

/**
 * Creates the events table (partition key `aggregate_id`, sort key `sequence`, on-demand)
 * unless it exists, and waits until it is active. For local endpoints and tests; on AWS the
 * CDK app owns the table.
 */
export async function ensureEventsTable(
  client: DynamoDBClient,
  table = EVENTS_TABLE,
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'aggregate_id', AttributeType: 'S' },
          { AttributeName: 'sequence', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'aggregate_id', KeyType: 'HASH' },
          { AttributeName: 'sequence', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`table ${table} did not become active`);
}
