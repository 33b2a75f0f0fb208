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
  const shardId = shardOf(record);
  const { sequenceNumber, partitionKey } = record.kinesis;
  try {
    const change = parseChangeRecord(Buffer.from(record.kinesis.data, 'base64'));
    // The DynamoDB JSON image is read as it is (no copy into SDK attribute values).
    const image = change.dynamodb.NewImage;
    return {
      shardId,
      sequenceNumber,
      partitionKey,
      change,
      commit: image ? fromItem(image, change.tableName) : undefined,
    };
  } catch (error) {
    throw new ConsumerError(
      'MALFORMED_RECORD',
      `not a change of the events table: ${error instanceof Error ? error.message : String(error)}`,
      { shardId, sequenceNumber },
      { cause: error },
    );
  }
}
