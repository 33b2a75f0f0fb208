import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { closestName } from '../../feeds/closestName.js';
import {
  awsExporter,
  type ChainExporter,
  chainUpToDate,
  localExporter,
} from '../../pipeline/archiveChainUpToDate.js';
import {
  type ArchiveFileSummary,
  interruptedChain,
  replayArchiveToFile,
} from '../../pipeline/archiveFileReplay.js';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { Projector } from '../../projections/Projector.js';
import { REGISTRY_TABLE, ReadModelRegistry } from '../../projections/ReadModelRegistry.js';
import { ReadModelTarget } from '../../projections/ReadModelTarget.js';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { ArchivedEventStore } from '../../stream/archive/ArchivedEventStore.js';
import {
  type ArchiveStorage,
  FolderStorage,
  S3Storage,
} from '../../stream/archive/ArchiveStorage.js';
import { ARCHIVE_PREFIX } from '../../stream/archive/exportFormat.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import type { Domain } from '../../stream/buses/domains.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import { archiveDir, openEventStore } from '../../stream/local/openEventStore.js';
import { BusTarget } from '../../stream/replay/BusTarget.js';
import { FileTarget } from '../../stream/replay/FileTarget.js';
import { DynamoReplayCheckpoints } from '../../stream/replay/ReplayCheckpoints.js';
import { type ReplaySummary, type ReplayTarget, replay } from '../../stream/replay/replay.js';
import { StoreError } from '../../stream/StoreError.js';
import { CliError, EXIT } from '../exitCodes.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { counted } from '../output/plural.js';
import { fileProgress, formatSeconds, statusLine } from '../progress.js';
import { sameFile } from '../sameFile.js';
import { StdoutTarget } from '../stdoutTarget.js';
import { refuseMixedStores, type StoreFlags, storeTarget } from '../storeOptions.js';
import { write } from '../write.js';
import { onStorage } from './archive.js';

/** Where `--to` sends the events. */
export type TargetSpec =
  | { readonly kind: 'read-model'; readonly name: string }
  | { readonly kind: 'bus'; readonly domains?: readonly Domain[] }
  | { readonly kind: 'file'; readonly path: string };

export interface ReplayFlags extends StoreFlags {
  readonly to: TargetSpec;
  readonly aggregate?: string[];
  readonly type?: string[];
  readonly since?: string;
  readonly until?: string;
  readonly rate?: number;
  readonly segments: number;
  readonly name?: string;
  readonly restart?: boolean;
  readonly unreadable?: string;
  readonly json?: boolean;
  readonly progress: boolean;
  readonly source?: 'archive' | 'scan';
  readonly bucket?: string;
  readonly kmsKey?: string;
}

/**
 * Where the replay reads the store: the archive by default for a file target of a data folder
 * or of --aws (without --aggregate, whose streams are read by key), else the table. The
 * flags that only one of them takes are refused with the other.
 */
function sourceOf(flags: ReplayFlags, command: Command): 'archive' | 'scan' {
  const explicit = command.getOptionValueSource('source') === 'cli' ? flags.source : undefined;
  if (explicit === 'archive') {
    if (flags.to.kind !== 'file')
      throw new CliError(
        '--source archive replays to a file only (--to file:PATH): read-model and bus replays scan the table, drop --source',
        EXIT.USAGE,
      );
    if (flags.memory)
      throw new CliError(
        'a store in memory has no archive: drop --source archive (or replay a data folder with --data-dir)',
        EXIT.USAGE,
      );
    if (flags.endpoint)
      throw new CliError(
        'an --endpoint store has no archive: use --source scan, or --data-dir (its archive) or --aws --bucket (the stack’s)',
        EXIT.USAGE,
      );
  }
  const source =
    explicit ??
    (flags.to.kind === 'file' && !flags.memory && !flags.endpoint && !flags.aggregate
      ? 'archive'
      : 'scan');
  if ((flags.bucket !== undefined || flags.kmsKey !== undefined) && !flags.aws)
    throw new CliError(
      `--bucket and --kms-key are for the archive on AWS: add --aws (the local archive is ${archiveDir(flags.dataDir)})`,
      EXIT.USAGE,
    );
  if (flags.kmsKey !== undefined && source === 'scan')
    throw new CliError(
      '--kms-key encrypts an export, which a scan does not make: drop it, or add --source archive',
      EXIT.USAGE,
    );
  // A scan of the table alone would leave out, without a word, the streams of the seasons
  // expired from it into the archive: the scan reads them there, as a data folder's does.
  // (Other targets than a file are refused with --aws further on.)
  if (flags.aws && flags.bucket === undefined && flags.to.kind === 'file')
    throw new CliError(
      source === 'archive'
        ? 'replay --aws reads the archive bucket: give --bucket <name> (the stack output ArchiveBucket)'
        : 'replay --aws reads the streams of seasons expired from the table in the archive bucket: give --bucket <name> (the stack output ArchiveBucket)',
      EXIT.USAGE,
    );
  if (source === 'archive') {
    if (flags.aws && command.getOptionValueSource('segments') === 'cli')
      throw new CliError(
        '--segments is for a scan or the local export: on AWS, DynamoDB chooses the data files',
        EXIT.USAGE,
      );
    if (flags.rate !== undefined)
      throw new CliError('--rate paces a scan replay: add --source scan', EXIT.USAGE);
  }
  return source;
}

