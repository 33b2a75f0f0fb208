import { type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { closeSeason, seasonClosed, seasonHasEvents } from '../../ingest/seasons.js';
import { expireClosedSeason } from '../../pipeline/seasons.js';
import {
  type ArchiveStorage,
  FolderStorage,
  S3Storage,
} from '../../stream/archive/ArchiveStorage.js';
import { exportTableOnAws } from '../../stream/archive/awsExport.js';
import type { ExpireSummary } from '../../stream/archive/expireSeason.js';
import { ARCHIVE_PREFIX } from '../../stream/archive/exportFormat.js';
import { exportTableLocally } from '../../stream/archive/exportTable.js';
import {
  type ArchivedExport,
  type ExportVerification,
  listExports,
  verifyExport,
} from '../../stream/archive/readExport.js';
import { REGION_SOURCES } from '../../stream/aws/clientConfig.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { CHANGES_STREAM, EmbeddedRuntime } from '../../stream/local/EmbeddedRuntime.js';
import { archiveDir, openEventStore } from '../../stream/local/openEventStore.js';
import { StoreError } from '../../stream/StoreError.js';
import { CliError, EXIT } from '../exitCodes.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { counted } from '../output/plural.js';
import { formatTable } from '../output/table.js';
import { fileProgress, formatSeconds, statusLine } from '../progress.js';
import { refuseMixedStores, type StoreFlags } from '../storeOptions.js';
import { write } from '../write.js';

export interface ArchiveFlags extends StoreFlags {
  readonly json?: boolean;
  readonly progress: boolean;
  /** With --aws: the archive bucket (the stack output ArchiveBucket). */
  readonly bucket?: string;
}

export interface ExportFlags extends ArchiveFlags {
  readonly incremental?: boolean;
  readonly segments: number;
  /** With --aws: the KMS key DynamoDB encrypts the export with (the stack output ArchiveKey). */
  readonly kmsKey?: string;
}

/** An export as `archive list` shows it. */
export interface ExportListing {
  readonly id: string;
  readonly type: 'full' | 'incremental';
  /** The instant the export holds the table up to. */
  readonly up_to: string;
  /** An incremental export: the instant its changes start after. */
  readonly from: string | null;
  readonly started_at: string;
  readonly items: number;
  readonly files: number;
  /** The data files' bytes, compressed, as stored. */
  readonly bytes: number;
}

export interface CloseFlags extends StoreFlags {
  readonly reason?: string;
  readonly json?: boolean;
}

export interface ExpireFlags extends ArchiveFlags {
  readonly season: string;
}

/** `archive close-season`: SeasonClosed appended, once. */
export async function runArchiveCloseSeason(
  season: string,
  flags: CloseFlags,
  command: Command,
): Promise<void> {
  localOnly(flags, command);
  if (!flags.aws) requireDataFolder(flags.dataDir);
  const opened = await openEventStore(
    flags.aws ? { aws: true, table: flags.table } : { dataDir: flags.dataDir, table: flags.table },
  );
  try {
    // A season label with no event (a typo, a season not ingested yet) is not closed: the
    // close would refuse that season's rows for good. A closed season is said as before.
    if (!(await seasonClosed(opened.store, season))) {
      const { found, unreadable } = await seasonHasEvents(opened.store, season);
      if (!found)
        throw new CliError(
          `archive close-season: season ${season} has no events in ${opened.description}${unreadable > 0 ? ` (${counted(unreadable, 'stored event')} could not be read)` : ''}: nothing closed; ingest its games first, or check the season label`,
        );
    }
    const { closed, already } = await closeSeason(opened.store, season, {
      reason: flags.reason ?? null,
    });
    if (flags.json)
      await write(`${JSON.stringify({ ...closed, already_closed: already }, null, 2)}\n`);
    else
      await write(
        already
          ? `season ${season} was already closed at ${closed.closed_at}\n`
          : `season ${season} closed at ${closed.closed_at}; its events stay in the table until "matchstream archive expire --season ${season}"\n`,
      );
  } catch (error) {
    if (error instanceof StoreError)
      throw new CliError(`${command.name()}: ${error.message}`, EXIT.FAILURE, { cause: error });
    throw error;
  } finally {
    await opened.close();
  }
}

/** `archive expire`: a closed season's streams deleted from the table, the archive keeping them. */
export async function runArchiveExpire(flags: ExpireFlags, command: Command): Promise<void> {
  const archive = archiveOf(flags, command);
  const { storage } = archive;
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  const progress = statusLine(flags.progress && !flags.json);
  const onProgress = (p: { phase: string; done: number; total: number }) =>
    progress.show(
      `${p.phase}: ${p.done.toLocaleString('en-US')}${p.total ? ` of ${p.total.toLocaleString('en-US')}` : ''}`,
    );
  let summary: ExpireSummary;
  try {
    if (archive.aws) {
      const opened = await openEventStore({ aws: true, table: flags.table, archive: storage });
      try {
        summary = await onStorage(storage, () =>
          expireClosedSeason({
            store: opened.store,
            client: opened.client,
            storage,
            season: flags.season,
            onProgress,
            signal: controller.signal,
          }),
        );
      } finally {
        await opened.close();
      }
    } else {
      // The folder's whole runtime: the relay forwards what is pending first, and the deletes
      // go on the change stream as REMOVE records, as on AWS.
      const runtime = await EmbeddedRuntime.start({ dataDir: flags.dataDir, archive: storage });
      try {
        await runtime.relay.drain();
        summary = await expireClosedSeason({
          store: runtime.store,
          client: runtime.dynamo,
          storage,
          season: flags.season,
          changes: { kinesis: runtime.kinesis, streamName: CHANGES_STREAM },
          onProgress,
          signal: controller.signal,
        });
      } finally {
        await runtime.stop();
      }
    }
  } catch (error) {
    if (error instanceof StoreError)
      throw new CliError(`archive expire: ${error.message}`, EXIT.FAILURE, { cause: error });
    throw error;
  } finally {
    progress.stop();
    process.removeListener('SIGINT', interrupt);
  }
  if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
  else
    await write(
      `season ${summary.season}: ${counted(summary.streams, 'stream')}, ${counted(summary.commits, 'commit')} (${counted(summary.events, 'event')}) indexed in ${storage.description}/${summary.index}${summary.index_created ? '' : ' (by an earlier run)'}, from ${counted(summary.exports.length, 'export')}\n` +
        `deleted from the table: ${counted(summary.deleted, 'commit')} now; ${summary.completed ? 'none left, the season is expired' : `${counted(summary.remaining, 'commit')} left`}\n` +
        summary.kept
          .map((k) => `kept ${k.aggregate_id} from sequence ${k.sequence}: ${k.reason}\n`)
          .join(''),
    );
  if (!summary.completed)
    throw new CliError(
      controller.signal.aborted
        ? `archive expire: interrupted with ${counted(summary.remaining, 'commit')} of season ${summary.season} left in the table; run it again to finish`
        : `archive expire: ${counted(summary.remaining, 'commit')} of season ${summary.season} stay in the table (${summary.kept[0]?.aggregate_id ?? '?'}: ${summary.kept[0]?.reason ?? '?'}); run it again to retry`,
    );
}

/**
 * The archive the flags name: the bucket with --aws (which needs --bucket), else the data
 * folder's. The flags of the other one are refused, as are --memory and --endpoint.
 */
function archiveOf(flags: ArchiveFlags & { readonly kmsKey?: string }, command: Command): Archive {
  localOnly(flags, command);
  if (!flags.aws) {
    if (flags.bucket !== undefined || flags.kmsKey !== undefined)
      throw new CliError(
        `--bucket and --kms-key are for the archive on AWS: add --aws (the local archive is ${archiveDir(flags.dataDir)})`,
        EXIT.USAGE,
      );
    requireDataFolder(flags.dataDir);
    return { aws: false, storage: new FolderStorage(archiveDir(flags.dataDir)) };
  }
  if (flags.bucket === undefined)
    throw new CliError(
      `archive ${command.name()} --aws needs --bucket <name>: the archive bucket of the deployed stack (its output ArchiveBucket)`,
      EXIT.USAGE,
    );
  if (command.getOptionValueSource('segments') === 'cli')
    throw new CliError(
      '--segments is for the local export: on AWS, DynamoDB chooses the data files',
      EXIT.USAGE,
    );
  const s3 = s3Client();
  return { aws: true, storage: new S3Storage(s3, flags.bucket), s3 };
}

type Archive =
  | { readonly aws: false; readonly storage: FolderStorage }
  | { readonly aws: true; readonly storage: S3Storage; readonly s3: S3Client };

/** S3's errors (no such bucket, access denied) in one line that names the bucket. */
export async function onStorage<T>(storage: ArchiveStorage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof S3ServiceException)
      throw new CliError(
        error.name === 'NoSuchBucket'
          ? `${storage.description}: no such bucket; give the stack output ArchiveBucket with --bucket (and its region with ${REGION_SOURCES})`
          : `${storage.description}: ${error.name}: ${error.message}`,
        EXIT.FAILURE,
        { cause: error },
      );
    throw error;
  }
}

