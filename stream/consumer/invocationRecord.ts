import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent, KinesisStreamRecord } from './kinesisEvent.js';

/**
 * What a Kinesis event source mapping writes to an S3 on-failure destination when it gives up
 * on a batch: the invocation's context, the batch's shard and sequence range, and `payload`,
 * the whole event the function was invoked with (as JSON text). An SQS or SNS destination gets
 * the same object without `payload`, pointers into a stream that keeps records 24 hours.
 * https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
 */
export interface InvocationRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: string;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError: string;
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly KinesisBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
  /** The invocation event, `{"Records": [...]}`, as JSON text (only an S3 destination has it). */
  readonly payload?: string;
}

/** The invocation record of a batch given up on (records of one shard, in order). */
export function invocationRecord(options: {
  readonly functionArn: string;
  /** `RetryAttemptsExhausted` or `RecordAgeExceeded`, as Lambda says. */
  readonly condition: string;
  readonly invokeCount: number;
  readonly records: readonly KinesisStreamRecord[];
  readonly at: Date;
}): InvocationRecord {
  const first = options.records[0];
  const last = options.records.at(-1);
  if (!first || !last) throw new Error('an invocation record needs at least one record');
  const arrival = (r: KinesisStreamRecord) =>
    new Date(r.kinesis.approximateArrivalTimestamp * 1000).toISOString();
  const event: KinesisStreamEvent = { Records: [...options.records] };
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: options.functionArn,
      condition: options.condition,
      approximateInvokeCount: options.invokeCount,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: options.at.toISOString(),
    KinesisBatchInfo: {
      shardId: first.eventID.split(':')[0] ?? '',
      startSequenceNumber: first.kinesis.sequenceNumber,
      endSequenceNumber: last.kinesis.sequenceNumber,
      approximateArrivalOfFirstRecord: arrival(first),
      approximateArrivalOfLastRecord: arrival(last),
      batchSize: options.records.length,
      streamArn: first.eventSourceARN ?? '',
    },
    payload: JSON.stringify(event),
  };
}

/**
 * The object key Lambda gives an invocation record in an S3 destination:
 * `aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>`.
 */
export function invocationRecordKey(mappingUuid: string, shardId: string, at: Date): string {
  const iso = at.toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(0, 19).replace(/:/g, '.');
  return `aws/lambda/${mappingUuid}/${shardId}/${day.replace(/-/g, '/')}/${time}-${randomUUID()}`;
}

/** The event source mapping a key of `invocationRecordKey` names (its UUID), if it names one. */
export function mappingOfRecordKey(key: string): string | undefined {
  return /^aws\/lambda\/([^/]+)\//.exec(key)?.[1];
}

/** Whether a JSON document is an invocation record (with or without its payload). */
export function isInvocationRecord(value: unknown): value is InvocationRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    'KinesisBatchInfo' in value &&
    'requestContext' in value
  );
}

/**
 * The records an invocation record holds: its payload's, as the function was handed them.
 * The payload is JSON text as documented; an object is taken too.
 */
export function recordsOf(record: InvocationRecord): KinesisStreamRecord[] {
  const payload = record.payload as unknown;
  if (payload === undefined || payload === null) {
    const b = record.KinesisBatchInfo;
    throw new Error(
      `an invocation record without its payload (an SQS or SNS destination's): only pointers, shard ${b.shardId} sequence ${b.startSequenceNumber} to ${b.endSequenceNumber}, readable from the stream until it drops them`,
    );
  }
  const event = (typeof payload === 'string' ? JSON.parse(payload) : payload) as unknown;
  if (
    typeof event !== 'object' ||
    event === null ||
    !Array.isArray((event as { Records?: unknown }).Records)
  )
    throw new Error('the payload of the invocation record is not a Kinesis event (no Records)');
  return [...(event as KinesisStreamEvent).Records];
}
