import * as kinesis from '@aws-sdk/client-kinesis';
import { type KinesisClient, KinesisServiceException } from '@aws-sdk/client-kinesis';
import type { Transport } from './clientConfig.js';
import {
  bytes,
  type DirectJsonService,
  type DirectOptions,
  exceptionsOf,
  sendJsonDirectly,
  withBase64,
} from './directJson.js';

/**
 * The operations handed over directly: the change stream's writes and reads, whose input and
 * output are JSON but for the records' bytes (`Data`) and times.
 */
const DIRECT = new Set(['PutRecords', 'PutRecord', 'GetRecords', 'GetShardIterator']);

/** Kinesis's JSON protocol, for `sendJsonDirectly`. */
const KINESIS: DirectJsonService = {
  contentType: 'application/x-amz-json-1.1',
  targetPrefix: 'Kinesis_20131202',
  operations: DIRECT,
  exceptions: exceptionsOf(kinesis, KinesisServiceException),
  ServiceException: KinesisServiceException,
  request: (operation, input) => {
    const json = withBase64(input) as Record<string, unknown>;
    // GetShardIterator's `Timestamp` (AT_TIMESTAMP): epoch seconds, as the SDK writes it.
    const at = operation === 'GetShardIterator' ? json.Timestamp : undefined;
    return at instanceof Date ? { ...json, Timestamp: at.getTime() / 1000 } : json;
  },
  answer: (operation, body) => {
    if (operation === 'GetRecords' && Array.isArray(body.Records))
      for (const record of body.Records as Record<string, unknown>[]) {
        if (typeof record.Data === 'string') record.Data = bytes(record.Data);
        const at = record.ApproximateArrivalTimestamp;
        // Epoch seconds, with milliseconds: the Date the SDK's deserializer makes of them.
        if (typeof at === 'number' || typeof at === 'string')
          record.ApproximateArrivalTimestamp = new Date(Math.round(Number(at) * 1000));
      }
    return body;
  },
};

/**
 * A Kinesis client of this process's own kinesalite (a server thread: `transport`) hands the
 * change stream's writes and reads (`PutRecords`, `PutRecord`, `GetRecords`,
 * `GetShardIterator`) to it as the JSON the server reads, and builds the output from the JSON
 * it answers, without the SDK's serializer, endpoint resolution, retry, signing and
 * deserializer (`sendJsonDirectly`). In a CPU profile of `matchstream start` on a 3,000-team
 * season those took about 2 s of the main thread's 26 busy: the SDK checks each record's base64
 * read by GetRecords with a regex before decoding it (0.6 s), its schema-based JSON reader and
 * writer (0.7 s), its base64 writer for PutRecords (0.35 s), endpoint resolution and the retry
 * middleware. Handed over directly, that run took 27–33 s instead of 31–35, and 41–47 s of CPU
 * instead of 49–52 (four runs each, alternated); `@smithy/core`'s own time on the main thread
 * went from 2.9 s to 0.3 in a profile. The output is the SDK's: `Data` as a `Uint8Array`,
 * `ApproximateArrivalTimestamp` as a `Date`, `$metadata`; an error answer is the client's own
 * exception class (`ExpiredIteratorException`, `ResourceNotFoundException`...). Throttling
 * (`ProvisionedThroughputExceededException`, `LimitExceededException`), a server error, a
 * request the server does not answer in 30 s, or one it cannot be given take the SDK's path
 * instead, with its retries; other operations (streams, shards) always do. A middleware of a
 * later step than `initialize` sees none of the four: `sendThroughSdk` takes this off a client
 * that needs one (the chaos suite's faults).
 */
export function sendDirectly(
  client: KinesisClient,
  transport: Transport,
  options: DirectOptions = {},
): KinesisClient {
  return sendJsonDirectly(client, transport, KINESIS, options);
}
