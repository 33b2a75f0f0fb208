import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Commit } from '../eventStore/Commit.js';
import { itemSize } from '../eventStore/Commit.js';
import { toItem } from '../eventStore/commitItem.js';
import { uuidFromName } from '../uuid.js';
import { type ChangeRecord, insertRecord, removeRecord } from './ChangeRecord.js';

/** The longest Kinesis partition key. */
const MAX_PARTITION_KEY = 256;

/**
 * The change record AWS would write for a new commit item, and its partition key (the
 * aggregate id, so every commit of a stream lands on the same shard in order). The event id
 * is derived from the item's key: forwarding the same commit twice gives the same record.
 */
export function commitChange(
  commit: Commit,
  table: string,
  region: string,
): { record: ChangeRecord; partitionKey: string } {
  const item = toItem(commit);
  const record = insertRecord({
    item,
    keys: ['aggregate_id', 'sequence'],
    tableName: table,
    region,
    eventId: uuidFromName(`${table}/${commit.aggregate_id}/${commit.sequence}`).replaceAll('-', ''),
    createdAtMs: Date.parse(commit.committed_at),
    sizeBytes: itemSize(commit),
  });
  return { record, partitionKey: partitionKeyOf(commit.aggregate_id) };
}

/**
 * The REMOVE record AWS would write when a commit item is deleted (an expired season), and
 * its partition key. Its event id is derived from the key, so sending it twice gives the same.
 */
export function removalChange(
  commit: Commit,
  table: string,
  region: string,
  removedAtMs: number,
): { record: ChangeRecord; partitionKey: string } {
  const record = removeRecord({
    item: toItem(commit),
    keys: ['aggregate_id', 'sequence'],
    tableName: table,
    region,
    eventId: uuidFromName(`${table}/${commit.aggregate_id}/${commit.sequence}/REMOVE`).replaceAll(
      '-',
      '',
    ),
    removedAtMs,
    sizeBytes: itemSize(commit),
  });
  return { record, partitionKey: partitionKeyOf(commit.aggregate_id) };
}

/**
 * The change record of a stored item that is not a well-formed commit (damaged by hand or by a
 * bug): forwarded as it is, as DynamoDB Streams would, so consumers dead-letter it with why
 * instead of the relay stopping at it. Keyed like a commit's record.
 */
export function itemChange(
  item: Record<string, AttributeValue>,
  table: string,
  region: string,
): { record: ChangeRecord; partitionKey: string } {
  // Numbers kept as written: the item is not a commit, and may hold any number DynamoDB does.
  const { aggregate_id, sequence: key, committed_at } = unmarshall(item, { wrapNumbers: true });
  const aggregateId = typeof aggregate_id === 'string' ? aggregate_id : '?';
  const sequence = key === undefined ? '?' : String(key);
  const committedAt = Date.parse(typeof committed_at === 'string' ? committed_at : '');
  const record = insertRecord({
    item,
    keys: ['aggregate_id', 'sequence'],
    tableName: table,
    region,
    eventId: uuidFromName(`${table}/${aggregateId}/${sequence}`).replaceAll('-', ''),
    createdAtMs: Number.isNaN(committedAt) ? Date.now() : committedAt,
    sizeBytes: Buffer.byteLength(JSON.stringify(item)),
  });
  return { record, partitionKey: partitionKeyOf(aggregateId) };
}

/** The aggregate id, or (past 256 characters) a stable digest of it. */
export function partitionKeyOf(aggregateId: string): string {
  if ([...aggregateId].length <= MAX_PARTITION_KEY) return aggregateId;
  return `#${uuidFromName(aggregateId)}`;
}
