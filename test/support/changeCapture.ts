import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { RELAY_MARKER } from '../../stream/eventStore/eventsTable.js';

/**
 * Puts a stored commit back in the change relay's pending index, as a relay killed after
 * Kinesis took the commit's record and before it cleared the mark leaves it: the next pass
 * forwards it again.
 */
export async function markPending(
  client: DynamoDBClient,
  table: string,
  aggregateId: string,
  sequence: number,
): Promise<void> {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: table,
      Key: { aggregate_id: { S: aggregateId }, sequence: { N: String(sequence) } },
      ConsistentRead: true,
    }),
  );
  if (!Item) throw new Error(`no commit ${aggregateId} #${sequence} in ${table}`);
  await client.send(new PutItemCommand({ TableName: table, Item: { ...Item, ...RELAY_MARKER } }));
}
