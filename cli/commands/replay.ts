import { type Command, InvalidArgumentError, Option } from 'commander';
import { READ_MODEL_NAMES } from '../../pipeline/readModelNames.js';
import { DOMAINS, type Domain } from '../../stream/buses/domains.js';
import type { ReplayFlags, TargetSpec } from '../actions/replay.js';
import { isoInstant, wholeNumber } from '../options.js';
import { addStoreOptions } from '../storeOptions.js';
import { bucketName } from './archive.js';

function targetSpec(value: string): TargetSpec {
  const [kind, ...rest] = value.split(':');
  const arg = rest.join(':');
  if (kind === 'read-model') {
    if (!(READ_MODEL_NAMES as readonly string[]).includes(arg))
      throw new InvalidArgumentError(
        `unknown read model "${arg}"; there are ${READ_MODEL_NAMES.join(', ')}`,
      );
    return { kind, name: arg };
  }
  if (kind === 'bus') {
    if (arg === '') return { kind };
    const domains = arg.split(',');
    const bad = domains.find((d) => !(DOMAINS as readonly string[]).includes(d));
    if (bad)
      throw new InvalidArgumentError(`unknown bus "${bad}"; there are ${DOMAINS.join(', ')}`);
    return { kind, domains: domains as Domain[] };
  }
  if (kind === 'file' && arg !== '') return { kind, path: arg };
  throw new InvalidArgumentError('expected read-model:NAME, bus[:DOMAIN,...] or file:PATH');
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerReplay(program: Command): void {
  addStoreOptions(
    program
      .command('replay')
      .description('send stored events again to a read model, the buses or a file')
      .requiredOption(
        '--to <target>',
        'read-model:NAME (its active generation), bus[:DOMAIN,...] or file:PATH (JSON Lines; file:- standard output)',
        targetSpec,
      )
      .option('--aggregate <id>', 'only this stream (repeatable; read by key, no scan)', collect)
      .option('--type <event-type>', 'only this event type (repeatable)', collect)
      .option(
        '--since <time>',
        'only events at or after this time (ISO 8601, UTC unless it gives its offset)',
        isoInstant,
      )
      .option(
        '--until <time>',
        'only events at or before this time (ISO 8601, UTC unless it gives its offset)',
        isoInstant,
      )
      .option(
        '--rate <n>',
        'at most n events a second (for bus targets)',
        wholeNumber(1, 1_000_000),
      )
      .addOption(
        new Option(
          '--source <source>',
          'read the store through the archive, or scan the table (default: archive for file targets of a data folder or --aws without --aggregate, else scan)',
        ).choices(['archive', 'scan']),
      )
      .option(
        '--bucket <name>',
        'with --aws (required): the archive bucket (stack output ArchiveBucket), read through its exports, or by a scan for the streams of seasons expired from the table',
        bucketName,
      )
      .option(
        '--kms-key <arn>',
        'with --aws and the archive: the KMS key an export to bring the archive up to date is encrypted with (stack output ArchiveKey)',
      )
      .option(
        '--segments <n>',
        'parallel scan segments (through the local archive: data files of an export it makes)',
        wholeNumber(1, 64),
        4,
      )
      .option('--name <name>', 'checkpoint name (default: from the target and filters)')
      .option('--restart', 'ignore the checkpoint of an interrupted run and start over')
      .option(
        '--unreadable <file>',
        'where stored events that cannot be read are appended (JSON Lines; "-": standard output)',
        'unreadable-events.jsonl',
      )
      .option('--json', 'print the summary as JSON')
      .option('--no-progress', 'no progress bar, even on a terminal'),
  )
    .addHelpText(
      'after',
      `
Reads the event store and sends what passes the filters to one target. A file target reads
the store through the archive by default (--source archive): the archive's export chain is
brought up to date as "rebuild" does (a full export when there is none, an incremental one
when its end is more than 15 minutes old), every data file of the chain is read (four at a
time) and each commit written once, even when two exports hold it. Locally, the commits after
the chain's end come from the table, so the file holds every event up to now. With --aws
(and --bucket), DynamoDB's own export brings the bucket's chain up to date without using the
table's capacity, and the replay ends at the chain's end ("up_to" in the summary, at most
about 20 minutes old): events committed after it are not in the file. --source scan reads
the table with a parallel segmented scan instead, as do read-model and bus targets (they
refuse --source archive), --memory and --endpoint (which have no archive), and --aggregate
(the named streams read by key) unless --source archive is given. A scan reads the streams
of the seasons expired from the table in the archive (with --aws, the bucket --bucket names).

Targets:
  read-model:NAME   into the read model's active generation; documents skip what they have
                    seen, so this repairs missing or damaged documents and changes nothing else
                    (to rebuild from scratch, use "matchstream rebuild")
  bus[:DOMAIN,...]  onto the domain buses, each event marked "replayed": true (runs the
                    pipeline so the handlers receive them; they rebuild, they do not react)
  file:PATH         into a JSON Lines file, one envelope a line ("matchstream inspect" reads
                    it); file:- writes them to standard output instead

Progress is checkpointed: an interrupted replay (Ctrl-C, a crash) run again with the same
target and filters continues where it stopped; --restart starts over (as file:- always does).
Through the archive, each data file is written whole once read through, and checkpointed: a
resumed replay reads the same exports, cuts the file back to the files it had written, and
writes the others.

A stored event that cannot be read (corrupt bytes, a schema this release does not know) does
not stop the replay: it is skipped with the later events of its stream (as the consumers hold
them back), each written to the --unreadable file with why, and the exit code is 3.

Examples:
  matchstream replay --to file:events.jsonl --type MatchRecorded --since 2026-09-01
  matchstream replay --to file:events.jsonl --aws --table <EventsTable> --bucket <ArchiveBucket>
  matchstream replay --to file:events.jsonl --source scan
  matchstream replay --to file:- --aggregate match:2026-00042 | jq .data
  matchstream replay --to read-model:standings --aggregate match:2026-00042
  matchstream replay --to bus:metadata --rate 500`,
    )
    .action(async (flags: ReplayFlags, command: Command) => {
      const { runReplay } = await import('../actions/replay.js');
      await runReplay(flags, command);
    });
}
