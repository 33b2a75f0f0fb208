import { type Command, InvalidArgumentError } from 'commander';
import { deployedRedriver } from '../../pipeline/aws/deployedRedriver.js';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { dryRunWiring, embeddedRedriver, pipelineWiring } from '../../pipeline/embeddedRedriver.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { REGISTRY_TABLE, ReadModelRegistry } from '../../projections/ReadModelRegistry.js';
import type { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { EmbeddedRuntime } from '../../stream/local/EmbeddedRuntime.js';
import { FolderInvocationRecords, failureFolder } from '../../stream/local/failureFolder.js';
import { DEFAULT_DATA_DIR } from '../../stream/local/openEventStore.js';
import {
  describeEvents,
  filterLetters,
  type Letter,
  type LetterFilter,
} from '../../stream/redrive/Letter.js';
import {
  LocalLetterPlaces,
  lettersOf,
  type UnreadableObject,
} from '../../stream/redrive/localLetters.js';
import {
  type LetterPlaces,
  type Redriver,
  type RedriveSummary,
  redriveLetters,
} from '../../stream/redrive/redriveLetters.js';
import {
  addDeployedOptions,
  type DeployedFlags,
  LIST_HOLD_SECONDS,
  onAws,
  REDRIVE_HOLD_SECONDS,
  unreadableLetters,
  withDeployedLetters,
} from '../deployedDeadLetters.js';
import { CliError, EXIT } from '../exitCodes.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { reportError } from '../output/errors.js';
import { counted } from '../output/plural.js';
import { formatTable } from '../output/table.js';
import { fileProgress } from '../progress.js';
import { write } from '../write.js';

interface Flags extends DeployedFlags {
  readonly dataDir: string;
  readonly json?: boolean;
  readonly consumer?: string;
  readonly since?: string;
}

interface RedriveFlags extends Flags {
  readonly ids?: string[];
  readonly dryRun?: boolean;
  readonly progress: boolean;
}

/** The letters of where the flags point, and the objects there that are not letters. */
interface Found {
  readonly letters: Letter[];
  readonly unreadable: readonly UnreadableObject[];
}

export function registerDeadLetters(program: Command): void {
  const group = program
    .command('dead-letters')
    .description('list, show and send back what the consumers and handlers gave up on')
    .addHelpText(
      'after',
      `
One view over every place failures land: on a data folder, the dead-letter table (the stream
consumers' letters, the bus targets' bus:<bus>/<rule>, the publishes' publish:<bus>, the
rebuilds' rebuild:<read model>) and failures/ (the invocation records of the consumers'
on-failure destination). A failure kept in both is one letter. Each letter has an id (12 hex
digits) that "show" and "redrive --ids" take.

With --aws, the deployed stack's places, as its output DeadLetterSources names them (--stack,
or --sources FILE): the on-failure bucket (the consumers' invocation records), the dead-letter
table (the bus router's publish:<bus>, the rebuilds' rebuild:<read model>), each bus handler's
dead-letter queue (bus:<rule>: the events its rule could not deliver or its function gave up
on), and the saga sweep's queue (listed, never redriven). A queue's messages are read without
being taken: hidden from other readers while the command runs, then visible again.

Examples:
  matchstream dead-letters list
  matchstream dead-letters list --consumer read-models --since 2026-09-01T00:00:00Z --json
  matchstream dead-letters show 3f1c0a9b2d4e
  matchstream dead-letters redrive --dry-run
  matchstream dead-letters redrive --consumer bus-router
  matchstream dead-letters list --aws --stack matchstream-prod
  matchstream dead-letters redrive --aws --stack matchstream-prod --dry-run`,
    );

  common(
    group
      .command('list')
      .description('every dead letter: id, when, who gave up, attempts, its events, why'),
  ).action(async (flags: Flags) => {
    if (onAws(flags)) {
      await withDeployedLetters(flags, LIST_HOLD_SECONDS, async (found) => {
        await printList(filterLetters(found.letters, filterOf(flags)), flags);
        unreadableLetters(found);
      });
      return;
    }
    const found = await localLetters(flags);
    await printList(filterLetters(found.letters, filterOf(flags)), flags);
    unreadableObjects(found.unreadable);
  });

  addDeployedOptions(
    group
      .command('show')
      .description('one dead letter, whole: where it is kept, its events, what it holds')
      .argument('<id>', 'the letter id, as "list" prints it')
      .option('--data-dir <dir>', 'the pipeline state to look at', DEFAULT_DATA_DIR)
      .option('--json', 'print it as one JSON object'),
  ).action(async (id: string, flags: Flags) => {
    if (onAws(flags)) {
      await withDeployedLetters(flags, LIST_HOLD_SECONDS, (found) =>
        printLetter(
          found.letters,
          id,
          flags,
          flags.stack !== undefined ? `the stack ${flags.stack}` : `the places of ${flags.sources}`,
        ),
      );
      return;
    }
    await printLetter((await localLetters(flags)).letters, id, flags, flags.dataDir);
  });

  common(
    group
      .command('redrive')
      .description(
        'send letters back: their events, read from the store, through the code that failed',
      )
      .option('--ids <id...>', 'only these letters (ids as "list" prints them)')
      .option('--dry-run', 'say what would be done, and change nothing')
      .option('--no-progress', 'no progress bar, even on a terminal'),
  )
    .addHelpText(
      'after',
      `
Each letter's events are read from the event store (never from the letter) and applied through
the consumer or handler that gave up on them: a stream consumer's own sequencer and positions,
so what it applied meanwhile is not applied again; a bus target's handler, with the bus event's
id kept; the bus publisher for a publish. What goes through is removed from every place it is
kept; what fails again is kept with the new reason and one more attempt; a letter whose events
were applied meanwhile is removed and counted skipped; one that cannot be redriven (no such
consumer runs, no rebuilt generation is live) is kept and counted skipped, with why.
Redriving again applies nothing twice.

The summary has "redriven", "still_failing" and "skipped" (each a list, with --json), and
"dry_run". Exit code 0 when no letter taken is left, 3 when some are kept (failing again, or
not redrivable), 1 when the redrive itself failed. The data folder must not be in use by
another process (stop "serve" first).

With --aws, each letter goes through the code its function runs, built from that function's
own configuration (its environment, read with Lambda's GetFunctionConfiguration): a consumer's
invocation record through the consumer, a bus handler's queued event through the handler, a
publish through the bus router's publisher. What goes through is deleted (the object, the
table's letter, the queue's message); an object or a table's letter that fails again is
rewritten with the new reason; a queue's message that fails again is left as it is, visible
again at once. The saga sweep's letters are skipped: its next run does their work.`,
    )
    .action(async (flags: RedriveFlags) => {
      const summary = onAws(flags) ? await redriveOnAws(flags) : await redriveLocal(flags);
      await report(summary, flags);
    });
}

/** The options list and redrive share. */
function common(command: Command): Command {
  return addDeployedOptions(command)
    .option('--data-dir <dir>', 'the pipeline state to work on', DEFAULT_DATA_DIR)
    .option('--consumer <name>', 'only the letters of this consumer (as "list" names it)')
    .option(
      '--since <time>',
      'only letters that failed at or after this time (ISO 8601, e.g. 2026-09-01 or 2026-09-01T12:00:00Z)',
      isoTime,
    )
    .option('--json', 'print JSON');
}

/** The letters as `list` prints them: a table, or JSON. */
async function printList(letters: readonly Letter[], flags: Pick<Flags, 'json'>): Promise<void> {
  if (flags.json) await write(`${JSON.stringify(letters.map(listed), null, 2)}\n`);
  else if (letters.length === 0) await write('no dead letters\n');
  else
    await write(
      `${[
        ...formatTable([
          ['ID', 'FAILED AT', 'CONSUMER', 'ATTEMPTS', 'EVENTS', 'ERROR'],
          ...letters.map((l) => [
            l.id,
            l.failed_at,
            l.consumer,
            String(l.attempts),
            describeEvents(l),
            oneLine(l.error, 100),
          ]),
        ]),
        counted(letters.length, 'dead letter'),
      ].join('\n')}\n`,
    );
}

/** One letter whole, as `show` prints it; `where` names the letters' home when it is missing. */
async function printLetter(
  letters: readonly Letter[],
  id: string,
  flags: Pick<Flags, 'json'>,
  where: string,
): Promise<void> {
  const letter = letters.find((l) => l.id === id);
  if (!letter)
    throw new CliError(
      `no dead letter ${id} in ${where} (redriven, expired, or never there; "matchstream dead-letters list" lists them)`,
    );
  if (flags.json) {
    await write(`${JSON.stringify({ ...listed(letter), body: letter.body }, null, 2)}\n`);
    return;
  }
  await write(
    `${[
      `id: ${letter.id}`,
      `consumer: ${letter.consumer}`,
      `kind: ${letter.kind}`,
      `failed at: ${letter.failed_at}`,
      `attempts: ${letter.attempts}`,
      `error: ${letter.error}`,
      `events: ${describeEvents(letter)}`,
      ...letter.copies.map((c) => `kept in: ${c.where}`),
      JSON.stringify(letter.body, null, 2),
    ].join('\n')}\n`,
  );
}

/** `--since`: an ISO 8601 date or time. */
function isoTime(value: string): string {
  const trimmed = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed))
    throw new InvalidArgumentError(
      'expected an ISO 8601 date or time, such as 2026-09-01T12:00:00Z',
    );
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) throw new InvalidArgumentError('expected a date or time that exists');
  return new Date(at).toISOString();
}