/**
 * The archive is a data folder's or the deployed stack's: --memory and --endpoint are refused,
 * as is a --data-dir typed with --aws (see `refuseMixedStores`).
 */
function localOnly(flags: StoreFlags, command: Command): void {
  if (flags.memory)
    throw new CliError(
      'an archive of a store in memory would be lost with it: use --data-dir',
      EXIT.USAGE,
    );
  if (flags.endpoint)
    throw new CliError(
      'the archive belongs to a data folder (or --aws): drop --endpoint',
      EXIT.USAGE,
    );
  refuseMixedStores(flags, command);
}

/** `archive export`: the events table exported into the archive, then verified. */
export async function runArchiveExport(flags: ExportFlags, command: Command): Promise<void> {
  const archive = archiveOf(flags, command);
  const { storage } = archive;
  const { exports } = await onStorage(storage, () => listExports(storage, ARCHIVE_PREFIX));
  const newest = exports.at(-1);
  if (flags.incremental && !newest)
    throw new CliError(
      archive.aws
        ? `the archive (${storage.description}) holds no export yet: run "matchstream archive export --aws" for a full one first`
        : 'the archive holds no export yet: run "matchstream archive export" for a full one first',
    );
  const from = flags.incremental && newest ? newest.upTo : undefined;
  const archived = archive.aws
    ? await exportOnAws(flags, archive, from)
    : await exportLocally(flags, archive.storage, from);
  const verifying = fileProgress('verifying', flags.progress && !flags.json, 'files');
  let verification: ExportVerification;
  try {
    verification = await onStorage(storage, () =>
      verifyExport(storage, archived, (files, items) =>
        verifying.update(files, archived.files.length, items),
      ),
    );
  } finally {
    verifying.stop();
  }
  const bytes = await onStorage(storage, () => dataBytes(storage, archived));
  const listing = listingOf(archived, bytes);
  if (flags.json) await write(`${JSON.stringify({ export: listing, verification }, null, 2)}\n`);
  else
    await write(
      `exported ${counted(listing.items, 'item')} (${listing.type}) in ${counted(listing.files, 'file')}, ${megabytes(listing.bytes)}, to ${storage.description}/${archived.summaryKey.slice(0, archived.summaryKey.lastIndexOf('/'))}\n` +
        `verified: ${verification.items_read.toLocaleString('en-US')} items read back, ${verification.items_in_manifest.toLocaleString('en-US')} in the manifest${verification.ok ? '' : ', MISMATCH'}\n`,
    );
  if (!verification.ok)
    throw new CliError(
      `export ${archived.id} does not match its manifest: ${
        verification.mismatches
          .map(
            (m) =>
              `${m.file} has ${m.items} items, the manifest says ${m.expected_items}${m.checksum_ok ? '' : ', checksum differs'}`,
          )
          .join('; ') ||
        `${verification.items_read} items read, the summary says ${verification.items_in_manifest}`
      }`,
    );
}

