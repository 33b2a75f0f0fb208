import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type ReliableOptions, sendInBatches } from './backoff.js';

export type { ReliableOptions } from './backoff.js';

export interface StreamRecordToPut {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
}

export interface FailedRecord<R extends StreamRecordToPut = StreamRecordToPut> {
  readonly record: R;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** What the whole PutRecords call threw, when the last attempt failed that way. */
  readonly error?: unknown;
}

/** The outcome of every record given (the same objects, so callers can keep context on them). */
export interface PutRecordsResult<R extends StreamRecordToPut = StreamRecordToPut> {
  readonly sent: { record: R; shardId: string; sequenceNumber: string }[];
  readonly failed: FailedRecord<R>[];
  /** The most attempts any record took (0 when nothing was sent). */
  readonly attempts: number;
}

/**
 * PutRecords limits, from the Kinesis API reference (PutRecords, PutRecordsRequestEntry):
 * 500 records a request; a record's data plus its partition key within the stream's maximum
 * record size (1 MiB unless raised with UpdateMaxRecordSize); 5 MiB a request, partition keys
 * included; partition keys of 1 to 256 Unicode characters.
 */
export const PUT_RECORDS_LIMITS = {
  maxRecords: 500,
  maxRecordBytes: 1_048_576,
  maxRequestBytes: 5_242_880,
  maxPartitionKeyChars: 256,
} as const;

export interface PutRecordsOptions extends ReliableOptions {
  /** The stream's maximum record size, data plus partition key. @default 1 MiB */
  readonly maxRecordBytes?: number;
  /** Data plus partition keys in one request; raise it with `maxRecordBytes`. @default 5 MiB */
  readonly maxRequestBytes?: number;
}

// Per the API reference, record errors are throttling or InternalFailure; both pass.
const RETRYABLE_RECORD_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'InternalFailure',
  'KMSThrottlingException',
]);
const HASH_KEY = /^(0|[1-9]\d{0,38})$/;
const HASH_KEY_LIMIT = 2n ** 128n;

/**
 * Kinesis PutRecords that loses nothing: every record comes back once, in input order, in
 * `sent` (with its shard and sequence number) or in `failed` (refused up front, failed for
 * good, or still failing after `maxAttempts`). Records failed by throttling or an internal
 * failure are retried with backoff, only those; PutRecords itself does not keep the order of
 * records across such retries, even for one partition key.
 *
 * @example
 * const { sent, failed } = await putRecordsReliably(client, 'matches', records);
 * for (const f of failed) await deadLetter(f);
 */
export async function putRecordsReliably<R extends StreamRecordToPut>(
  client: KinesisClient,
  streamName: string,
  records: readonly R[],
  options: PutRecordsOptions = {},
): Promise<PutRecordsResult<R>> {
  const maxRecordBytes = options.maxRecordBytes ?? PUT_RECORDS_LIMITS.maxRecordBytes;
  const maxRequestBytes = options.maxRequestBytes ?? PUT_RECORDS_LIMITS.maxRequestBytes;
  const recordLimit = Math.min(maxRecordBytes, maxRequestBytes);
  const delivery = await sendInBatches<R, { shardId: string; sequenceNumber: string }>(
    records,
    {
      maxEntries: PUT_RECORDS_LIMITS.maxRecords,
      maxBytes: maxRequestBytes,
      size: recordSize,
      refuse: (record) => refusal(record, recordLimit),
      async send(batch, signal) {
        const output = await client.send(
          new PutRecordsCommand({
            StreamName: streamName,
            Records: batch.map((r) => ({
              Data: r.data,
              PartitionKey: r.partitionKey,
              ...(r.explicitHashKey === undefined ? {} : { ExplicitHashKey: r.explicitHashKey }),
            })),
          }),
          // No options without a signal: a client that resolves its stack once
          // (`forOwnServers`) resolves it again for a call with options.
          signal ? { abortSignal: signal } : undefined,
        );
        // The per-record results decide: a record without a sequence number was not written,
        // whatever FailedRecordCount says.
        const results = output.Records ?? [];
        return batch.map((_, i) => {
          const r = results[i];
          if (r?.ErrorCode)
            return {
              errorCode: r.ErrorCode,
              errorMessage: r.ErrorMessage ?? '',
              retryable: RETRYABLE_RECORD_ERRORS.has(r.ErrorCode),
            };
          if (r?.ShardId && r.SequenceNumber)
            return { ack: { shardId: r.ShardId, sequenceNumber: r.SequenceNumber } };
          return {
            errorCode: 'MissingResult',
            errorMessage: `the response had no result for this record (FailedRecordCount ${output.FailedRecordCount})`,
            retryable: true,
          };
        });
      },
    },
    options,
  );
  return {
    sent: delivery.sent.map(({ entry, ack }) => ({ record: entry, ...ack })),
    failed: delivery.failed.map(({ entry, errorCode, errorMessage, error }) => ({
      record: entry,
      errorCode,
      errorMessage,
      ...(error === undefined ? {} : { error }),
    })),
    attempts: delivery.attempts,
  };
}

/** What a record counts for against the record and request limits: data plus partition key. */
export function recordSize(record: StreamRecordToPut): number {
  return record.data.byteLength + Buffer.byteLength(record.partitionKey, 'utf8');
}

function refusal(record: StreamRecordToPut, maxBytes: number) {
  const key = record.partitionKey;
  // Only a key longer than the limit in UTF-16 units can be too long in characters.
  const chars =
    key.length <= PUT_RECORDS_LIMITS.maxPartitionKeyChars ? key.length : [...key].length;
  if (chars < 1 || chars > PUT_RECORDS_LIMITS.maxPartitionKeyChars)
    return {
      errorCode: 'InvalidPartitionKey',
      errorMessage: `a partition key has 1 to 256 Unicode characters, not ${chars}`,
    };
  const hashKey = record.explicitHashKey;
  if (hashKey !== undefined && (!HASH_KEY.test(hashKey) || BigInt(hashKey) >= HASH_KEY_LIMIT))
    return {
      errorCode: 'InvalidExplicitHashKey',
      errorMessage: 'an explicit hash key is a decimal integer from 0 to 2^128 - 1',
    };
  const size = recordSize(record);
  if (size > maxBytes)
    return {
      errorCode: 'RecordTooLarge',
      errorMessage: `data plus partition key is ${size} bytes, over the ${maxBytes}-byte limit`,
    };
  return undefined;
}
