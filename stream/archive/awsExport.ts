import { createHash } from 'node:crypto';
import {
  DescribeContinuousBackupsCommand,
  DescribeExportCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ExportConflictException,
  type ExportDescription,
  type ExportStatus,
  ExportTableToPointInTimeCommand,
  type ExportTableToPointInTimeCommandInput,
  InvalidExportTimeException,
  PointInTimeRecoveryUnavailableException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { StoreError } from '../StoreError.js';
import { type ArchiveStorage, S3Storage } from './ArchiveStorage.js';
import { EXPORTS_FOLDER, exportFolder, exportIdOf } from './exportFormat.js';
import { type ArchivedExport, listExports, loadExport, underPrefixOf } from './readExport.js';

/** The shortest window DynamoDB exports incrementally (the incremental export launch post). */
export const INCREMENTAL_MIN_MS = 15 * 60_000;
/** The longest window DynamoDB exports incrementally. */
export const INCREMENTAL_MAX_MS = 24 * 60 * 60_000;
/**
 * An export request's times are taken to this step, and its client token is derived from
 * them: the same command run again within it (after a dropped connection, an interrupt) asks
 * DynamoDB for the export it already started instead of a second one. Being that far behind
 * also keeps an incremental export's end within the point-in-time recovery window, whose
 * latest restorable time is typically a few minutes old.
 */
export const REQUEST_STEP_MS = 5 * 60_000;
/** How often the export's status is asked for. */
export const POLL_MS = 10_000;

/** How an export on AWS is going, after each DescribeExport. */
export interface AwsExportReport {
  readonly exportArn: string;
  readonly status: ExportStatus;
  /** Since the export was requested, by `clock`. */
  readonly elapsedMs: number;
}

export interface AwsExportOptions {
  readonly dynamo: DynamoDBClient;
  /** Where the export's manifests are read from once it is done. */
  readonly s3: S3Client;
  readonly table: string;
  /** The bucket DynamoDB writes into (the stack output `ArchiveBucket`). */
  readonly bucket: string;
  /** The archive's prefix in the bucket (`ARCHIVE_PREFIX`). */
  readonly prefix: string;
  /** The changes after `from` up to now (an incremental export) instead of the whole table. */
  readonly incremental?: { readonly from: string };
  /** SSE-KMS with this key (the stack output `ArchiveKey`); else the bucket's default encryption. */
  readonly kmsKeyId?: string;
  /** Milliseconds since the epoch (tests). @default Date.now */
  readonly clock?: () => number;
  /** @default POLL_MS */
  readonly pollMs?: number;
  readonly onStatus?: (report: AwsExportReport) => void;
}

/**
 * The window of an incremental export from `from` to `now` (taken to `REQUEST_STEP_MS`),
 * refused with why when DynamoDB would refuse it: a `from` that is not a time or is in the
 * future, a window shorter than 15 minutes or longer than 24 hours.
 *
 * @example incrementalWindow('2025-01-01T00:00:00.000Z', Date.parse('2025-01-01T06:02:00Z'))
 *   // { from: 2025-01-01T00:00:00Z, to: 2025-01-01T06:00:00Z }
 */
export function incrementalWindow(from: string, now: number): { from: Date; to: Date } {
  const start = Date.parse(from);
  if (Number.isNaN(start))
    throw new StoreError('EXPORT_REFUSED', `an incremental export from "${from}": not a time`);
  if (start > now)
    throw new StoreError(
      'EXPORT_REFUSED',
      `an incremental export from ${from}: that is in the future (now ${iso(now)}); is this machine's clock right?`,
    );
  const to = stepDown(now);
  const window = to - start;
  if (window < INCREMENTAL_MIN_MS)
    throw new StoreError(
      'EXPORT_REFUSED',
      `an incremental export from ${from} to ${iso(to)} covers ${Math.floor(window / 60_000)} min; DynamoDB exports at least 15 minutes of changes: try again after ${iso(stepUp(start + INCREMENTAL_MIN_MS))}`,
    );
  if (window > INCREMENTAL_MAX_MS)
    throw new StoreError(
      'EXPORT_REFUSED',
      `an incremental export from ${from} to ${iso(to)} covers more than 24 hours, the most DynamoDB exports incrementally: take a full export instead`,
    );
  return { from: new Date(start), to: new Date(to) };
}

/**
 * The ExportTableToPointInTime request: DynamoDB JSON under `prefix`, SSE-KMS when a key is
 * given, full or incremental (new images only: readers take each item's state), and a client
 * token derived from the request, so that the same request within the 8 hours DynamoDB keeps
 * tokens returns the export it started rather than a second one. A full export names no time
 * (DynamoDB chooses it, and its summary's `exportTime` says which); its token still takes
 * `now` to the step, so that only a retry within the step gets the same export back.
 */
export function exportRequest(options: {
  readonly tableArn: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly now: number;
  readonly incremental?: { readonly from: string };
  readonly kmsKeyId?: string;
}): ExportTableToPointInTimeCommandInput {
  const window = options.incremental
    ? incrementalWindow(options.incremental.from, options.now)
    : undefined;
  const request: ExportTableToPointInTimeCommandInput = {
    TableArn: options.tableArn,
    S3Bucket: options.bucket,
    S3Prefix: options.prefix,
    ExportFormat: 'DYNAMODB_JSON',
    ...(options.kmsKeyId ? { S3SseAlgorithm: 'KMS', S3SseKmsKeyId: options.kmsKeyId } : {}),
    ...(window
      ? {
          ExportType: 'INCREMENTAL_EXPORT',
          IncrementalExportSpecification: {
            ExportFromTime: window.from,
            ExportToTime: window.to,
            ExportViewType: 'NEW_IMAGE',
          },
        }
      : { ExportType: 'FULL_EXPORT' }),
  };
  const identity = JSON.stringify({ ...request, step: window ? undefined : stepDown(options.now) });
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 32);
  return { ...request, ClientToken: `matchstream-${digest}` };
}

