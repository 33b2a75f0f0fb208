import type { Command } from 'commander';
import { type ArchiveStorage, FolderStorage } from '../../stream/archive/ArchiveStorage.js';
import { ARCHIVE_PREFIX } from '../../stream/archive/exportFormat.js';
import { exportTableLocally } from '../../stream/archive/exportTable.js';
import {
  type ArchivedExport,
  type ExportVerification,
  listExports,
  verifyExport,
} from '../../stream/archive/readExport.js';
import { archiveDir, openEventStore } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { wholeNumber } from '../options.js';
import { counted } from '../output/plural.js';
import { formatTable } from '../output/table.js';
import { fileProgress } from '../progress.js';
import { addStoreOptions, type StoreFlags } from '../storeOptions.js';
import { write } from '../write.js';

interface ArchiveFlags extends StoreFlags {
  readonly json?: boolean;
  readonly progress: boolean;
}

interface ExportFlags extends ArchiveFlags {
  readonly incremental?: boolean;
  readonly segments: number;
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

export function registerArchive(program: Command): void {
  const archive = program
    .command('archive')
    .description('export the events table into the archive, and list what the archive holds')
    .addHelpText(
      'after',
      `
The archive keeps exports of the events table in the layout and format of DynamoDB's export
to S3 (manifest-summary.json, manifest-files.json, gzip data files of DynamoDB JSON): on AWS
in the stack's archive bucket, written by DynamoDB itself; locally in <data-dir>/archive,
written by matchstream the same way. The table stays the system of record; the archive is
the cheap, durable copy that rebuilds read from.

Commands:
  archive export [--incremental]   export the table (full, or the commits since the last export)
  archive list                     the exports: time, type, items, files, size`,
    );

  addStoreOptions(
    archive
      .command('export')
      .description('export the events table into the archive, then verify it against its manifest')
      .option(
        '--incremental',
        'only the commits since the newest export (a full export must exist)',
      )
      .option('--segments <n>', 'parallel scan segments: one data file each', wholeNumber(1, 64), 4)
      .option('--json', 'print the export and its verification as JSON')
      .option('--no-progress', 'no progress bar, even on a terminal'),
  )
    .addHelpText(
      'after',
      `
A full export holds every commit of the table; an incremental one the commits after the
newest export of the archive up to a minute ago (an append may take that long to land, so
an export is dated a minute before it starts; a commit of that last minute can be in two
exports, and readers take it once). Every export is read back and verified: the items of
each data file against manifest-files.json, the total against manifest-summary.json, and
each file's MD5. A mismatch exits 1 and names the file.

Examples:
  matchstream archive export
  matchstream archive export --incremental --json`,
    )
    .action(async (flags: ExportFlags) => {
      await runExport(flags);
    });

  addStoreOptions(
    archive
      .command('list')
      .description('the archive’s exports, oldest first: time, type, items, files, size')
      .option('--json', 'print the exports as JSON'),
  ).action(async (flags: ArchiveFlags) => {
    await runList(flags);
  });
}

function localOnly(flags: StoreFlags): void {
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
}

async function runExport(flags: ExportFlags): Promise<void> {
  localOnly(flags);
  if (flags.aws) throw new CliError('archive export --aws is not available yet', EXIT.USAGE);
  requireDataFolder(flags.dataDir);
  const storage = new FolderStorage(archiveDir(flags.dataDir));
  const { exports } = await listExports(storage, ARCHIVE_PREFIX);
  const newest = exports.at(-1);
  if (flags.incremental && !newest)
    throw new CliError(
      'the archive holds no export yet: run "matchstream archive export" for a full one first',
    );
  const progress = fileProgress('exporting', flags.progress && !flags.json, 'items');
  const opened = await openEventStore({
    dataDir: flags.dataDir,
    table: flags.table,
    readOnly: true,
  });
  let summary: Awaited<ReturnType<typeof exportTableLocally>>;
  try {
    const total = await opened.store.approximateCommits();
    summary = await exportTableLocally({
      client: opened.client,
      table: opened.table,
      storage,
      prefix: ARCHIVE_PREFIX,
      segments: flags.segments,
      ...(flags.incremental && newest ? { incremental: { from: newest.upTo } } : {}),
      onProgress: (items) => progress.update(items, flags.incremental ? 0 : total, items),
    });
  } finally {
    progress.stop();
    await opened.close();
  }
  const { exports: after } = await listExports(storage, ARCHIVE_PREFIX);
  const archived = after.find((e) => e.summary.exportArn === summary.exportArn);
  if (!archived) throw new CliError(`the export ${summary.exportArn} is not in the archive`);
  const verifying = fileProgress('verifying', flags.progress && !flags.json, 'files');
  let verification: ExportVerification;
  try {
    verification = await verifyExport(storage, archived, (files, items) =>
      verifying.update(files, archived.files.length, items),
    );
  } finally {
    verifying.stop();
  }
  const listing = listingOf(archived, await dataBytes(storage, archived));
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

async function runList(flags: ArchiveFlags): Promise<void> {
  localOnly(flags);
  if (flags.aws) throw new CliError('archive list --aws is not available yet', EXIT.USAGE);
  requireDataFolder(flags.dataDir);
  const storage = new FolderStorage(archiveDir(flags.dataDir));
  const { exports, unfinished } = await listExports(storage, ARCHIVE_PREFIX);
  const listings = await Promise.all(
    exports.map(async (e) => listingOf(e, await dataBytes(storage, e))),
  );
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