function filterOf(flags: Flags & { ids?: string[] }): LetterFilter {
  return {
    ...(flags.consumer !== undefined ? { consumer: flags.consumer } : {}),
    ...(flags.since !== undefined ? { since: flags.since } : {}),
    ...(flags.ids !== undefined ? { ids: flags.ids } : {}),
  };
}

/** A letter as `list --json` prints it. */
function listed(letter: Letter) {
  return {
    id: letter.id,
    consumer: letter.consumer,
    kind: letter.kind,
    failed_at: letter.failed_at,
    attempts: letter.attempts,
    error: letter.error,
    events: letter.events,
    ...(letter.unknown ? { events_unknown: letter.unknown } : {}),
    kept_in: letter.copies.map((c) => ({ place: c.place, where: c.where })),
  };
}

/**
 * The letters of a data folder: its dead-letter table (through the server holding the folder,
 * when one does) and its failures/ folder.
 */
async function localLetters(flags: Pick<Flags, 'dataDir'>): Promise<Found> {
  requireDataFolder(flags.dataDir);
  const stored = await withDataFolder(flags.dataDir, (reader) => reader.deadLetters());
  const folder = failureFolder(flags.dataDir);
  return lettersOf(stored, await new FolderInvocationRecords(folder).list(), folder);
}