/**
 * Refuses a `--type` that names no event type of the schemas, which would replay nothing and
 * report success.
 */
function checkEventTypes(types: readonly string[]): void {
  const known = SchemaRegistry.fromDirectory().eventTypes();
  for (const type of types) {
    if (known.includes(type)) continue;
    const meant =
      known.find((k) => k.toLowerCase() === type.toLowerCase()) ?? closestName(type, known);
    throw new CliError(
      `--type ${type} is no event type: ${meant ? `did you mean ${meant}? ` : ''}"matchstream schemas list" names the ${known.length} there are`,
      EXIT.USAGE,
    );
  }
}

/** `matchstream replay`: stored events sent again to a read model, the buses or a file. */
export async function runReplay(flags: ReplayFlags, command: Command): Promise<void> {
  refuseMixedStores(flags, command);
  const source = sourceOf(flags, command);
  if (flags.type) checkEventTypes(flags.type);
  const eventsToStdout = flags.to.kind === 'file' && flags.to.path === '-';
  const unreadableToStdout = flags.unreadable === '-';
  if (eventsToStdout && unreadableToStdout)
    throw new CliError(
      '--to file:- and --unreadable - would both write to standard output: name a file for one',
      EXIT.USAGE,
    );
  // When standard output carries events, the summary goes to standard error.
  const dataOnStdout = eventsToStdout || unreadableToStdout;
  if (dataOnStdout && flags.json)
    throw new CliError(
      '--json prints the summary on standard output, which carries the events here: drop --json, or name a file',
      EXIT.USAGE,
    );
  const filters = {
    ...(flags.aggregate ? { aggregateIds: flags.aggregate } : {}),
    ...(flags.type ? { eventTypes: flags.type } : {}),
    ...(flags.since ? { from: flags.since } : {}),
    ...(flags.until ? { to: flags.until } : {}),
  };
  const name =
    flags.name ??
    (source === 'archive'
      ? `replay:${JSON.stringify({ to: flags.to, filters, source, aws: flags.aws === true })}`
      : `replay:${JSON.stringify({ to: flags.to, filters, segments: flags.segments })}`);
  const unreadableFile = unreadableToStdout
    ? undefined
    : resolve(flags.unreadable ?? 'unreadable-events.jsonl');
  if (
    flags.to.kind === 'file' &&
    !eventsToStdout &&
    unreadableFile &&
    sameFile(flags.to.path, unreadableFile)
  )
    throw new CliError(
      `--to file:${flags.to.path} and --unreadable ${flags.unreadable}${command.getOptionValueSource('unreadable') === 'default' ? ' (its default)' : ''} are the same file: the events and the unreadable ones would overwrite each other; name another for one`,
      EXIT.USAGE,
    );
  // A folder is never created to replay what it does not hold.
  if (!flags.memory && !flags.endpoint && !flags.aws) requireDataFolder(flags.dataDir);
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  const progress = fileProgress('replaying', flags.progress && !flags.json, 'events');
  let summary: ScannedSummary | ArchivedSummary;
  try {
    if (source === 'archive') summary = await throughArchive();
    else if (flags.to.kind === 'bus') {
      if (flags.endpoint || flags.aws)
        throw new CliError(
          `bus replays run on the embedded pipeline; drop ${flags.aws ? '--aws (replay a bus archive on AWS instead)' : '--endpoint'}`,
          EXIT.USAGE,
        );
      const pipeline = await startPipeline(
        flags.memory ? { memory: true } : { dataDir: flags.dataDir },
      );
      try {
        const target = new BusTarget(pipeline.runtime.publisher, flags.to.domains);
        const result = await run(pipeline.runtime.store, pipeline.runtime.dynamo, target);
        await pipeline.runtime.settle();
        summary = { ...result, source: 'scan' as const, exports: [], ...target.stats };
      } finally {
        await pipeline.stop();
      }
    } else {
      if (flags.aws && flags.to.kind !== 'file')
        throw new CliError(
          'with --aws, replay only to a file (--to file:PATH); the deployed read models are fed by the stream',
          EXIT.USAGE,
        );
      // With --aws, the bucket's expired seasons are read as a data folder's archive is.
      const archive =
        flags.aws && flags.bucket !== undefined
          ? new S3Storage(s3Client(), flags.bucket)
          : undefined;
      const opened = await openEventStore({
        ...storeTarget(flags),
        ...(archive ? { archive } : {}),
      });
      try {
        await archive?.requireBucket({ output: 'ArchiveBucket', flag: '--bucket' });
        let target: ReplayTarget;
        if (eventsToStdout) target = new StdoutTarget();
        else if (flags.to.kind === 'file') target = new FileTarget(flags.to.path);
        else {
          const spec = flags.to;
          const projection = READ_MODELS.find((p) => p.name === spec.name);
          if (!projection) throw new CliError(`unknown read model ${spec.name}`, EXIT.USAGE);
          const registry = new ReadModelRegistry(
            await DynamoDocumentStore.open(opened.client, REGISTRY_TABLE),
          );
          const active = await registry.active(projection);
          target = new ReadModelTarget(
            new Projector(projection, await DynamoDocumentStore.open(opened.client, active.table)),
            `read model ${projection.name} generation ${active.generation}`,
          );
        }
        summary = {
          ...(await run(opened.store, opened.client, target)),
          source: 'scan' as const,
          exports: [],
        };
      } finally {
        await opened.close();
      }
    }
  } finally {
    progress.stop();
    process.removeListener('SIGINT', interrupt);
  }

  const line =
    `${summary.completed ? 'replayed' : 'interrupted after'} ${counted(summary.events, 'event')} to ${summary.target}` +
    ` in ${summary.seconds} s (${summary.events_per_second.toLocaleString('en-US')} events/s)` +
    `${summary.resumed ? ', continuing an interrupted replay' : ''}` +
    `${summary.completed ? '' : '; run the same command again to continue'}\n` +
    ('up_to' in summary ? archiveLine(summary) : '');
  if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (dataOnStdout) process.stderr.write(line);
  else await write(line);
  if (!summary.completed) throw new CliError('replay interrupted; run it again to continue');
  if (summary.unreadable > 0)
    throw new CliError(
      `${counted(summary.unreadable, 'stored event')} could not be read (or ${summary.unreadable === 1 ? 'follows' : 'follow'} one that cannot in ${summary.unreadable === 1 ? 'its' : 'their'} stream); ${unreadableFile ? `they are in ${unreadableFile}` : 'they went to standard output'}`,
      EXIT.INVALID_INPUT,
    );

  /**
   * The replay through the archive: the export chain brought up to date (or the one an
   * interrupted run read), its data files written, then, locally, the table's commits after it.
   */
  async function throughArchive(): Promise<ArchivedSummary> {
    const s3 = flags.aws ? s3Client() : undefined;
    const storage: ArchiveStorage =
      s3 && flags.bucket !== undefined
        ? new S3Storage(s3, flags.bucket)
        : new FolderStorage(archiveDir(flags.dataDir));
    // The store reads the archive's expired seasons, which the replay reads through it.
    const opened = await openEventStore({
      ...storeTarget(flags),
      readOnly: !!flags.aws,
      archive: storage,
    });
    const status = statusLine(flags.progress && !flags.json);
    const exporting = fileProgress(
      'exporting',
      flags.progress && !flags.json && !flags.aws,
      'items',
    );
    try {
      return await onStorage(storage, async () => {
        const checkpoints = await DynamoReplayCheckpoints.open(opened.client);
        const restart = flags.restart === true || eventsToStdout;
        const exporter: ChainExporter =
          s3 && flags.bucket !== undefined
            ? awsExporter({
                dynamo: opened.client,
                s3,
                table: opened.table,
                bucket: flags.bucket,
                prefix: ARCHIVE_PREFIX,
                ...(flags.kmsKey !== undefined ? { kmsKeyId: flags.kmsKey } : {}),
                onStatus: (report) =>
                  status.show(
                    `bringing the archive up to date: export ${report.status}, ${formatSeconds(report.elapsedMs / 1000)} (${report.exportArn})`,
                  ),
              })
            : localExporter({
                client: opened.client,
                table: opened.table,
                storage: storage as FolderStorage,
                prefix: ARCHIVE_PREFIX,
                segments: flags.segments,
                onProgress: (items) => exporting.update(items, 0, items),
              });
        const interrupted = restart
          ? undefined
          : await interruptedChain(checkpoints, name, storage, ARCHIVE_PREFIX);
        const { chain, exported } = interrupted
          ? { chain: interrupted, exported: null }
          : await chainUpToDate(storage, ARCHIVE_PREFIX, exporter);
        status.stop();
        exporting.stop();
        if (chain.length === 0)
          throw new CliError(`${storage.description} holds no full export to replay from`);
        const result = await replayArchiveToFile({
          storage,
          chain,
          target: eventsToStdout
            ? new StdoutTarget()
            : new FileTarget((flags.to as { path: string }).path),
          name,
          checkpoints,
          codec: new CommitCodec(opened.registry),
          filters,
          restart,
          // On AWS the table is not scanned: the replay ends at the chain's end.
          ...(flags.aws
            ? {}
            : { tail: (after: string) => opened.store.itemsCommittedAfter(after) }),
          ...(opened.store instanceof ArchivedEventStore ? { expired: opened.store } : {}),
          signal: controller.signal,
          onProgress: (p) => progress.update(p.items, p.totalItems, p.events),
          onUnreadable,
        });
        return { ...result, archive: storage.description, exported };
      });
    } catch (error) {
      if (error instanceof StoreError)
        throw new CliError(error.message, EXIT.FAILURE, { cause: error });
      throw error;
    } finally {
      status.stop();
      exporting.stop();
      await opened.close();
    }
  }

  function onUnreadable(
    event: Parameters<NonNullable<Parameters<typeof replay>[0]['onUnreadable']>>[0],
  ) {
    return unreadableFile
      ? appendFile(unreadableFile, `${JSON.stringify(event)}\n`)
      : write(`${JSON.stringify(event)}\n`);
  }

  async function run(
    source: Parameters<typeof replay>[0]['source'],
    client: Parameters<typeof DynamoReplayCheckpoints.open>[0],
    target: ReplayTarget,
  ) {
    return replay({
      source,
      target,
      name,
      checkpoints: await DynamoReplayCheckpoints.open(client),
      filters,
      segments: flags.segments,
      ...(flags.rate ? { ratePerSecond: flags.rate } : {}),
      ...(flags.restart || eventsToStdout ? { restart: true } : {}),
      signal: controller.signal,
      onProgress: (p) => progress.update(p.scanned, p.total, p.events),
      onUnreadable,
    });
  }
}

