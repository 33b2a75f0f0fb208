import type { Command } from 'commander';
import type { IngestFlags } from '../actions/ingest.js';
import { addNeutralOptions, inputFile, wholeNumber } from '../options.js';
import { addStoreOptions } from '../storeOptions.js';
import { bucketName } from './archive.js';

export function registerIngest(program: Command): void {
  addStoreOptions(
    addNeutralOptions(program.command('ingest'))
      .description('append a games feed to the event store (new matches, corrections, new teams)')
      .argument(
        '<file>',
        'games feed: CSV with header or JSON Lines ("-" for stdin), as for "rpi"',
        inputFile,
      )
      .option('--concurrency <n>', 'appends in flight at once', wholeNumber(1, 256), 16)
      .option(
        '--rejects <file>',
        'where bad rows go, one JSON object a line (default: <file>.rejects.jsonl; "-": standard output)',
      )
      .option(
        '--bucket <name>',
        'with --aws: the archive bucket (stack output ArchiveBucket), where the seasons expired from the table are read: a row of such a season then counts as unchanged, or is refused when it changes the result; without it, the rows of every closed season are refused (exit 3), since the table alone cannot tell whether they were expired',
        bucketName,
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

Exit codes: 0 every row accepted; 3 some rows rejected (see the rejects file): invalid, or
changing a match of a closed season expired from the table; 1 some valid rows could not be
stored (also in the rejects file) or the store failed; 2 bad command line.

Examples:
  matchstream ingest season.csv
  matchstream ingest season.jsonl --memory --json
  matchstream ingest season.csv --endpoint http://127.0.0.1:8000 --concurrency 32
  matchstream ingest season.csv --aws --table EVENTS_TABLE --bucket ARCHIVE_BUCKET`,
    )
    .action(async (file: string, flags: IngestFlags, command: Command) => {
      const { runIngest } = await import('../actions/ingest.js');
      await runIngest(file, flags, command);
    });
}
