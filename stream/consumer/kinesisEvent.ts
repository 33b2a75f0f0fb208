import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';

/**
 * The event Lambda passes to a function behind a Kinesis event source mapping (the subset
 * of the documented shape this project reads and writes).
 */
export interface KinesisStreamEvent {
  readonly Records: readonly KinesisStreamRecord[];
}

export interface KinesisStreamRecord {
  readonly awsRegion?: string;
  /** `<shard id>:<sequence number>` */
  readonly eventID: string;
  readonly eventName?: string;
  readonly eventSource?: string;
  readonly eventSourceARN?: string;
  readonly eventVersion?: string;
  readonly invokeIdentityArn?: string;
  readonly kinesis: {
    readonly kinesisSchemaVersion?: string;
    readonly partitionKey: string;
    readonly sequenceNumber: string;
    /** Base64. */
    readonly data: string;
    /** Seconds since the epoch, with a fraction. */
    readonly approximateArrivalTimestamp: number;
  };
}

/** What a handler returns with `ReportBatchItemFailures`: the records to retry from. */
export interface KinesisStreamBatchResponse {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

/** Records read with GetRecords, in the shape Lambda would hand them to a function. */
export function lambdaRecords(
  records: readonly KinesisRecord[],
  shardId: string,
  streamArn: string,
  region: string,
): KinesisStreamRecord[] {
  return records.map((r) => ({
    awsRegion: region,
    eventID: `${shardId}:${r.SequenceNumber ?? ''}`,
    eventName: 'aws:kinesis:record',
    eventSource: 'aws:kinesis',
    eventSourceARN: streamArn,
    eventVersion: '1.0',
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.PartitionKey ?? '',
      sequenceNumber: r.SequenceNumber ?? '',
      data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
  }));
}

/** The shard id in a record's `eventID`. */
export function shardOf(record: KinesisStreamRecord): string {
  const at = record.eventID.lastIndexOf(':');
  return at > 0 ? record.eventID.slice(0, at) : record.eventID;
}
