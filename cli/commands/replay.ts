import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { Projector } from '../../projections/Projector.js';
import { REGISTRY_TABLE, ReadModelRegistry } from '../../projections/ReadModelRegistry.js';
import { ReadModelTarget } from '../../projections/ReadModelTarget.js';
import { DOMAINS, type Domain } from '../../stream/buses/domains.js';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { BusTarget } from '../../stream/replay/BusTarget.js';
import { FileTarget } from '../../stream/replay/FileTarget.js';
import { DynamoReplayCheckpoints } from '../../stream/replay/ReplayCheckpoints.js';
import { type ReplaySummary, type ReplayTarget, replay } from '../../stream/replay/replay.js';
import { CliError, EXIT } from '../exitCodes.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { wholeNumber } from '../options.js';
import { counted } from '../output/plural.js';
import { fileProgress } from '../progress.js';
import { StdoutTarget } from '../stdoutTarget.js';
import { addStoreOptions, type StoreFlags, storeTarget } from '../storeOptions.js';
import { write } from '../write.js';

/** Where `--to` sends the events. */
type TargetSpec =
  | { readonly kind: 'read-model'; readonly name: string }
  | { readonly kind: 'bus'; readonly domains?: readonly Domain[] }
  | { readonly kind: 'file'; readonly path: string };

interface ReplayFlags extends StoreFlags {
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
}

function targetSpec(value: string): TargetSpec {
  const [kind, ...rest] = value.split(':');
  const arg = rest.join(':');
  if (kind === 'read-model') {
    if (!READ_MODELS.some((p) => p.name === arg))
      throw new InvalidArgumentError(
        `unknown read model "${arg}"; there are ${READ_MODELS.map((p) => p.name).join(', ')}`,
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

function instant(value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new InvalidArgumentError(
      'expected an ISO-8601 time such as 2026-09-01 or 2026-09-01T12:00:00Z',
    );
  return new Date(t).toISOString();
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
      .option('--since <time>', 'only events at or after this time (ISO-8601)', instant)
      .option('--until <time>', 'only events at or before this time (ISO-8601)', instant)
      .option(
        '--rate <n>',
        'at most n events a second (for bus targets)',
        wholeNumber(1, 1_000_000),
      )
      .option('--segments <n>', 'parallel scan segments', wholeNumber(1, 64), 4)
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
Reads the event store with a parallel segmented scan (or the named streams by key) and sends
what passes the filters to one target:
  read-model:NAME   into the read model's active generation; documents skip what they have
                    seen, so this repairs missing or damaged documents and changes nothing else
                    (to rebuild from scratch, use "matchstream rebuild")
  bus[:DOMAIN,...]  onto the domain buses, each event marked "replayed": true (runs the
                    pipeline so the handlers receive them; they rebuild, they do not react)
  file:PATH         into a JSON Lines file, one envelope a line ("matchstream inspect" reads
                    it); file:- writes them to standard output instead

Progress is checkpointed: an interrupted replay (Ctrl-C, a crash) run again with the same
target and filters continues where it stopped; --restart starts over (as file:- always does).

A stored event that cannot be read (corrupt bytes, a schema this release does not know) does
not stop the replay: it is skipped with the later events of its stream (as the consumers hold
them back), each written to the --unreadable file with why, and the exit code is 3.

Examples:
  matchstream replay --to file:events.jsonl --type MatchRecorded --since 2026-09-01
  matchstream replay --to file:- --aggregate match:2026-00042 | jq .data
  matchstream replay --to read-model:standings --aggregate match:2026-00042
  matchstream replay --to bus:metadata --rate 500`,
    )
    .action(async (flags: ReplayFlags) => {
      await runReplay(flags);
    });
}

async function runReplay(flags: ReplayFlags): Promise<void> {
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
    flags.name ?? `replay:${JSON.stringify({ to: flags.to, filters, segments: flags.segments })}`;
  const unreadableFile = unreadableToStdout
    ? undefined
    : resolve(flags.unreadable ?? 'unreadable-events.jsonl');
  // A folder is never created to replay what it does not hold.
  if (!flags.memory && !flags.endpoint && !flags.aws) requireDataFolder(flags.dataDir);
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  const progress = fileProgress('replaying', flags.progress && !flags.json, 'events');
  let summary: ReplaySummary & Partial<BusTarget['stats']>;
  try {
    if (flags.to.kind === 'bus') {
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
        summary = { ...result, ...target.stats };
      } finally {
        await pipeline.stop();
      }
    } else {
      if (flags.aws && flags.to.kind !== 'file')
        throw new CliError(
          'with --aws, replay only to a file (--to file:PATH); the deployed read models are fed by the stream',
          EXIT.USAGE,
        );
      const opened = await openEventStore(storeTarget(flags));
      try {
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
        summary = await run(opened.store, opened.client, target);
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
    `${summary.completed ? '' : '; run the same command again to continue'}\n`;
  if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (dataOnStdout) process.stderr.write(line);
  else await write(line);
  if (!summary.completed) throw new CliError('replay interrupted; run it again to continue');
  if (summary.unreadable > 0)
    throw new CliError(
      `${counted(summary.unreadable, 'stored event')} could not be read (or ${summary.unreadable === 1 ? 'follows' : 'follow'} one that cannot in ${summary.unreadable === 1 ? 'its' : 'their'} stream); ${unreadableFile ? `they are in ${unreadableFile}` : 'they went to standard output'}`,
      EXIT.INVALID_INPUT,
    );

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
      onUnreadable: (event) =>
        unreadableFile
          ? appendFile(unreadableFile, `${JSON.stringify(event)}\n`)
          : write(`${JSON.stringify(event)}\n`),
    });
  }
}
