import { type Command, Option } from 'commander';
import { checkVariant, RPI_VARIANTS, type RpiVariant } from '../../domain/rpi/computeRpiVariant.js';
import { DEFAULT_PROFILE_NAME, PROFILES, resolveProfile } from '../../domain/rpi/RpiProfile.js';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { fullEntry, type RankingEntry } from '../../projections/readModels/rankings.js';
import { listTeams } from '../../projections/readModels/teams.js';
import { FaultPlan, type StepFault } from '../../sagas/faults.js';
import { readScope } from '../../sagas/rpi/rankingsCache.js';
import { collectGames } from '../../sagas/rpi/rpiCalculation.js';
import { scopeOfSaga } from '../../sagas/rpi/rpiSaga.js';
import { currentStatus } from '../../sagas/sagaNames.js';
import { activeSagaIds, getSaga, type SagaDoc, sagaSummaries } from '../../sagas/sagasReadModel.js';
import { DEFAULT_DATA_DIR } from '../../stream/local/openEventStore.js';
import { readAdjustments } from '../adjustmentsFile.js';
import { CliError, EXIT } from '../exitCodes.js';
import { activeDocuments } from '../folder/FolderReader.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { day, faultSpec, wholeNumber } from '../options.js';
import { reportError } from '../output/errors.js';
import { counted } from '../output/plural.js';
import { sagaOutcome } from '../sagaOutcome.js';
import { write } from '../write.js';

interface StartFlags {
  readonly season: string;
  readonly asOf?: string;
  readonly profile: string;
  readonly division?: string;
  readonly variant: RpiVariant;
  readonly adjustments?: string;
  readonly dataDir: string;
  readonly memory?: boolean;
  readonly injectFault?: StepFault[];
  readonly json?: boolean;
}

interface ResumeFlags {
  readonly dataDir: string;
  readonly injectFault?: StepFault[];
  readonly json?: boolean;
}

interface ShowFlags {
  readonly dataDir: string;
  readonly json?: boolean;
}

interface ListFlags extends ShowFlags {
  readonly limit: number;
  readonly status?: string;
}

const SAGA_STATUSES = ['in_progress', 'compensating', 'completed', 'compensated', 'failed'];

