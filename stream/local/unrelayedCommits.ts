import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { EVENTS_TABLE, RELAY_INDEX, RELAY_MARKER } from '../eventStore/eventsTable.js';

/**
 * How many commits of a data folder's events table the change relay has not forwarded yet (its
 * pending index): stored while no pipeline ran (`ingest`), so no consumer has seen them, however
 * caught up with the stream it is. None without a table.
 */
export async function unrelayedCommits(
  dynamo: DynamoDBClient,
  table: string = EVENTS_TABLE,
): Promise<number> {
  let count = 0;
  let after: Record<string, AttributeValue> | undefined;
  try {
    do {
      const page = await dynamo.send(
        new QueryCommand({
          TableName: table,
          IndexName: RELAY_INDEX,
          KeyConditionExpression: 'relay_pending = :p',
          ExpressionAttributeValues: { ':p': RELAY_MARKER.relay_pending },
          Select: 'COUNT',
          ...(after ? { ExclusiveStartKey: after } : {}),
        }),
      );
      count += page.Count ?? 0;
      after = page.LastEvaluatedKey;
    } while (after);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return 0;
    throw error;
  }
  return count;
}
