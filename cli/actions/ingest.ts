import { basename } from 'node:path';
import type { Command } from 'commander';
import { streamGames } from '../../feeds/readGames.js';
import { refuseClosedSeasons } from '../../ingest/closedSeasons.js';
import {
  IngestStoppedError,
  type IngestSummary,
  ingestGames,
  type Reject,
} from '../../ingest/ingestGames.js';
import { S3Storage } from '../../stream/archive/ArchiveStorage.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { dataDirHolder } from '../../stream/local/dataDirLock.js';
import { type OpenedStore, openEventStore, storeDir } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import { ROWS_STORED, rowsStored } from '../ingestProgress.js';
import { Interrupt } from '../interrupt.js';
import { type NeutralFlags, neutralValues } from '../options.js';
import { awsCredentialsLine } from '../output/awsCredentials.js';
import { counted } from '../output/plural.js';
import { unknownColumnWarnings } from '../output/problems.js';
import { ingestStopped } from '../output/storeStopped.js';
import { Phases } from '../phases.js';
import { RejectsFile, refuseRejectsWithJson, rejectsPathFor } from '../rejectsFile.js';
import { ingestThrough, ServerIngestStopped } from '../remoteIngest.js';
import { serverToken } from '../serverToken.js';
import { refuseMixedStores, type StoreFlags, storeTarget } from '../storeOptions.js';
import { write } from '../write.js';

export interface IngestFlags extends StoreFlags, NeutralFlags {
  readonly concurrency: number;
  /** With --aws: the archive bucket, where the seasons expired from the table are. */
  readonly bucket?: string;
  readonly rejects?: string;
  readonly json?: boolean;
  readonly progress: boolean;
}

