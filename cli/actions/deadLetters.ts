import { deployedRedriver } from '../../pipeline/aws/deployedRedriver.js';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { dryRunWiring, embeddedRedriver, pipelineWiring } from '../../pipeline/embeddedRedriver.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { REGISTRY_TABLE, ReadModelRegistry } from '../../projections/ReadModelRegistry.js';
import type { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { mappingOfRecordKey } from '../../stream/consumer/invocationRecord.js';
import { EmbeddedRuntime } from '../../stream/local/EmbeddedRuntime.js';
import { localMappingUuid } from '../../stream/local/EventSourceMapping.js';
import { FolderInvocationRecords, failureFolder } from '../../stream/local/failureFolder.js';
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
  LIST_HOLD_SECONDS,
  REDRIVE_HOLD_SECONDS,
  unreadableLetters,
  withDeployedLetters,
} from '../deployedDeadLetters.js';
import { type DeployedFlags, onAws } from '../deployedOptions.js';
import { CliError, EXIT } from '../exitCodes.js';
import { checkConsumerName, isConsumerName } from '../folder/consumerNames.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { reportError } from '../output/errors.js';
import { counted } from '../output/plural.js';
import { formatTable } from '../output/table.js';
import { fileProgress } from '../progress.js';
import { write } from '../write.js';

export interface DeadLetterFlags extends DeployedFlags {
  readonly dataDir: string;
  readonly json?: boolean;
  readonly consumer?: string;
  readonly since?: string;
}

export interface RedriveFlags extends DeadLetterFlags {
  readonly ids?: string[];
  readonly dryRun?: boolean;
  readonly progress: boolean;
}

/** The letters of where the flags point, and the objects there that are not letters. */
interface Found {
  readonly letters: Letter[];
  readonly unreadable: readonly UnreadableObject[];
}

/** `dead-letters list`: every dead letter, locally or on the deployed stack. */
export async function runDeadLettersList(flags: DeadLetterFlags): Promise<void> {
  if (onAws(flags)) {
    await withDeployedLetters(flags, LIST_HOLD_SECONDS, async (found, sources) => {
      checkConsumerName(flags.consumer, found.letters, sources);
      await printList(filterLetters(found.letters, filterOf(flags)), flags);
      unreadableLetters(found, flags.consumer);
    });
    return;
  }
  const found = await localLetters(flags);
  checkConsumerName(flags.consumer, found.letters);
  await printList(filterLetters(found.letters, filterOf(flags)), flags);
  unreadableObjects(ofConsumer(found.unreadable, flags.consumer));
}

/** `dead-letters show`: one dead letter, whole. */
export async function runDeadLettersShow(id: string, flags: DeadLetterFlags): Promise<void> {
  if (onAws(flags)) {
    await withDeployedLetters(flags, LIST_HOLD_SECONDS, (found) =>
      printLetter(
        found.letters,
        id,
        flags,
        flags.stack !== undefined ? `the stack ${flags.stack}` : `the places of ${flags.sources}`,
        listCommand(flags),
      ),
    );
    return;
  }
  await printLetter(
    (await localLetters(flags)).letters,
    id,
    flags,
    flags.dataDir,
    listCommand(flags),
  );
}

/**
 * What a redrive did, and the line summing up the objects of failures/ that are no letter it
 * could read, if any: those are kept too, never redriven.
 */
interface Redriven {
  readonly summary: RedriveSummary;
  readonly unreadable?: string | undefined;
}

/** `dead-letters redrive`: letters sent back through the code that failed. */
export async function runDeadLettersRedrive(flags: RedriveFlags): Promise<void> {
  const redriven = onAws(flags) ? await redriveOnAws(flags) : await redriveLocal(flags);
  await report(redriven, flags);
}