/**
 * Exports the events table to S3 with DynamoDB's own export (ExportTableToPointInTime): checks
 * the window of an incremental export before asking AWS anything, that point-in-time recovery
 * is on (and reaches back to `from`), requests the export, follows it with DescribeExport
 * until it completes or fails, then reads its manifests from the bucket.
 *
 * @example await exportTableOnAws({ dynamo, s3, table: 'matchstream-prod-events', bucket, prefix: ARCHIVE_PREFIX })
 */
export async function exportTableOnAws(options: AwsExportOptions): Promise<ArchivedExport> {
  const clock = options.clock ?? Date.now;
  const requested = clock();
  const { dynamo, table } = options;
  let description = await requestExportOnAws(options);
  const exportArn = description.ExportArn ?? '';
  const pollMs = options.pollMs ?? POLL_MS;
  for (;;) {
    const status = exportStatus(description, options);
    options.onStatus?.({ exportArn, status, elapsedMs: clock() - requested });
    if (status === 'COMPLETED') break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const described = await dynamo.send(new DescribeExportCommand({ ExportArn: exportArn }));
    description = described.ExportDescription ?? {};
  }
  return archivedExportOf(options, description, table);
}

/**
 * Asks DynamoDB for the export and returns at once, with the export as it began (its
 * `ExportArn` to follow with DescribeExport): the checks of `exportTableOnAws` first, the
 * window of an incremental export before any call.
 */
export async function requestExportOnAws(
  options: Omit<AwsExportOptions, 's3' | 'pollMs' | 'onStatus'>,
): Promise<ExportDescription> {
  const requested = (options.clock ?? Date.now)();
  // Refused here, before any call, when the window is one DynamoDB would refuse.
  if (options.incremental) incrementalWindow(options.incremental.from, requested);
  const { dynamo, table } = options;
  const tableArn = await tableArnOf(dynamo, table);
  await requireRecovery(dynamo, table, options.incremental?.from);
  const request = exportRequest({
    tableArn,
    bucket: options.bucket,
    prefix: options.prefix,
    now: requested,
    ...(options.incremental ? { incremental: options.incremental } : {}),
    ...(options.kmsKeyId ? { kmsKeyId: options.kmsKeyId } : {}),
  });
  return startExport(dynamo, table, request);
}

/** An export's status, or the reason it failed as a `StoreError` (`EXPORT_FAILED`). */
export function exportStatus(
  description: ExportDescription,
  where: { readonly table: string; readonly bucket: string; readonly prefix: string },
): ExportStatus {
  const status = description.ExportStatus ?? 'IN_PROGRESS';
  if (status === 'FAILED')
    throw new StoreError(
      'EXPORT_FAILED',
      `export ${description.ExportArn ?? '(no ARN)'} of table ${where.table} to s3://${where.bucket}/${where.prefix} failed: ${description.FailureCode ?? 'no failure code'}: ${description.FailureMessage ?? 'no failure message'}`,
      { table: where.table },
    );
  return status;
}

/** A completed export as the archive holds it, or `EXPORT_INCOMPLETE` when its manifests are missing. */
export async function archivedExportOf(
  options: { readonly s3: S3Client; readonly bucket: string; readonly prefix: string },
  description: ExportDescription,
  table: string,
): Promise<ArchivedExport> {
  const storage = new S3Storage(options.s3, options.bucket);
  const found = await findArchivedExport(storage, description, options.prefix);
  if (found) return found;
  throw new StoreError(
    'EXPORT_INCOMPLETE',
    `export ${description.ExportArn ?? '(no ARN)'} of table ${table} completed, but ${exportsRoot(options.bucket, description.S3Prefix ?? options.prefix)} holds no manifest-summary.json for it, so it can be neither verified nor read`,
    { table },
  );
}