/** `matchstream ingest`: a games feed into the event store. */
export async function runIngest(file: string, flags: IngestFlags, command: Command): Promise<void> {
  const started = performance.now();
  const rejectsToStdout = flags.rejects === '-';
  refuseRejectsWithJson(flags);
  refuseMixedStores(flags, command);
  if (flags.bucket !== undefined && !flags.aws)
    throw new CliError(
      '--bucket is the archive bucket on AWS: add --aws (a data folder reads its own archive)',
      EXIT.USAGE,
    );
  // An unreadable feed fails before a store is opened (or a data folder made) for it; a
  // rejects file that is the feed, before the feed is read through (it would replace it).
  const rejectsPath = await rejectsPathFor(file, flags.rejects, {
    what: 'feed',
    fallback: 'rejects.jsonl',
  });
  const rejectsAt = rejectsToStdout ? 'standard output' : rejectsPath;
  // Opened (emptied: it speaks of this run only) before the store, so that a rejects file that
  // cannot be written fails before anything is stored.
  const rejects = rejectsToStdout ? undefined : await RejectsFile.open(rejectsPath);
  let rejected = 0;
  // A bar on a terminal only: the summary is the command's output.
  const phases = new Phases({ quiet: !flags.progress || flags.json === true, plain: false });
  let opened: OpenedStore | undefined;
  let description: string;
  let summary: IngestSummary;
  // A store that stopped under the ingest (its disk full): the command fails with the store's
  // line; with --json, after the summary so far (with `stopped`, that line), as an interrupted
  // run reports its own.
  let stopped: CliError | undefined;
  // Ctrl-C (or SIGTERM) stops the reading: the rows under way are stored, the summary says how
  // far it got, and the run exits 1; run again, the rows stored count as unchanged.
  const interrupt = new Interrupt(() =>
    flags.memory
      ? 'ingest interrupted; nothing was kept (the store was in memory)'
      : 'ingest interrupted; run it again to continue: the rows stored stay, and count as unchanged then',
  );
  interrupt.onCaught(() =>
    phases.interject('interrupted: stopping (Ctrl-C again to stop at once)'),
  );
  try {
    // A folder held by a server is ingested through it, so its pipeline takes the results in.
    const server =
      flags.aws || flags.endpoint || flags.memory
        ? undefined
        : dataDirHolder(storeDir(flags.dataDir))?.api;
    // The deployed table with its archive: appends to an expired stream are answered from it
    // (a repeat, or refused), as the deployed functions' store answers them.
    const archive =
      flags.aws && flags.bucket !== undefined ? new S3Storage(s3Client(), flags.bucket) : undefined;
    opened = server
      ? undefined
      : await openEventStore({
          ...storeTarget(flags, flags.concurrency * 2),
          ...(archive ? { archive } : {}),
        });
    // A bucket that is not there is said once, before a row is stored: each row's append
    // would otherwise fail on it and be rejected with S3's bare words.
    await archive?.requireBucket({ output: 'ArchiveBucket', flag: '--bucket' });
    description = opened?.description ?? `the server holding ${flags.dataDir} (${server})`;
    const phase = phases.begin(`ingesting ${basename(file)}`, ROWS_STORED);
    const rows = rowsStored(file, phase);
    const neutral = neutralValues(flags);
    const read = streamGames(file, {
      ...(neutral ? { neutral } : {}),
      onUnknownColumn: unknownColumnWarnings(file, (line) => phases.interject(line)),
    });
    // A store without the archive cannot tell an expired season's streams from new ones: the
    // rows of a closed season are refused there, saying where they can go.
    const blind = (flags.aws && flags.bucket === undefined) || flags.endpoint !== undefined;
    const batches = rows.source(
      interrupt.stopping(
        opened && blind
          ? refuseClosedSeasons(
              read,
              opened.store,
              flags.aws
                ? 'give --bucket ARCHIVE_BUCKET (the stack output ArchiveBucket), which holds its expired streams'
                : 'ingest it where the archive is read: a data folder, or --aws --bucket ARCHIVE_BUCKET',
            )
          : read,
      ),
    );
    const onReject = (reject: Reject) => {
      rejected++;
      const line = `${JSON.stringify({ file, ...reject })}\n`;
      if (rejects) rejects.write(line);
      else process.stdout.write(line);
    };
    summary = opened
      ? await ingestGames(batches, {
          store: opened.store,
          concurrency: flags.concurrency,
          onReject,
          onRow: rows.settled,
          // Credentials that expire under a long ingest are refused for every row after.
          ...(flags.aws ? { stopsAll: (error) => awsCredentialsLine(error) !== undefined } : {}),
        }).catch((error: unknown) => {
          if (!(error instanceof IngestStoppedError)) throw error;
          stopped = ingestStopped(error, file);
          return error.summary;
        })
      : await ingestThrough(server ?? '', serverToken(flags.dataDir), batches, {
          onReject,
          onRow: rows.settled,
        }).catch((error: Error) => {
          const failed = new CliError(error.message, EXIT.FAILURE, { cause: error });
          if (!(error instanceof ServerIngestStopped)) throw failed;
          stopped = failed;
          return error.summary;
        });
  } finally {
    interrupt.release();
    phases.close();
    try {
      await rejects?.close();
    } finally {
      await opened?.close();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const report = {
    file,
    store: description,
    ...summary,
    rejects_file: rejected > 0 ? rejectsPath : null,
    seconds: Number(seconds.toFixed(3)),
    rows_per_second: Math.round(summary.read / Math.max(seconds, 0.001)),
    ...(stopped ? { stopped: stopped.message } : {}),
  };
  if (flags.json) {
    await write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (!stopped) {
    // (A stopped store prints no summary without --json: its line is what the command says.)
    // With the rejected rows on standard output, the summary goes beside the errors.
    const print = rejectsToStdout ? async (text: string) => void process.stderr.write(text) : write;
    const counts: [string, number][] = [
      ['read', summary.read],
      ['appended', summary.appended],
      ['unchanged', summary.unchanged],
      ['corrected', summary.corrected],
      ['rejected', summary.rejected],
      ...(summary.failed > 0 ? [['failed', summary.failed] as [string, number]] : []),
      ['teams registered', summary.teams_registered],
      ...(summary.teams_failed > 0
        ? [['teams not stored', summary.teams_failed] as [string, number]]
        : []),
      ['events appended', summary.events_appended],
    ];
    const shown = counts.map(([label, n]) => [label, n.toLocaleString('en-US')] as const);
    const width = Math.max(...shown.map(([, n]) => n.length));
    await print(
      [
        `ingested ${file} into ${description} in ${report.seconds} s (${report.rows_per_second.toLocaleString('en-US')} rows/s)`,
        ...shown.map(([label, n]) => `  ${label.padEnd(17)}${n.padStart(width)}`),
        ...(rejected > 0 ? [`  bad rows: ${rejectsAt}`] : []),
        '',
      ].join('\n'),
    );
  }
  if (stopped) throw stopped;
  interrupt.check();
  if (summary.failed > 0 || summary.teams_failed > 0) {
    // A team's registration is reported on the row naming it, but is no row of its own.
    const what = [
      ...(summary.failed > 0 ? [`${counted(summary.failed, 'row')} could not be stored`] : []),
      ...(summary.teams_failed > 0
        ? [
            summary.failed > 0
              ? `nor ${counted(summary.teams_failed, 'team')} registered`
              : `${counted(summary.teams_failed, 'team')} could not be registered`,
          ]
        : []),
    ];
    throw new CliError(`${what.join(', ')}; see ${rejectsAt}`, EXIT.FAILURE);
  }
  if (summary.rejected > 0) {
    throw new CliError(
      `${counted(summary.rejected, 'row')} rejected; see ${rejectsAt}`,
      EXIT.INVALID_INPUT,
    );
  }
}
