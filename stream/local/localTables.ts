import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BREAKERS_TABLE } from '../breaker/BreakerStateStore.js';
import { BUS_ARCHIVE_TABLE } from '../buses/BusArchive.js';
import { CHECKPOINTS_TABLE } from '../consumer/CheckpointStore.js';
import { DEAD_LETTERS_TABLE } from '../consumer/DeadLetterQueue.js';
import { POSITIONS_TABLE } from '../consumer/DynamoPositionStore.js';
import { ensureTable } from '../eventStore/eventsTable.js';

/** A table with a string partition key and a string sort key. */
export async function ensureKeyValueTable(
  client: DynamoDBClient,
  table: string,
  hash: string,
  range: string,
): Promise<void> {
  await ensureTable(client, {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: hash, AttributeType: 'S' },
      { AttributeName: range, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' },
      { AttributeName: range, KeyType: 'RANGE' },
    ],
  });
}

/** The local change relay's checkpoint (`ChangeRelay`): one item per table it relays. */
export const RELAY_TABLE = 'matchstream-relay';

/**
 * The tables of the consumer runtime: positions, checkpoints, dead letters, bus archive, the
 * breakers' shared state, and the change relay's checkpoint.
 */
export async function ensureRuntimeTables(client: DynamoDBClient): Promise<void> {
  await Promise.all([
    ensureKeyValueTable(client, POSITIONS_TABLE, 'consumer', 'aggregate_id'),
    ensureKeyValueTable(client, CHECKPOINTS_TABLE, 'consumer', 'shard_id'),
    ensureKeyValueTable(client, DEAD_LETTERS_TABLE, 'consumer', 'id'),
    ensureKeyValueTable(client, BUS_ARCHIVE_TABLE, 'bus', 'key'),
    ensureBreakersTable(client),
    ensureTable(client, {
      TableName: RELAY_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'relay', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'relay', KeyType: 'HASH' }],
    }),
  ]);
}

/** The circuit breakers' shared state: one item per breaker, partition key `breaker`. */
export async function ensureBreakersTable(
  client: DynamoDBClient,
  table = BREAKERS_TABLE,
): Promise<void> {
  await ensureTable(client, {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'breaker', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'breaker', KeyType: 'HASH' }],
  });
}
