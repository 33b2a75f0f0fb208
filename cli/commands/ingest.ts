import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { streamGames } from '../../feeds/readGames.js';
import { type IngestSummary, ingestGames, type Reject } from '../../ingest/ingestGames.js';
import { dataDirHolder } from '../../stream/local/dataDirLock.js';
import { openEventStore, storeDir } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import { ROWS_STORED, rowsStored } from '../ingestProgress.js';
import { addNeutralOptions, type NeutralFlags, neutralValues, wholeNumber } from '../options.js';
import { counted } from '../output/plural.js';
import { Phases } from '../phases.js';
import { ingestThrough } from '../remoteIngest.js';
import { serverToken } from '../serveLocal.js';
import { addStoreOptions, type StoreFlags, storeTarget } from '../storeOptions.js';
import { write } from '../write.js';

interface IngestFlags extends StoreFlags, NeutralFlags {
  readonly concurrency: number;
  readonly rejects?: string;
  readonly json?: boolean;
  readonly progress: boolean;
}

export function registerIngest(program: Command): void {
  addStoreOptions(
    addNeutralOptions(program.command('ingest'))
      .description('append a games feed to the event store (new matches, corrections, new teams)')
      .argument('<file>', 'games feed: CSV with header or JSON Lines ("-" for stdin), as for "rpi"')
      .option('--concurrency <n>', 'appends in flight at once', wholeNumber(1, 256), 16)
      .option(
        '--rejects <file>',
        'where bad rows go, one JSON object a line (default: <file>.rejects.jsonl; "-": standard output)',
      )
      .option('--json', 'print the summary as JSON')
      .option('--no-progress', 'no progress bar, even on a terminal'),
  )
    .addHelpText(
      'after',
      `
On a data folder a server holds (serve, start --serve), the rows go through that server, whose
pipeline takes the results in at once. Each match is its own stream (match:<match_id>). A new match appends MatchRecorded; the same
row again appends nothing; a changed result appends MatchResultCorrected; a team seen for the
first time appends TeamRegistered. Bad rows go to the rejects file with their line and reason;
the good rows all go in.

Exit codes: 0 every row accepted; 3 some rows rejected (see the rejects file); 1 some valid
rows could not be stored (also in the rejects file) or the store failed; 2 bad command line.

Examples:
  matchstream ingest season.csv
  matchstream ingest season.jsonl --memory --json
  matchstream ingest season.csv --endpoint http://127.0.0.1:8000 --concurrency 32`,
    )
    .action(async (file: string, flags: IngestFlags) => {
      await runIngest(file, flags);
    });
}

async function runIngest(file: string, flags: IngestFlags): Promise<void> {
  const started = performance.now();
  const rejectsToStdout = flags.rejects === '-';
  if (rejectsToStdout && flags.json)
    throw new CliError(
      '--json prints the summary on standard output, which carries the rejected rows here: drop --json, or name a file',
      EXIT.USAGE,
    );
  const rejectsPath = flags.rejects ?? (file === '-' ? 'rejects.jsonl' : `${file}.rejects.jsonl`);
  const rejectsAt = rejectsToStdout ? 'standard output' : rejectsPath;
  // The rejects file describes this run only.
  if (!rejectsToStdout) rmSync(rejectsPath, { force: true });
  let rejects: WriteStream | undefined;
  let rejected = 0;
  // A folder held by a server is ingested through it, so its pipeline takes the results in.
  const server =
    flags.aws || flags.endpoint || flags.memory
      ? undefined
      : dataDirHolder(storeDir(flags.dataDir))?.api;
  const opened = server
    ? undefined
    : await openEventStore(storeTarget(flags, flags.concurrency * 2));
  const description = opened?.description ?? `the server holding ${flags.dataDir} (${server})`;
  // A bar on a terminal only: the summary is the command's output.
  const phases = new Phases({ quiet: !flags.progress || flags.json === true, plain: false });
  const phase = phases.begin(`ingesting ${basename(file)}`, ROWS_STORED);
  const rows = rowsStored(file, phase);
  let summary: IngestSummary;
  try {
    const neutral = neutralValues(flags);
    const batches = rows.source(streamGames(file, neutral ? { neutral } : {}));
    const onReject = (reject: Reject) => {
      rejected++;
      const line = `${JSON.stringify({ file, ...reject })}\n`;
      if (rejectsToStdout) process.stdout.write(line);
      else {
        rejects ??= createWriteStream(rejectsPath);
        rejects.write(line);
      }
    };
    summary = opened
      ? await ingestGames(batches, {
          store: opened.store,
          concurrency: flags.concurrency,
          onReject,
          onRow: rows.settled,
        })
      : await ingestThrough(server ?? '', serverToken(flags.dataDir), batches, {
          onReject,
          onRow: rows.settled,
        }).catch((error: Error) => {
          throw new CliError(error.message, EXIT.FAILURE, { cause: error });
        });
  } finally {
    phases.close();
    if (rejects) await new Promise<void>((resolve) => (rejects as WriteStream).end(resolve));
    await opened?.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const report = {
    file,
    store: description,
    ...summary,
    rejects_file: rejected > 0 ? rejectsPath : null,
    seconds: Number(seconds.toFixed(3)),
    rows_per_second: Math.round(summary.read / Math.max(seconds, 0.001)),
  };
  if (flags.json) {
    await write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    // With the rejected rows on standard output, the summary goes beside the errors.
    const print = rejectsToStdout ? async (text: string) => void process.stderr.write(text) : write;
    await print(
      [
        `ingested ${file} into ${description} in ${report.seconds} s (${report.rows_per_second} rows/s)`,
        `  read       ${summary.read}`,
        `  appended   ${summary.appended}`,
        `  unchanged  ${summary.unchanged}`,
        `  corrected  ${summary.corrected}`,
        `  rejected   ${summary.rejected}`,
        ...(summary.failed > 0 ? [`  failed     ${summary.failed}`] : []),
        `  teams registered ${summary.teams_registered}, events appended ${summary.events_appended}`,
        ...(rejected > 0 ? [`  bad rows: ${rejectsAt}`] : []),
        '',
      ].join('\n'),
    );
  }
  if (summary.failed > 0 || summary.teams_failed > 0) {
    throw new CliError(
      `${counted(summary.failed + summary.teams_failed, 'row')} could not be stored; see ${rejectsAt}`,
      EXIT.FAILURE,
    );
  }
  if (summary.rejected > 0) {
    throw new CliError(
      `${counted(summary.rejected, 'row')} rejected; see ${rejectsAt}`,
      EXIT.INVALID_INPUT,
    );
  }
}
