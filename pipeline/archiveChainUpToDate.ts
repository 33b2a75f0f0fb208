import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArchiveStorage, FolderStorage } from '../stream/archive/ArchiveStorage.js';
import {
  type AwsExportReport,
  exportTableOnAws,
  INCREMENTAL_MAX_MS,
  INCREMENTAL_MIN_MS,
  REQUEST_STEP_MS,
} from '../stream/archive/awsExport.js';
import { exportTableLocally } from '../stream/archive/exportTable.js';
import { type ArchivedExport, listExports } from '../stream/archive/readExport.js';
import { exportChain } from './archiveReplay.js';

import { FRESH_EXPORT_MS } from './rebuildSummary.js';

export { FRESH_EXPORT_MS };

/** What brings the chain up to date: an export of the table, full or from a time on. */
export interface ChainExporter {
  /** For messages: "the local archive", "s3://bucket". */
  readonly description: string;
  /**
   * Decides which export, if any, a chain of `exports` exports ending at `end` (none:
   * undefined) needs at `now`.
   */
  needs(end: string | undefined, now: number, exports: number): 'full' | 'incremental' | undefined;
  full(): Promise<unknown>;
  incremental(from: string): Promise<unknown>;
}

/**
 * The most exports a chain holds (its full export and the incremental ones after it) before a
 * reader that would add another incremental export takes a full one instead. A rebuild on AWS
 * applies each export of the chain as a map run of its own, one after another (its files, then
 * its deferred streams), and carries each export's list and id in the state Step Functions
 * holds to 256 KB; a chain kept fresh by an incremental export an hour would otherwise grow
 * past both within months.
 */
export const MAX_CHAIN_EXPORTS = 100;

/**
 * The export a local chain needs: a full one when there is none or the chain is long
 * (`MAX_CHAIN_EXPORTS`), else an incremental one when its end is older than `FRESH_EXPORT_MS`.
 */
function localNeeds(
  end: string | undefined,
  now: number,
  exports: number,
): 'full' | 'incremental' | undefined {
  if (end === undefined) return 'full';
  if (now - Date.parse(end) <= FRESH_EXPORT_MS) return undefined;
  return exports >= MAX_CHAIN_EXPORTS ? 'full' : 'incremental';
}

/** The local archive's exporter: `exportTableLocally`, a parallel scan of the table. */
export function localExporter(options: {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly storage: FolderStorage;
  readonly prefix: string;
  readonly segments?: number;
  readonly onProgress?: (items: number) => void;
}): ChainExporter {
  const base = {
    client: options.client,
    table: options.table,
    storage: options.storage,
    prefix: options.prefix,
    ...(options.segments ? { segments: options.segments } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  return {
    description: options.storage.description,
    needs: localNeeds,
    full: () => exportTableLocally(base),
    incremental: (from) => exportTableLocally({ ...base, incremental: { from } }),
  };
}

/**
 * The archive bucket's exporter on AWS: `exportTableOnAws` (DynamoDB's own export from
 * point-in-time recovery, with its checks). An incremental export when DynamoDB would accept
 * the window (15 minutes to 24 hours, taken to its 5-minute step), a full one when the chain
 * is older than that, none while the chain is too recent for an incremental one.
 */
export function awsExporter(options: {
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  readonly table: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly kmsKeyId?: string;
  readonly onStatus?: (report: AwsExportReport) => void;
}): ChainExporter {
  const base = {
    dynamo: options.dynamo,
    s3: options.s3,
    table: options.table,
    bucket: options.bucket,
    prefix: options.prefix,
    ...(options.kmsKeyId ? { kmsKeyId: options.kmsKeyId } : {}),
    ...(options.onStatus ? { onStatus: options.onStatus } : {}),
  };
  return {
    description: `s3://${options.bucket}`,
    needs: awsExportNeeded,
    full: () => exportTableOnAws(base),
    incremental: (from) => exportTableOnAws({ ...base, incremental: { from } }),
  };
}

/**
 * The export an archive chain of `exports` exports ending at `end` (none: undefined) needs on
 * AWS at `now`: a full one without a chain or when the chain is older than DynamoDB exports
 * incrementally; once DynamoDB would accept an incremental window (15 minutes to 24 hours,
 * taken to its 5-minute step) and the chain is older than `FRESH_EXPORT_MS`, an incremental
 * one, or a full one when the chain already holds `MAX_CHAIN_EXPORTS`; else none.
 */
export function awsExportNeeded(
  end: string | undefined,
  now: number,
  exports: number,
): 'full' | 'incremental' | undefined {
  if (end === undefined) return 'full';
  const window = Math.floor(now / REQUEST_STEP_MS) * REQUEST_STEP_MS - Date.parse(end);
  if (window > INCREMENTAL_MAX_MS) return 'full';
  if (!(window >= INCREMENTAL_MIN_MS && now - Date.parse(end) > FRESH_EXPORT_MS)) return undefined;
  return exports >= MAX_CHAIN_EXPORTS ? 'full' : 'incremental';
}

export interface ChainUpToDate {
  /** The chain after the export, oldest first (`exportChain`). */
  readonly chain: ArchivedExport[];
  /** The export made to bring it up to date, if one was. */
  readonly exported: 'full' | 'incremental' | null;
}

/**
 * Brings the archive's export chain up to date the way every reader of it does (rebuild,
 * replay): a full export when there is no chain, an incremental one after the chain's end
 * when `exporter.needs` says so, else the chain as it is; then the chain read again.
 *
 * @example const { chain } = await chainUpToDate(storage, 'events', localExporter({ client, table, storage, prefix: 'events' }))
 */
export async function chainUpToDate(
  storage: ArchiveStorage,
  prefix: string,
  exporter: ChainExporter,
  now: () => number = Date.now,
): Promise<ChainUpToDate> {
  const before = exportChain((await listExports(storage, prefix)).exports);
  const end = before.at(-1)?.upTo;
  const needed = exporter.needs(end, now(), before.length);
  if (needed === 'full') await exporter.full();
  else if (needed === 'incremental' && end !== undefined) await exporter.incremental(end);
  else return { chain: before, exported: null };
  return {
    chain: exportChain((await listExports(storage, prefix)).exports),
    exported: needed,
  };
}