/** Objects of failures/ that are not invocation records: one line each, then exit code 3. */
function unreadableObjects(unreadable: readonly UnreadableObject[]): void {
  for (const u of unreadable) reportError(`${u.where}: ${u.error}`);
  if (unreadable.length > 0)
    throw new CliError(
      `${counted(unreadable.length, 'object')} in failures/ could not be read`,
      EXIT.INVALID_INPUT,
    );
}

/** Ids that name no letter: refused before anything is done. */
function checkIds(letters: readonly Letter[], ids: readonly string[] | undefined): void {
  const missing = (ids ?? []).filter((id) => !letters.some((l) => l.id === id));
  if (missing.length > 0)
    throw new CliError(
      `no dead letter ${missing.join(', ')} ("matchstream dead-letters list" lists them); nothing was redriven`,
    );
}

/**
 * A redrive on a data folder: the pipeline is started on it (its consumers catch up first, so
 * the letters are those of everything stored), the letters are redriven through it, and it is
 * let settle before it stops, so what the redrive set off (bus deliveries, sagas) is done.
 * A dry run starts no consumer: it reads the letters, positions and events, and applies nothing.
 */
async function redriveLocal(flags: RedriveFlags): Promise<RedriveSummary> {
  requireDataFolder(flags.dataDir);
  const folder = {
    records: new FolderInvocationRecords(failureFolder(flags.dataDir)),
    path: failureFolder(flags.dataDir),
  };
  const progress = fileProgress('redriving', flags.progress && !flags.json, 'letters');
  const run = async (
    table: DynamoDeadLetterQueue,
    redriver: Redriver,
    places: LetterPlaces,
  ): Promise<RedriveSummary> => {
    const found = lettersOf(await table.entries(), await folder.records.list(), folder.path);
    for (const u of found.unreadable) reportError(`${u.where}: ${u.error}`);
    checkIds(found.letters, flags.ids);
    return redriveLetters(filterLetters(found.letters, filterOf(flags)), {
      redriver,
      places,
      dryRun: flags.dryRun === true,
      onProgress: (done, total) => progress.update(done, total, done),
    });
  };
  try {
    if (flags.dryRun) {
      const runtime = await EmbeddedRuntime.start({ dataDir: flags.dataDir, relay: false });
      try {
        const registry = new ReadModelRegistry(
          await DynamoDocumentStore.open(runtime.dynamo, REGISTRY_TABLE),
        );
        const refuse = async () => {
          throw new Error('a dry run changes nothing');
        };
        return await run(runtime.deadLetters, embeddedRedriver(dryRunWiring(runtime, registry)), {
          remove: refuse,
          failedAgain: refuse,
        });
      } finally {
        await runtime.stop();
      }
    }
    const pipeline = await startPipeline({ dataDir: flags.dataDir });
    try {
      await pipeline.runtime.settle();
      const summary = await run(
        pipeline.runtime.deadLetters,
        embeddedRedriver(pipelineWiring(pipeline)),
        new LocalLetterPlaces({ table: pipeline.runtime.deadLetters, folder }),
      );
      await pipeline.runtime.settle();
      return summary;
    } finally {
      await pipeline.stop();
    }
  } finally {
    progress.stop();
  }
}