/** The local export: the table scanned into the data folder's archive, then found there. */
async function exportLocally(
  flags: ExportFlags,
  storage: FolderStorage,
  from: string | undefined,
): Promise<ArchivedExport> {
  const progress = fileProgress('exporting', flags.progress && !flags.json, 'items');
  // Ctrl-C stops the scan at its next page; the folder is closed and released as after any run.
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  let summary: Awaited<ReturnType<typeof exportTableLocally>>;
  try {
    const opened = await openEventStore({
      dataDir: flags.dataDir,
      table: flags.table,
      readOnly: true,
    });
    try {
      const total = await opened.store.approximateCommits();
      summary = await exportTableLocally({
        client: opened.client,
        table: opened.table,
        storage,
        prefix: ARCHIVE_PREFIX,
        segments: flags.segments,
        ...(from !== undefined ? { incremental: { from } } : {}),
        onProgress: (items) => progress.update(items, flags.incremental ? 0 : total, items),
        signal: controller.signal,
      });
    } finally {
      progress.stop();
      await opened.close();
    }
  } catch (error) {
    if (controller.signal.aborted)
      throw new CliError(
        'archive export interrupted; run it again to continue (the export it began is left unfinished, as "matchstream archive list" shows; the next run makes a whole one)',
        EXIT.FAILURE,
        { cause: error },
      );
    throw error;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
  const { exports: after } = await listExports(storage, ARCHIVE_PREFIX);
  const archived = after.find((e) => e.summary.exportArn === summary.exportArn);
  if (!archived) throw new CliError(`the export ${summary.exportArn} is not in the archive`);
  return archived;
}

/**
 * The export on AWS: DynamoDB exports the deployed table into the bucket while its status
 * shows on a terminal; its errors (point-in-time recovery off, a window DynamoDB refuses, a
 * failed export) in one line.
 */
async function exportOnAws(
  flags: ExportFlags,
  { storage, s3 }: Extract<Archive, { aws: true }>,
  from: string | undefined,
): Promise<ArchivedExport> {
  const status = statusLine(flags.progress && !flags.json);
  const opened = await openEventStore({ aws: true, table: flags.table, readOnly: true });
  try {
    return await onStorage(storage, () =>
      exportTableOnAws({
        dynamo: opened.client,
        s3,
        table: opened.table,
        bucket: storage.bucket,
        prefix: ARCHIVE_PREFIX,
        ...(from !== undefined ? { incremental: { from } } : {}),
        ...(flags.kmsKey !== undefined ? { kmsKeyId: flags.kmsKey } : {}),
        onStatus: (report) =>
          status.show(
            `exporting on AWS: ${report.status}, ${formatSeconds(report.elapsedMs / 1000)} (${report.exportArn})`,
          ),
      }),
    );
  } catch (error) {
    if (error instanceof StoreError)
      throw new CliError(error.message, EXIT.FAILURE, { cause: error });
    throw error;
  } finally {
    status.stop();
    await opened.close();
  }
}

/** `archive list`: the archive's exports. */
export async function runArchiveList(flags: ArchiveFlags, command: Command): Promise<void> {
  const { storage } = archiveOf(flags, command);
  const { unfinished, listings } = await onStorage(storage, async () => {
    const found = await listExports(storage, ARCHIVE_PREFIX);
    const listings = await Promise.all(
      found.exports.map(async (e) => listingOf(e, await dataBytes(storage, e))),
    );
    return { ...found, listings };
  });
  if (flags.json) {
    await write(
      `${JSON.stringify({ archive: storage.description, exports: listings, unfinished: unfinished.map((u) => ({ id: u.id, started_at: u.started.toISOString() })) }, null, 2)}\n`,
    );
    return;
  }
  if (listings.length === 0 && unfinished.length === 0) {
    await write(
      `the archive (${storage.description}) holds no export yet; "matchstream archive export" makes one\n`,
    );
    return;
  }
  const rows = [
    ['export', 'type', 'up to', 'items', 'files', 'size'],
    ...listings.map((l) => [
      l.id,
      l.type,
      l.up_to,
      l.items.toLocaleString('en-US'),
      String(l.files),
      megabytes(l.bytes),
    ]),
  ];
  const lines = formatTable(rows, ['left', 'left', 'left', 'right', 'right', 'right']);
  for (const u of unfinished)
    lines.push(`${u.id}  unfinished: started ${u.started.toISOString()}, no manifest summary`);
  await write(`${lines.join('\n')}\n`);
}

function listingOf(e: ArchivedExport, bytes: number): ExportListing {
  return {
    id: e.id,
    type: e.incremental ? 'incremental' : 'full',
    up_to: e.upTo,
    from: e.summary.exportFromTime ?? null,
    started_at: e.summary.startTime,
    items: e.summary.itemCount,
    files: e.files.length,
    bytes,
  };
}

/** The bytes of an export's data files as stored. */
async function dataBytes(storage: ArchiveStorage, e: ArchivedExport): Promise<number> {
  const folder = e.summaryKey.slice(0, e.summaryKey.lastIndexOf('/') + 1);
  let bytes = 0;
  for await (const object of storage.list(`${folder}data/`)) bytes += object.size;
  return bytes;
}

function megabytes(bytes: number): string {
  return bytes < 1_048_576
    ? `${(bytes / 1024).toFixed(1)} KB`
    : `${(bytes / 1_048_576).toFixed(1)} MB`;
}