export function registerSaga(program: Command): void {
  const saga = program
    .command('saga')
    .description('start and look at sagas (the RPI calculation saga)')
    .addHelpText(
      'after',
      `
The RPI calculation saga (rpi_calculation): collect_matches → calculate_rpi → publish_results →
update_cache. When a step fails for good (after its retries, timed out, or with nothing to
count), what ran is compensated in reverse: rollback_cache, rollback_publication,
rollback_calculation, rollback_matches. Its state is its events (SagaStarted, SagaStepStarted,
SagaStepCompleted, ...), so it resumes after a crash. Step names of earlier releases
(collect-matches, ...) are accepted too.`,
    );

  saga
    .command('start')
    .description('start a saga and wait for it to end')
    .argument('<type>', 'the saga: rpi')
    .requiredOption('--season <label>', 'season to rate')
    .option('--as-of <date>', 'count games up to this day (YYYY-MM-DD)', day)
    .addOption(
      new Option('--profile <name>', 'RPI parameter set')
        .choices([...PROFILES.keys()])
        .default(DEFAULT_PROFILE_NAME),
    )
    .option('--division <name>', 'count only games between teams of this division of the directory')
    .addOption(
      new Option(
        '--variant <variant>',
        "which RPI: unadjusted, adjusted (bonuses and penalties, soccer profiles) or non-conference (by the directory's conferences); the unadjusted RPI is kept beside the others",
      )
        .choices(RPI_VARIANTS)
        .default('unadjusted'),
    )
    .option(
      '--adjustments <file.json>',
      'with --variant adjusted: values for the profile\'s bonus and penalty table, by tier id (README, "The RPI")',
    )
    .option(
      '--inject-fault <spec>',
      'make a step fail on purpose: saga:STEP[:error|timeout|crash][:compensation] (repeatable)',
      faultSpec,
    )
    .option('--data-dir <dir>', 'the pipeline state to work on', DEFAULT_DATA_DIR)
    .option('--memory', 'an empty in-memory pipeline (for trying it out)')
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
Runs the embedded pipeline on the data folder, lets it catch up, starts the saga, waits for
it to complete (or to be compensated) and prints each step. Exit code 1 when the saga was
compensated or failed. Only a calculation of the whole season with the default profile and
every division, unadjusted, becomes the season's current rankings; one with --as-of,
--division, another --profile or --variant is kept for its scope (GET /rankings with the same
parameters serves it). Prints the top of the rankings, each team's unadjusted rank and RPI
beside the variant's.

Examples:
  matchstream saga start rpi --season 2026
  matchstream saga start rpi --season 2026 --as-of 2026-10-15 --division I
  matchstream saga start rpi --season 2026 --variant adjusted --adjustments tiers.json
  matchstream saga start rpi --season 2026 --inject-fault saga:publish_results`,
    )
    .action(async (type: string, flags: StartFlags) => {
      if (type !== 'rpi')
        throw new CliError(`unknown saga type "${type}"; there is: rpi`, EXIT.USAGE);
      await runSagaStart(flags);
    });

  saga
    .command('resume')
    .description('carry on with the sagas an interrupted run left unfinished, until each ends')
    .option(
      '--inject-fault <spec>',
      'make a step fail on purpose: saga:STEP[:error|timeout|crash][:compensation] (repeatable)',
      faultSpec,
    )
    .option('--data-dir <dir>', 'the pipeline state to work on', DEFAULT_DATA_DIR)
    .option('--json', 'print the outcomes as JSON')
    .addHelpText(
      'after',
      `
Runs the embedded pipeline on the data folder, lets it catch up, and drives every saga that is
still running or compensating (a run killed in the middle of one leaves it so) until it ends:
a step cut short is run again, as its own idempotent action, or timed out and retried once its
deadline has passed. Prints each saga's outcome. Exit code 1 when one of them was compensated
or failed. A saga that a running process is driving is best left to it ("matchstream serve"
and "matchstream start --serve" resume them by themselves).

Example:
  matchstream saga resume --data-dir .matchstream`,
    )
    .action(async (flags: ResumeFlags) => {
      requireDataFolder(flags.dataDir);
      await runSagaResume(flags);
    });

  saga
    .command('show')
    .description("a saga's structure: status, data and each step's status")
    .argument('<id>', 'saga id')
    .option('--data-dir <dir>', 'the pipeline state to look at', DEFAULT_DATA_DIR)
    .option('--json', 'print the saga as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  matchstream saga show 7e7f5d7e-faf0-5757-ac4b-019ded3540f2',
    )
    .action(async (id: string, flags: ShowFlags) => {
      await withSagas(flags.dataDir, async (sagas) => {
        const doc = await getSaga(sagas, id);
        if (!doc) throw new CliError(`there is no saga ${id} in ${flags.dataDir}`);
        await write(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : describe(doc));
      });
    });

  saga
    .command('list')
    .description('the sagas, latest first')
    .option(
      '--status <status>',
      `only these: ${SAGA_STATUSES.join(', ')} (running means in_progress)`,
    )
    .option('--limit <n>', 'at most this many', wholeNumber(1, 100_000), 20)
    .option('--data-dir <dir>', 'the pipeline state to look at', DEFAULT_DATA_DIR)
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags) => {
      const status = flags.status === undefined ? undefined : currentStatus(flags.status);
      if (status !== undefined && !SAGA_STATUSES.includes(status))
        throw new CliError(`--status must be one of ${SAGA_STATUSES.join(', ')}`, EXIT.USAGE);
      await withSagas(flags.dataDir, async (sagas) => {
        const all = (await sagaSummaries(sagas))
          .filter((s) => status === undefined || s.status === status)
          .reverse()
          .slice(0, flags.limit);
        await write(
          flags.json
            ? `${JSON.stringify({ sagas: all }, null, 2)}\n`
            : all.length === 0
              ? 'no sagas\n'
              : `${all.map((s) => `${s.started_at}  ${s.saga_id}  ${s.saga_type}  ${s.status}`).join('\n')}\n`,
        );
      });
    });
}

async function runSagaStart(flags: StartFlags): Promise<void> {
  const adjustments = flags.adjustments ? await readAdjustments(flags.adjustments) : undefined;
  if (adjustments && flags.variant !== 'adjusted')
    throw new CliError('--adjustments only applies to --variant adjusted', EXIT.USAGE);
  // What the profile cannot compute is refused before the pipeline starts.
  checkVariant(flags.variant, resolveProfile(flags.profile), adjustments);
  // The pipeline keeps the seasons' own profile and division (the default ones, as `serve`
  // has them): this saga's --profile or --division makes a calculation of its own scope, not
  // the season's current rankings.
  const pipeline = await startPipeline({
    ...(flags.memory ? { memory: true } : { dataDir: flags.dataDir }),
    ...(flags.injectFault ? { faults: new FaultPlan(flags.injectFault) } : {}),
  });
  try {
    // Catch up first, and let the recalculations that catching up asked for finish, so that
    // this saga's rankings are the ones left in the cache.
    await pipeline.runtime.settle();
    await pipeline.sagas.settle();
    await pipeline.runtime.settle();
    const request = {
      season: flags.season,
      as_of: flags.asOf ?? null,
      profile: flags.profile,
      division: flags.division ?? null,
      variant: flags.variant,
      adjustments: adjustments ?? null,
      not_before: null,
      requested_at: new Date().toISOString(),
      reason: 'matchstream saga start',
    };
    if (flags.variant !== 'unadjusted') await warnUnknownConferences(pipeline, flags.season);
    const sagaId = await pipeline.sagas.begin(request);
    if (!flags.json) process.stderr.write(`saga ${sagaId} started\n`);
    await pipeline.sagas.waitFor(sagaId, 600_000);
    await pipeline.runtime.settle();
    const outcome = await sagaOutcome(pipeline.runtime.store, sagaId);
    const doc = await getSaga(pipeline.stores.sagas, sagaId);
    const cached = await readScope(pipeline.sagaStores.cache, scopeOfSaga(request));
    const top = cached?.saga_id === sagaId ? cached.rankings.slice(0, TOP).map(beside) : [];
    const rankings =
      cached?.saga_id === sagaId
        ? {
            calculation_id: cached.calculation_id,
            games_counted: cached.games_counted,
            teams: cached.rankings.length,
            variant: flags.variant,
            top,
          }
        : null;
    if (flags.json) {
      await write(`${JSON.stringify({ ...outcome, rankings, saga: doc ?? null }, null, 2)}\n`);
    } else {
      await write(
        (doc ? describe(doc) : `saga ${sagaId} ${outcome.status}\n`) +
          (rankings ? topRankings(flags.variant, top) : ''),
      );
    }
    if (outcome.status !== 'completed')
      throw new CliError(
        `saga ${sagaId} ${outcome.status}${outcome.failed_step ? ` after ${outcome.failed_step} failed: ${outcome.error ?? ''}` : ''}`,
      );
  } finally {
    await pipeline.stop();
  }
}

async function runSagaResume(flags: ResumeFlags): Promise<void> {
  const pipeline = await startPipeline({
    dataDir: flags.dataDir,
    ...(flags.injectFault ? { faults: new FaultPlan(flags.injectFault) } : {}),
  });
  try {
    // The sagas read model catches up first: it says which sagas are unfinished.
    await pipeline.runtime.settle();
    const ids = await activeSagaIds(pipeline.stores.sagas);
    for (const id of ids) await pipeline.sagas.waitFor(id, 600_000);
    await pipeline.runtime.settle();
    const outcomes = [];
    for (const id of ids) outcomes.push(await sagaOutcome(pipeline.runtime.store, id));
    await write(
      flags.json
        ? `${JSON.stringify({ sagas: outcomes }, null, 2)}\n`
        : outcomes.length === 0
          ? 'no saga to resume\n'
          : `${outcomes.map((o) => `saga ${o.id} ${o.status}`).join('\n')}\n`,
    );
    const unrated = outcomes.filter((o) => o.status !== 'completed');
    if (unrated.length > 0)
      throw new CliError(unrated.map((o) => `saga ${o.id} ${o.status}`).join('; '));
  } finally {
    await pipeline.stop();
  }
}

/** The sagas read model of a data folder, through the server holding it when one does. */
async function withSagas(
  dataDir: string,
  work: (sagas: DocumentStore) => Promise<void>,
): Promise<void> {
  await withDataFolder(dataDir, async (reader) => work(await activeDocuments(reader, 'sagas')));
}

/** A saga for people: header, data, one line per step with its compensation. */
/**
 * Says which of the season's teams have no conference in the team directory: the variants
 * leave their games out of the non-conference figures (a game's status is unknown).
 */
async function warnUnknownConferences(
  pipeline: Awaited<ReturnType<typeof startPipeline>>,
  season: string,
): Promise<void> {
  const known = new Set(
    (await listTeams(pipeline.sagaStores.directory))
      .filter((t) => t.conference)
      .map((t) => t.team_id),
  );
  const games = await collectGames(pipeline.sagaStores.matches, season);
  const unknown = [
    ...new Set(games.flatMap((g) => [g.homeTeam, g.awayTeam]).filter((t) => !known.has(t))),
  ].sort();
  if (unknown.length > 0)
    reportError(
      `warning: ${counted(unknown.length, 'team')} of season ${season} without a conference in the team directory (${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', ...' : ''}): their games are left out of the non-conference figures (matchstream teams import FILE with a conference column)`,
    );
}

/** How many teams `saga start` prints. */
const TOP = 10;

/** A team's line with its unadjusted rank and RPI beside the variant's. */
function beside(e: RankingEntry) {
  const { rank, team, rpi, unadjusted_rank, unadjusted_rpi, adjustment } = fullEntry(e);
  return { rank, team, rpi, unadjusted_rank, unadjusted_rpi, adjustment };
}

/** The top of a saga's rankings, the unadjusted figures beside a variant's. */
function topRankings(variant: RpiVariant, top: readonly ReturnType<typeof beside>[]): string {
  const rpi = (v: number | null) => (v === null ? '-' : v.toFixed(4));
  const width = Math.max(4, ...top.map((e) => e.team.length));
  type Column = readonly [string, number, (e: ReturnType<typeof beside>) => string];
  const columns: Column[] = [
    ['rank', 4, (e) => String(e.rank ?? '-')],
    [variant === 'unadjusted' ? 'RPI' : variant, Math.max(6, variant.length), (e) => rpi(e.rpi)],
    ...(variant === 'unadjusted'
      ? []
      : [
          ['unadj. rank', 11, (e) => String(e.unadjusted_rank ?? '-')] satisfies Column,
          ['unadj. RPI', 10, (e) => rpi(e.unadjusted_rpi)] satisfies Column,
        ]),
    ...(variant === 'adjusted'
      ? [
          [
            'adjustment',
            10,
            (e) =>
              e.adjustment === null
                ? '-'
                : `${e.adjustment >= 0 ? '+' : ''}${e.adjustment.toFixed(4)}`,
          ] satisfies Column,
        ]
      : []),
  ];
  const line = (team: string, cells: string[]) =>
    `  ${cells[0]}  ${team.padEnd(width)}  ${cells.slice(1).join('  ')}`;
  return `${[
    `  top ${top.length} (${variant} RPI):`,
    line(
      'team',
      columns.map(([name, w]) => name.padStart(w)),
    ),
    ...top.map((e) =>
      line(
        e.team,
        columns.map(([, w, cell]) => cell(e).padStart(w)),
      ),
    ),
  ].join('\n')}\n`;
}

function describe(doc: SagaDoc): string {
  const width = Math.max(...doc.steps.map((s) => s.step_name.length), 4);
  const compensationWidth = Math.max(
    ...doc.steps.map((s) => (s.compensation_function ?? '-').length),
    12,
  );
  const indent = ' '.repeat(width + 4);
  const lines = [
    `saga ${doc.saga_id} (${doc.saga_type}): ${doc.status}`,
    `  started ${doc.started_at}, last change ${doc.updated_at}`,
    `  data    ${JSON.stringify(doc.data)}`,
    ...(doc.failed_step ? [`  failed  ${doc.failed_step}: ${doc.error ?? ''}`] : []),
    '',
    `  ${'step'.padEnd(width)}  ${'status'.padEnd(11)}  attempts  ${'compensation'.padEnd(compensationWidth)}  ${'status'.padEnd(11)}  attempts`,
    ...doc.steps.flatMap((s) => [
      `  ${s.step_name.padEnd(width)}  ${s.status.padEnd(11)}  ${String(s.attempts).padStart(8)}  ${(s.compensation_function ?? '-').padEnd(compensationWidth)}  ${s.compensation.status.padEnd(11)}  ${String(s.compensation.attempts).padStart(8)}`,
      ...(s.error ? [`${indent}error: ${s.error}`] : []),
      ...(s.compensation.error ? [`${indent}compensation error: ${s.compensation.error}`] : []),
    ]),
    '',
  ];
  return lines.join('\n');
}
