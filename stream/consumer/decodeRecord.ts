import { type ChangeRecord, parseChangeRecord } from '../changes/ChangeRecord.js';
import type { Commit } from '../eventStore/Commit.js';
import { fromItem } from '../eventStore/commitItem.js';
import { ConsumerError } from './ConsumerError.js';
import { type KinesisStreamRecord, shardOf } from './kinesisEvent.js';

/** A Kinesis record read as the change of an events-table item. */
export interface DecodedRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly change: ChangeRecord;
  /** The commit in the new image; undefined for a removal. */
  readonly commit: Commit | undefined;
}

/**
 * Reads a Kinesis record (as Lambda delivers it) as a change of the events table: base64 →
 * JSON change record → DynamoDB JSON → commit. Throws `ConsumerError` (MALFORMED_RECORD)
 * naming the shard and record when it is not one.
 */
export function decodeRecord(record: KinesisStreamRecord): DecodedRecord {
  const change = changeOf(record);
  const { sequenceNumber, partitionKey } = record.kinesis;
  return {
    shardId: shardOf(record),
    sequenceNumber,
    partitionKey,
    change,
    commit: commitOf(record, change),
  };
}

/**
 * The commit a Kinesis record carries, undefined for a removal: what a consumer needs of
 * each record, read with the checks of `decodeRecord` and nothing else (the shard is named
 * only when the record is refused).
 */
export function commitOfRecord(record: KinesisStreamRecord): Commit | undefined {
  return commitOf(record, changeOf(record));
}

function changeOf(record: KinesisStreamRecord): ChangeRecord {
  try {
    return parseChangeRecord(Buffer.from(record.kinesis.data, 'base64'));
  } catch (error) {
    throw malformed(record, error);
  }
}

function commitOf(record: KinesisStreamRecord, change: ChangeRecord): Commit | undefined {
  // The DynamoDB JSON image is read as it is (no copy into SDK attribute values).
  const image = change.dynamodb.NewImage;
  if (!image) return undefined;
  try {
    return fromItem(image, change.tableName);
  } catch (error) {
    throw malformed(record, error);
  }
}

function malformed(record: KinesisStreamRecord, error: unknown): ConsumerError {
  return new ConsumerError(
    'MALFORMED_RECORD',
    `not a change of the events table: ${error instanceof Error ? error.message : String(error)}`,
    { shardId: shardOf(record), sequenceNumber: record.kinesis.sequenceNumber },
    { cause: error },
  );
}
