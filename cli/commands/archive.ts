import { type Command, InvalidArgumentError } from 'commander';
import type { ArchiveFlags, CloseFlags, ExpireFlags, ExportFlags } from '../actions/archive.js';
import { seasonLabel, wholeNumber } from '../options.js';
import { addStoreOptions } from '../storeOptions.js';

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
the cheap, durable copy that rebuilds read from. With --aws, --bucket names the bucket (the
stack output ArchiveBucket).

Commands:
  archive export [--incremental]   export the table (full, or the commits since the last export)
  archive list                     the exports: time, type, items, files, size
  archive close-season SEASON      record that a season takes no more results (SeasonClosed)
  archive expire --season SEASON   opt-in: delete a closed season's streams from the table,
                                   the archive keeping them (by default nothing expires)`,
    );

  addStoreOptions(
    archive
      .command('export')
      .description('export the events table into the archive, then verify it against its manifest')
      .option(
        '--incremental',
        'only the commits since the newest export (a full export must exist)',
      )
      .option(
        '--segments <n>',
        'parallel scan segments of the local export: one data file each',
        wholeNumber(1, 64),
        4,
      )
      .option(
        '--bucket <name>',
        'with --aws: the archive bucket (stack output ArchiveBucket)',
        bucketName,
      )
      .option(
        '--kms-key <arn>',
        "with --aws: encrypt the export with this KMS key (stack output ArchiveKey); else the bucket's default encryption",
      )
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

With --aws, DynamoDB exports the deployed table itself (ExportTableToPointInTime; point-in-time
recovery must be on) into the bucket, and the command waits for it (minutes, for a large
table), then verifies it the same way. An incremental export covers the changes after the
newest export in the bucket up to now (taken to 5 minutes): DynamoDB takes 15 minutes to 24
hours; older than that, take a full export. The same command run again within those 5
minutes follows the export it started rather than starting a second one.

Examples:
  matchstream archive export
  matchstream archive export --incremental --json
  matchstream archive export --aws --table <EventsTable> --bucket <ArchiveBucket> --kms-key <ArchiveKey>
  matchstream archive export --aws --incremental --table <EventsTable> --bucket <ArchiveBucket>`,
    )
    .action(async (flags: ExportFlags, command: Command) => {
      const { runArchiveExport } = await import('../actions/archive.js');
      await runArchiveExport(flags, command);
    });

  addStoreOptions(
    archive
      .command('close-season')
      .description('record that a season is closed: it takes no more results (event SeasonClosed)')
      .argument('<season>', 'the season label, as the feeds write it (e.g. 2025)', seasonLabel)
      .option('--reason <text>', 'why, for people')
      .option('--json', 'print the SeasonClosed event data as JSON'),
  )
    .addHelpText(
      'after',
      `
Appends SeasonClosed to the stream season:<SEASON>, once: closing a closed season again
changes nothing and says when it was closed. A season the store holds no event of (no match,
no RPI calculation naming it) is refused, exit 1: nothing is closed. Closing expires nothing:
the season's events stay in the table until "matchstream archive expire --season SEASON",
which only a closed season allows.

Examples:
  matchstream archive close-season 2025 --reason "final RPI published"
  matchstream archive close-season 2025 --aws --table <EventsTable>`,
    )
    .action(async (season: string, flags: CloseFlags, command: Command) => {
      const { runArchiveCloseSeason } = await import('../actions/archive.js');
      await runArchiveCloseSeason(season, flags, command);
    });

  addStoreOptions(
    archive
      .command('expire')
      .description(
        "opt-in: delete a closed season's streams from the events table once a verified export holds them",
      )
      .requiredOption('--season <season>', 'the closed season to expire', seasonLabel)
      .option(
        '--bucket <name>',
        'with --aws: the archive bucket (stack output ArchiveBucket)',
        bucketName,
      )
      .option('--json', 'print the summary as JSON')
      .option('--no-progress', 'no progress on standard error, even on a terminal'),
  )
    .addHelpText(
      'after',
      `
By default nothing expires: the table keeps every event, and the archive is a copy. This
command is how an operator opts in, one closed season at a time. It:
  1. refuses unless the season is closed (archive close-season);
  2. reads back and verifies the archive's export chain (the newest full export and the
     incremental ones after it), finds the streams wholly in the season (match and RPI
     calculation streams whose every event names it; team, saga and season streams are never
     expired) and refuses unless the chain holds every one of their commits as the table does
     (else: "matchstream archive export --incremental", then again);
  3. writes the season's index into the archive (seasons/<SEASON>/index.json: each stream's
     commits and the data files holding them), waits ${'6'} s for running readers to see it,
     then deletes the commits from the table, oldest first, retrying what fails;
  4. writes seasons/<SEASON>/expired.json when no indexed commit is left in the table.
Interrupted (Ctrl-C, a crash, a delete that keeps failing), it is safe: readers see every
stream whole throughout, and the same command run again finishes the job. Commits that stay
(a delete still failing, a commit appended after the index) are listed and exit 1.

Afterwards every reader (replay, rebuild, the consumers' and the saga's reads of a stream)
reads the season's streams from the archive; appends to them are refused. The exports the
index names must be kept (a lifecycle to Glacier Instant Retrieval keeps them readable).

Examples:
  matchstream archive export --incremental && matchstream archive expire --season 2025
  matchstream archive expire --season 2025 --aws --table <EventsTable> --bucket <ArchiveBucket>`,
    )
    .action(async (flags: ExpireFlags, command: Command) => {
      const { runArchiveExpire } = await import('../actions/archive.js');
      await runArchiveExpire(flags, command);
    });

  addStoreOptions(
    archive
      .command('list')
      .description('the archive’s exports, oldest first: time, type, items, files, size')
      .option(
        '--bucket <name>',
        'with --aws: the archive bucket (stack output ArchiveBucket)',
        bucketName,
      )
      .option('--json', 'print the exports as JSON'),
  ).action(async (flags: ArchiveFlags, command: Command) => {
    const { runArchiveList } = await import('../actions/archive.js');
    await runArchiveList(flags, command);
  });
}

/** A bucket name as S3 has them (not an `s3://` URL, not an ARN). */
export function bucketName(value: string): string {
  if (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)) return value;
  throw new InvalidArgumentError(
    'expected a bucket name such as matchstream-prod-archive (the stack output ArchiveBucket), not a URL or an ARN',
  );
}