/**
 * A redrive of the deployed stack's letters: read from every place (the queues' messages held
 * meanwhile), applied through the code the functions run, each built from its function's
 * configuration; what goes through is removed, a queue's other messages let go of after.
 */
async function redriveOnAws(flags: RedriveFlags): Promise<RedriveSummary> {
  const progress = fileProgress('redriving', flags.progress && !flags.json, 'letters');
  try {
    return await withDeployedLetters(
      flags,
      REDRIVE_HOLD_SECONDS,
      async (found, sources, clients) => {
        for (const u of found.unreadable) reportError(`${u.where}: ${u.error} (letter ${u.id})`);
        checkIds(found.letters, flags.ids);
        const refuse = async () => {
          throw new Error('a dry run changes nothing');
        };
        return redriveLetters(filterLetters(found.letters, filterOf(flags)), {
          redriver: deployedRedriver(sources, clients),
          places: flags.dryRun ? { remove: refuse, failedAgain: refuse } : found.places,
          dryRun: flags.dryRun === true,
          onProgress: (done, total) => progress.update(done, total, done),
        });
      },
    );
  } finally {
    progress.stop();
  }
}

/** The summary, as JSON or in words; exit code 3 when letters taken are kept. */
async function report(summary: RedriveSummary, flags: Pick<RedriveFlags, 'json'>): Promise<void> {
  if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const would = summary.dry_run ? 'would be ' : '';
    const lines = [
      `${summary.dry_run ? 'dry run: ' : ''}${counted(summary.letters, 'dead letter')} taken: ${summary.redriven.length} ${would}redriven, ${summary.still_failing.length} still failing, ${summary.skipped.length} skipped`,
      ...summary.redriven.map(
        (r) =>
          `  ${would ? 'would redrive' : 'redriven'} ${r.id} (${r.consumer}): ${counted(r.events, 'event')} ${would ? 'to apply' : 'applied'} through ${r.through}`,
      ),
      ...summary.still_failing.map(
        (f) =>
          `  still failing ${f.id} (${f.consumer}, attempt ${f.attempts}): ${oneLine(f.error, 200)}`,
      ),
      ...summary.skipped.map(
        (s) => `  skipped ${s.id} (${s.consumer}): ${s.why}${s.removed ? '; removed' : ''}`,
      ),
    ];
    await write(`${lines.join('\n')}\n`);
  }
  const kept = summary.still_failing.length + summary.skipped.filter((s) => !s.removed).length;
  if (kept > 0 && !summary.dry_run)
    throw new CliError(
      `${counted(kept, 'dead letter')} kept: ${summary.still_failing.length} still failing, ${kept - summary.still_failing.length} not redrivable`,
      EXIT.INVALID_INPUT,
    );
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
