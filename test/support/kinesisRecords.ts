import { commitChange } from '../../stream/changes/commitChange.js';
import type { KinesisStreamRecord } from '../../stream/consumer/kinesisEvent.js';
import type { Commit } from '../../stream/eventStore/Commit.js';

let counter = 0;

/** A commit as the Kinesis record Lambda would receive for it, on a given shard. */
export function kinesisRecordOf(
  commit: Commit,
  shardId = 'shardId-000000000000',
  table = 'events',
): KinesisStreamRecord {
  counter++;
  const { record, partitionKey } = commitChange(commit, table, 'us-east-1');
  const sequenceNumber = String(49_000_000_000_000_000n + BigInt(counter));
  return {
    awsRegion: 'us-east-1',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    eventSource: 'aws:kinesis',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/matchstream-changes',
    eventVersion: '1.0',
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(JSON.stringify(record)).toString('base64'),
      approximateArrivalTimestamp: Date.now() / 1000,
    },
  };
}