/** A replay of the table's summary: where it read (no exports), and a bus target's counts. */
type ScannedSummary = ReplaySummary &
  Partial<BusTarget['stats']> & { readonly source: 'scan'; readonly exports: readonly string[] };

/** A replay through the archive's summary: which archive, and the export this run made. */
type ArchivedSummary = ArchiveFileSummary & {
  readonly archive: string;
  readonly exported: 'full' | 'incremental' | null;
};

/** The archive's part of the summary line: what was read, and up to when. */
function archiveLine(summary: ArchivedSummary): string {
  const made = summary.exported ? `after a new ${summary.exported} export, ` : '';
  const tail = summary.tail
    ? `; then the table's commits from a minute before that on: ${summary.tail.items.toLocaleString('en-US')} read, ${counted(summary.tail.events, 'event')} not in the archive`
    : `; events committed after ${summary.up_to} are not in it (--source scan reads the table)`;
  const expired =
    summary.expired_streams > 0
      ? `; then the ${counted(summary.expired_streams, 'stream')} of expired seasons, whole, through the archive's index`
      : '';
  return `read through the archive (${summary.archive}): ${made}${counted(summary.exports.length, 'export')} (${summary.exports.join(', ')}) up to ${summary.up_to}, ${counted(summary.files, 'data file')}${tail}${expired}; ${counted(summary.scanned, 'commit')} read in all, ${summary.duplicates.toLocaleString('en-US')} of them twice and written once\n`;
}
