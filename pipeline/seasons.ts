import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { seasonClosed, seasonOfStream } from '../ingest/seasons.js';
import { ArchivedEventStore } from '../stream/archive/ArchivedEventStore.js';
import { type ArchiveStorage, S3Storage } from '../stream/archive/ArchiveStorage.js';
import {
  type ExpireProgress,
  type ExpireSummary,
  expireSeason,
} from '../stream/archive/expireSeason.js';
import { ARCHIVE_PREFIX } from '../stream/archive/exportFormat.js';
import { SeasonArchive } from '../stream/archive/SeasonArchive.js';
import { putRecordsReliably } from '../stream/aws/putRecordsReliably.js';
import { s3Client } from '../stream/aws/s3InvocationRecords.js';
import { removalChange } from '../stream/changes/commitChange.js';
import { CommitCodec } from '../stream/eventStore/Commit.js';
import {
  DynamoEventStore,
  type DynamoEventStoreOptions,
} from '../stream/eventStore/DynamoEventStore.js';
import { StoreError } from '../stream/StoreError.js';

export interface ExpireClosedSeasonOptions {
  /** The event store the season was closed in (its table is the one expired from). */
  readonly store: DynamoEventStore;
  readonly client: DynamoDBClient;
  readonly storage: ArchiveStorage;
  readonly season: string;
  /**
   * Locally, where no Kinesis Data Streams for DynamoDB captures deletes: the change stream
   * the REMOVE records of the deleted commits are written to, as AWS would.
   */
  readonly changes?: { readonly kinesis: KinesisClient; readonly streamName: string };
  /** See `expireSeason`. */
  readonly graceMs?: number;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly onProgress?: (progress: ExpireProgress) => void;
  readonly signal?: AbortSignal;
}

/**
 * Expires a closed season from the events table into the archive (`expireSeason`), with the
 * project's rule for which streams are a season's (`seasonOfStream`). Refused unless the
 * season's stream records `SeasonClosed`. Locally, each round of deleted commits goes on the
 * change stream as REMOVE records (the consumers skip them); on AWS the table's stream
 * carries them by itself.
 */
export async function expireClosedSeason(
  options: ExpireClosedSeasonOptions,
): Promise<ExpireSummary> {
  const { store, season } = options;
  if (!(await seasonClosed(store, season)))
    throw new StoreError(
      'EXPIRY_REFUSED',
      `season ${season} is not closed: run "matchstream archive close-season ${season}" first`,
    );
  const region = await options.client.config.region().catch(() => 'local');
  try {
    return await expireSeason({
      client: options.client,
      table: store.table,
      codec: new CommitCodec(store.registry),
      storage: options.storage,
      prefix: ARCHIVE_PREFIX,
      season,
      seasonOf: seasonOfStream,
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.baseDelayMs === undefined ? {} : { baseDelayMs: options.baseDelayMs }),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.changes
        ? {
            onRemoved: async (commits) => {
              const { kinesis, streamName } = options.changes as NonNullable<
                ExpireClosedSeasonOptions['changes']
              >;
              const now = Date.now();
              const result = await putRecordsReliably(
                kinesis,
                streamName,
                commits.map((commit) => {
                  const { record, partitionKey } = removalChange(commit, store.table, region, now);
                  return { data: Buffer.from(JSON.stringify(record)), partitionKey };
                }),
              );
              const failed = result.failed[0];
              if (failed)
                throw new StoreError(
                  'STORE_UNAVAILABLE',
                  `Kinesis refused the REMOVE record of ${failed.record.partitionKey}: ${failed.errorCode}: ${failed.errorMessage}`,
                );
            },
          }
        : {}),
    });
  } finally {
    // This process's reads see the index at once, whatever the grace.
    if (store instanceof ArchivedEventStore) await store.seasons.reload();
  }
}

/**
 * The event store of a deployed function: the events table, and, when the function is told
 * the archive bucket (`ARCHIVE_BUCKET`, which needs s3:GetObject and s3:ListBucket on it),
 * the expired seasons of that archive read as part of the store.
 */
export function deployedEventStore(
  env: Readonly<Record<string, string | undefined>>,
  options: DynamoEventStoreOptions,
  /** The client the archive is read with. @default s3Client() */
  s3: S3Client = s3Client(),
): DynamoEventStore {
  const bucket = env.ARCHIVE_BUCKET;
  if (!bucket) return new DynamoEventStore(options);
  return new ArchivedEventStore({
    ...options,
    seasons: new SeasonArchive(new S3Storage(s3, bucket)),
  });
}