async function tableArnOf(dynamo: DynamoDBClient, table: string): Promise<string> {
  try {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table }));
    if (!Table?.TableArn)
      throw new StoreError('EXPORT_REFUSED', `table ${table} has no ARN`, { table });
    return Table.TableArn;
  } catch (error) {
    if (error instanceof ResourceNotFoundException)
      throw new StoreError(
        'EXPORT_REFUSED',
        `no table "${table}" in ${await dynamo.config.region()}`,
        { table },
        { cause: error },
      );
    throw error;
  }
}

/**
 * Point-in-time recovery must be on (DynamoDB exports from it) and, for an incremental export,
 * reach back to `from`: turned off and on again, it restarts, and the changes before are gone.
 */
async function requireRecovery(
  dynamo: DynamoDBClient,
  table: string,
  from: string | undefined,
): Promise<void> {
  const { ContinuousBackupsDescription } = await dynamo.send(
    new DescribeContinuousBackupsCommand({ TableName: table }),
  );
  const recovery = ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
  if (recovery?.PointInTimeRecoveryStatus !== 'ENABLED') throw recoveryOff(table);
  const earliest = recovery.EarliestRestorableDateTime?.getTime();
  if (from !== undefined && earliest !== undefined && Date.parse(from) < earliest)
    throw new StoreError(
      'EXPORT_REFUSED',
      `point-in-time recovery of table ${table} reaches back to ${iso(earliest)} only, not to ${from} where the incremental export would start: take a full export instead`,
      { table },
    );
}

function recoveryOff(table: string, cause?: unknown): StoreError {
  return new StoreError(
    'EXPORT_REFUSED',
    `point-in-time recovery is off for table ${table}, and DynamoDB exports only from it: turn it on with "aws dynamodb update-continuous-backups --table-name ${table} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"`,
    { table },
    cause === undefined ? undefined : { cause },
  );
}

async function startExport(
  dynamo: DynamoDBClient,
  table: string,
  request: ExportTableToPointInTimeCommandInput,
): Promise<ExportDescription> {
  try {
    const { ExportDescription } = await dynamo.send(new ExportTableToPointInTimeCommand(request));
    if (!ExportDescription?.ExportArn)
      throw new StoreError('EXPORT_FAILED', `table ${table}: the export began without an ARN`, {
        table,
      });
    return ExportDescription;
  } catch (error) {
    if (error instanceof PointInTimeRecoveryUnavailableException) throw recoveryOff(table, error);
    if (error instanceof InvalidExportTimeException)
      throw new StoreError(
        'EXPORT_REFUSED',
        `table ${table}: DynamoDB refused the export's times (${error.message}); they must lie within the point-in-time recovery window`,
        { table },
        { cause: error },
      );
    if (error instanceof ExportConflictException)
      throw new StoreError(
        'EXPORT_REFUSED',
        `table ${table}: DynamoDB refused the export as a conflict (${error.message}) with client token ${request.ClientToken}`,
        { table },
        { cause: error },
      );
    throw error;
  }
}

/**
 * A completed export (as DescribeExport describes it) in the bucket: at the key DescribeExport
 * names as its manifest, else in `<prefix>/AWSDynamoDB/<export id>/`, else any export of the
 * prefix whose summary has its ARN (whether the folder is always named after the ARN's end is
 * not documented); undefined when there is none.
 */
export async function findArchivedExport(
  storage: ArchiveStorage,
  description: ExportDescription,
  prefix: string,
): Promise<ArchivedExport | undefined> {
  const exportArn = description.ExportArn ?? '';
  const under = description.S3Prefix ?? prefix;
  const folder = exportFolder(under, exportIdOf(exportArn));
  const candidates = [
    ...(description.ExportManifest?.endsWith('manifest-summary.json')
      ? [underPrefixOf(`${folder}/`, description.ExportManifest)]
      : []),
    `${folder}/manifest-summary.json`,
  ];
  for (const key of candidates)
    if (await exists(storage, key)) {
      const archived = await loadExport(storage, key);
      if (archived.summary.exportArn === exportArn) return archived;
    }
  const { exports } = await listExports(storage, under);
  return exports.find((e) => e.summary.exportArn === exportArn);
}

async function exists(storage: ArchiveStorage, key: string): Promise<boolean> {
  for await (const object of storage.list(key)) if (object.key === key) return true;
  return false;
}

function stepDown(ms: number): number {
  return Math.floor(ms / REQUEST_STEP_MS) * REQUEST_STEP_MS;
}

function stepUp(ms: number): number {
  return Math.ceil(ms / REQUEST_STEP_MS) * REQUEST_STEP_MS;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Where DynamoDB puts the exports of `prefix`, for messages. */
export function exportsRoot(bucket: string, prefix: string): string {
  return `s3://${bucket}/${prefix ? `${prefix}/` : ''}${EXPORTS_FOLDER}/`;
}