/** The letters as `list` prints them: a table, or JSON. */
async function printList(
  letters: readonly Letter[],
  flags: Pick<DeadLetterFlags, 'json'>,
): Promise<void> {
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
  flags: Pick<DeadLetterFlags, 'json'>,
  where: string,
  lister: string,
): Promise<void> {
  const letter = letters.find((l) => l.id === id);
  if (!letter)
    throw new CliError(
      `no dead letter ${id} in ${where} (redriven, expired, or never there; "${lister}" lists them)`,
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

function filterOf(flags: DeadLetterFlags & { ids?: string[] }): LetterFilter {
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
async function localLetters(flags: Pick<DeadLetterFlags, 'dataDir'>): Promise<Found> {
  requireDataFolder(flags.dataDir);
  const stored = await withDataFolder(flags.dataDir, (reader) => reader.deadLetters());
  const folder = failureFolder(flags.dataDir);
  return lettersOf(stored, await new FolderInvocationRecords(folder).list(), folder);
}

/**
 * The objects of failures/ that may be `consumer`'s (all without --consumer): those whose key
 * names another consumer's mapping are said in one line, and left to a list of that consumer.
 */
function ofConsumer(
  unreadable: readonly UnreadableObject[],
  consumer: string | undefined,
): readonly UnreadableObject[] {
  if (consumer === undefined) return unreadable;
  const mapping = localMappingUuid(consumer);
  const others = unreadable.filter((u) => {
    const of = mappingOfRecordKey(u.key);
    return of !== undefined && of !== mapping;
  });
  if (others.length > 0)
    reportError(
      `${counted(others.length, 'object')} in failures/ of other consumers could not be read ("matchstream dead-letters list" without --consumer lists them)`,
    );
  return unreadable.filter((u) => !others.includes(u));
}

/** Objects of failures/ that are not invocation records: one line each, then exit code 3. */
function unreadableObjects(unreadable: readonly UnreadableObject[]): void {
  const line = reportUnreadableObjects(unreadable);
  if (line !== undefined) throw new CliError(line, EXIT.INVALID_INPUT);
}

/** Objects of failures/ that are not invocation records, one line each; their sum, if any. */
function reportUnreadableObjects(unreadable: readonly UnreadableObject[]): string | undefined {
  for (const u of unreadable) reportError(`${u.where}: ${u.error}`);
  return unreadable.length > 0
    ? `${counted(unreadable.length, 'object')} in failures/ could not be read`
    : undefined;
}

/** Ids that name no letter: refused before anything is done. */
function checkIds(
  letters: readonly Letter[],
  ids: readonly string[] | undefined,
  lister = 'matchstream dead-letters list',
): void {
  const missing = [...new Set(ids ?? [])].filter((id) => !letters.some((l) => l.id === id));
  if (missing.length > 0)
    throw new CliError(
      `no dead letter ${missing.join(', ')} ("${lister}" lists them); nothing was redriven`,
    );
}

/**
 * The `list` that lists the letters the flags look at: on AWS, of the same stack (or sources
 * file) and endpoint, since a bare `list` reads the data folder.
 */
function listCommand(flags: DeployedFlags): string {
  if (!flags.aws) return 'matchstream dead-letters list';
  const places =
    flags.stack !== undefined ? `--stack ${flags.stack}` : `--sources ${flags.sources ?? ''}`;
  return `matchstream dead-letters list --aws ${places}${flags.endpoint !== undefined ? ` --endpoint ${flags.endpoint}` : ''}`;
}

/**
 * A redrive on a data folder: the pipeline is started on it (its consumers catch up first, so
 * the letters are those of everything stored), the letters are redriven through it, and it is
 * let settle before it stops, so what the redrive set off (bus deliveries, sagas) is done.
 * A dry run starts no consumer: it reads the letters, positions and events, and applies nothing.
 */
async function redriveLocal(flags: RedriveFlags): Promise<Redriven> {
  requireDataFolder(flags.dataDir);
  // A name no letter could have is refused before the pipeline starts, unless a letter of the
  // folder has it (one of an earlier release's consumer).
  if (flags.consumer !== undefined && !isConsumerName(flags.consumer))
    checkConsumerName(flags.consumer, (await localLetters(flags)).letters);
  const folder = {
    records: new FolderInvocationRecords(failureFolder(flags.dataDir)),
    path: failureFolder(flags.dataDir),
  };
  const progress = fileProgress('redriving', flags.progress && !flags.json, 'letters');
  const run = async (
    table: DynamoDeadLetterQueue,
    redriver: Redriver,
    places: LetterPlaces,
  ): Promise<Redriven> => {
    const found = lettersOf(await table.entries(), await folder.records.list(), folder.path);
    const unreadable = reportUnreadableObjects(ofConsumer(found.unreadable, flags.consumer));
    checkIds(found.letters, flags.ids);
    const summary = await redriveLetters(filterLetters(found.letters, filterOf(flags)), {
      redriver,
      places,
      dryRun: flags.dryRun === true,
      onProgress: (done, total) => progress.update(done, total, done),
    });
    return { summary, unreadable };
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
        return await run(
          runtime.deadLetters,
          embeddedRedriver(await dryRunWiring(runtime, registry)),
          {
            remove: refuse,
            failedAgain: refuse,
          },
        );
      } finally {
        await runtime.stop();
      }
    }
    const pipeline = await startPipeline({ dataDir: flags.dataDir, catchUpHeld: true });
    try {
      await pipeline.caughtUp;
      const redriven = await run(
        pipeline.runtime.deadLetters,
        embeddedRedriver(pipelineWiring(pipeline)),
        new LocalLetterPlaces({ table: pipeline.runtime.deadLetters, folder }),
      );
      await pipeline.runtime.settle();
      return redriven;
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
async function redriveOnAws(flags: RedriveFlags): Promise<Redriven> {
  const progress = fileProgress('redriving', flags.progress && !flags.json, 'letters');
  try {
    return await withDeployedLetters(
      flags,
      REDRIVE_HOLD_SECONDS,
      async (found, sources, clients) => {
        // A mistyped name is refused before anything is redriven (the messages let go of).
        checkConsumerName(flags.consumer, found.letters, sources);
        // A letter that cannot be read is one of the letters too, skipped with why: kept.
        for (const u of found.unreadable) reportError(`${u.where}: ${u.error} (letter ${u.id})`);
        checkIds(found.letters, flags.ids, listCommand(flags));
        const refuse = async () => {
          throw new Error('a dry run changes nothing');
        };
        const summary = await redriveLetters(filterLetters(found.letters, filterOf(flags)), {
          redriver: deployedRedriver(sources, clients),
          places: flags.dryRun ? { remove: refuse, failedAgain: refuse } : found.places,
          dryRun: flags.dryRun === true,
          onProgress: (done, total) => progress.update(done, total, done),
        });
        return { summary };
      },
    );
  } finally {
    progress.stop();
  }
}

/**
 * The summary, as JSON or in words; exit code 3 when letters taken are kept, or objects of
 * failures/ it could not read (kept, never redriven), unless it was a dry run.
 */
/** A count as the summaries write every count: with thousands separators. */
const figure = (n: number): string => n.toLocaleString('en-US');

/** The first line of a redrive's summary: the letters taken, and what became of them. */
export function redriveSummaryLine(
  summary: Pick<RedriveSummary, 'dry_run' | 'letters' | 'redriven' | 'still_failing' | 'skipped'>,
): string {
  const would = summary.dry_run ? 'would be ' : '';
  return `${summary.dry_run ? 'dry run: ' : ''}${counted(summary.letters, 'dead letter')} taken: ${figure(summary.redriven.length)} ${would}redriven, ${figure(summary.still_failing.length)} still failing, ${figure(summary.skipped.length)} skipped`;
}

async function report(
  { summary, unreadable }: Redriven,
  flags: Pick<RedriveFlags, 'json'>,
): Promise<void> {
  if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const would = summary.dry_run ? 'would be ' : '';
    const lines = [
      redriveSummaryLine(summary),
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
  const problems = [
    ...(kept > 0 && !summary.dry_run
      ? [
          `${counted(kept, 'dead letter')} kept: ${figure(summary.still_failing.length)} still failing, ${figure(kept - summary.still_failing.length)} not redrivable`,
        ]
      : []),
    ...(unreadable !== undefined && !summary.dry_run ? [unreadable] : []),
  ];
  if (problems.length > 0) throw new CliError(problems.join('; '), EXIT.INVALID_INPUT);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
