import { checkVariant, type RpiVariant } from '../../domain/rpi/computeRpiVariant.js';
import { resolveProfile } from '../../domain/rpi/RpiProfile.js';
import {
  BUS_ROUTER_CONSUMER,
  READ_MODELS_CONSUMER,
  startPipeline,
} from '../../pipeline/embeddedPipeline.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { fullEntry, type RankingEntry } from '../../projections/readModels/rankings.js';
import { listTeams } from '../../projections/readModels/teams.js';
import { FaultPlan, type StepFault } from '../../sagas/faults.js';
import { readScope } from '../../sagas/rpi/rankingsCache.js';
import { collectGames } from '../../sagas/rpi/rpiCalculation.js';
import { scopeOfSaga } from '../../sagas/rpi/rpiSaga.js';
import { activeSagaIds, getSaga, type SagaDoc, sagaSummaries } from '../../sagas/sagasReadModel.js';
import type { SagaEventType } from '../../schemas/events.js';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import { readAdjustments } from '../adjustmentsFile.js';
import { catchUp } from '../catchUp.js';
import { CliError, EXIT } from '../exitCodes.js';
import { activeDocuments } from '../folder/FolderReader.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { Interrupt } from '../interrupt.js';
import { reportError } from '../output/errors.js';
import { counted } from '../output/plural.js';
import { displayWidth, padCells } from '../output/table.js';
import { Phases } from '../phases.js';
import type { CountWords } from '../progress.js';
import { sagaOutcome, whyNotCompleted } from '../sagaOutcome.js';
import { write } from '../write.js';

export interface StartFlags {
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

export interface ResumeFlags {
  readonly dataDir: string;
  readonly injectFault?: StepFault[];
  readonly json?: boolean;
}

export interface ShowFlags {
  readonly dataDir: string;
  readonly json?: boolean;
}

export interface ListFlags extends ShowFlags {
  readonly limit: number;
  readonly status?: string;
}

/** What catching up with a folder handles: each consumer's events. */
const EVENTS_HANDLED: CountWords = { unit: 'events', verb: 'applied and routed' };

/** `saga start rpi`: an RPI calculation saga, run to its end on the pipeline. */
export async function runSagaStart(flags: StartFlags): Promise<void> {
  const adjustments = flags.adjustments ? await readAdjustments(flags.adjustments) : undefined;
  if (adjustments && flags.variant !== 'adjusted')
    throw new CliError('--adjustments only applies to --variant adjusted', EXIT.USAGE);
  // What the profile cannot compute is refused before the pipeline starts.
  checkVariant(flags.variant, resolveProfile(flags.profile), adjustments);
  // Catching up asks for the season's recalculation (the results it applies do, as they do on
  // AWS), held until the pipeline has caught up: one automatic saga per season, of the season's
  // own scope. A saga of that scope is asked for the same way, so the two are one: it rates
  // every result once the pipeline has caught up (other seasons' recalculations run beside it).
  // A saga of another scope runs after the automatic ones, which are said.
  const runStarted = new Date().toISOString();
  const automatic = new Map<string, string>();
  let ours: string | undefined;
  let asked = false;
  const phases = new Phases({ quiet: flags.json === true, plain: false });
  // Ctrl-C (or SIGTERM) stops the pipeline cleanly: a saga under way stays as it is in the
  // store, for `saga resume` (or `serve`, `start`) to carry on.
  let begun: string | undefined;
  const interrupt = new Interrupt(() =>
    flags.memory
      ? 'saga start interrupted; nothing was kept (the pipeline ran in memory)'
      : begun === undefined
        ? `saga start interrupted before its saga started; nothing was rated`
        : `saga start interrupted; saga ${begun} is left unfinished in ${flags.dataDir}: "matchstream saga resume --data-dir ${flags.dataDir}" carries it on`,
  );
  interrupt.onCaught(() =>
    phases.interject('interrupted: stopping (Ctrl-C again to stop at once)'),
  );
  // The pipeline keeps the seasons' own profile and division (the default ones, as `serve`
  // has them): this saga's --profile or --division makes a calculation of its own scope, not
  // the season's current rankings.
  const pipeline = await startPipeline({
    ...(flags.memory ? { memory: true } : { dataDir: flags.dataDir }),
    ...(flags.injectFault ? { faults: new FaultPlan(flags.injectFault) } : {}),
    holdSagas: true,
    onSagaEvent: (event) => {
      const id = event.data.saga_id;
      if (event.event_type === 'SagaStarted' && !asked && event.timestamp >= runStarted)
        automatic.set(id, 'in_progress');
      const end = endOf(event);
      if (end && automatic.has(id)) automatic.set(id, end);
    },
  });
  try {
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
    // Adjustments apply to the adjusted variant only, which is not the season's own scope.
    const seasonsOwn = pipeline.sagas.isSeasonsOwn(request);
    // How far catching up is, on a terminal (a season's backlog takes a while).
    const caughtUp = () =>
      catchUp(phases, 'catch-up', EVENTS_HANDLED, pipeline.runtime, [
        READ_MODELS_CONSUMER,
        'sagas',
        BUS_ROUTER_CONSUMER,
      ]);
    if (seasonsOwn) {
      // While the sagas are held: the season's automatic saga waiting (or a new one, due when
      // they are released) takes this request in, and the requests of catching up after it.
      ours = (await pipeline.sagas.requests.request(flags.season, 'matchstream saga start'))
        .saga_id;
      await interrupt.race(caughtUp());
      asked = true;
      automatic.delete(ours);
      await pipeline.sagas.release();
    } else {
      // Catch up first, and let the recalculations that catching up asked for finish, so that
      // this saga's rankings are the ones left in the cache.
      await interrupt.race(caughtUp());
      await pipeline.sagas.release();
      await interrupt.race(pipeline.sagas.settle().then(() => pipeline.runtime.settle()));
      asked = true;
    }
    // Said before this saga starts, so that a second calculation in `saga list` is no surprise.
    if (!flags.json && !seasonsOwn) sayAutomatic(automatic, 'ran first');
    if (flags.variant !== 'unadjusted') await warnUnknownConferences(pipeline, flags.season);
    interrupt.check();
    const sagaId = ours ?? (await pipeline.sagas.begin(request));
    begun = sagaId;
    if (!flags.json) process.stderr.write(`saga ${sagaId} started\n`);
    await interrupt.race(pipeline.sagas.waitFor(sagaId, 600_000));
    // The recalculations of other seasons catching up asked for ran beside it: they end
    // before the pipeline stops, as they would have before it started.
    if (seasonsOwn) await interrupt.race(pipeline.sagas.settle());
    // Their last events reach `onSagaEvent` through the stream.
    await interrupt.race(pipeline.runtime.settle());
    interrupt.release();
    if (!flags.json && seasonsOwn) sayAutomatic(automatic, 'also ran');
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
      await write(
        `${JSON.stringify(
          {
            ...outcome,
            rankings,
            saga: doc ?? null,
            automatic_sagas: [...automatic].map(([saga_id, status]) => ({ saga_id, status })),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      await write(
        (doc ? describe(doc) : `saga ${sagaId} ${outcome.status}\n`) +
          (rankings ? topRankings(flags.variant, top) : ''),
      );
    }
    const why = whyNotCompleted(outcome);
    if (outcome.status !== 'completed')
      throw new CliError(`saga ${sagaId} ${outcome.status}${why ? ` ${why}` : ''}`);
  } finally {
    phases.close();
    await pipeline.stop();
    interrupt.release();
  }
}

/** One line for each saga the results caught up on asked for, with how it ended. */
function sayAutomatic(automatic: ReadonlyMap<string, string>, when: string): void {
  for (const [id, status] of automatic)
    process.stderr.write(
      `saga ${id} ${when} (${status}): the results the read models caught up on asked for it\n`,
    );
}

/** The status a saga's event leaves it in, when the event ends the saga. */
function endOf(event: EventEnvelope<SagaEventType>): string | undefined {
  switch (event.event_type) {
    case 'SagaCompleted':
      return 'completed';
    case 'SagaCompensated':
      return 'compensated';
    case 'SagaCompensationFailed':
      return event.data.will_retry ? undefined : 'failed';
    default:
      return undefined;
  }
}

/** `saga resume`: the sagas an interrupted run left unfinished, driven to their end. */
export async function runSagaResume(flags: ResumeFlags): Promise<void> {
  requireDataFolder(flags.dataDir);
  // Ctrl-C (or SIGTERM) stops the pipeline cleanly, the sagas as far as they came.
  const interrupt = new Interrupt(
    () =>
      `saga resume interrupted; run it again to carry on with the sagas left unfinished in ${flags.dataDir}`,
  );
  interrupt.onCaught(() =>
    process.stderr.write('interrupted: stopping (Ctrl-C again to stop at once)\n'),
  );
  const pipeline = await startPipeline({
    dataDir: flags.dataDir,
    holdSagas: true,
    ...(flags.injectFault ? { faults: new FaultPlan(flags.injectFault) } : {}),
  });
  try {
    // The sagas read model catches up while no saga moves: it says which sagas are unfinished,
    // every one of them, none ended meanwhile by the coordinator's sweep (which left it out of
    // the outcomes, and a compensated one out of the exit code). Then they go on, and each is
    // waited for, whoever drives it to its end: the sweep or the stream's events.
    await interrupt.race(pipeline.runtime.settle());
    const ids = await activeSagaIds(pipeline.stores.sagas);
    interrupt.check();
    await pipeline.sagas.release();
    for (const id of ids) await interrupt.race(pipeline.sagas.waitFor(id, 600_000));
    await interrupt.race(pipeline.runtime.settle());
    interrupt.release();
    const outcomes = [];
    for (const id of ids) outcomes.push(await sagaOutcome(pipeline.runtime.store, id));
    await write(
      flags.json
        ? `${JSON.stringify({ sagas: outcomes }, null, 2)}\n`
        : outcomes.length === 0
          ? 'no saga to resume\n'
          : `${outcomes.map((o) => `saga ${o.id} ${o.status}`).join('\n')}\n`,
    );
    // One error line for each saga that did not complete, saying why; the last one ends it.
    const unrated = outcomes.flatMap((o) => {
      const why = whyNotCompleted(o);
      return why === undefined ? [] : [`saga ${o.id} ${o.status} ${why}`];
    });
    for (const line of unrated.slice(0, -1)) reportError(line);
    if (unrated.length > 0) throw new CliError(unrated.at(-1) as string);
  } finally {
    await pipeline.stop();
    interrupt.release();
  }
}

/** `saga show`: a saga's structure. */
export async function runSagaShow(id: string, flags: ShowFlags): Promise<void> {
  await withSagas(flags.dataDir, async (sagas) => {
    const doc = await getSaga(sagas, id);
    if (!doc) throw new CliError(`there is no saga ${id} in ${flags.dataDir}`);
    await write(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : describe(doc));
  });
}

/** `saga list`: the sagas (of a status, when given), latest first. */
export async function runSagaList(status: string | undefined, flags: ListFlags): Promise<void> {
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
}

/** The sagas read model of a data folder, through the server holding it when one does. */
async function withSagas(
  dataDir: string,
  work: (sagas: DocumentStore) => Promise<void>,
): Promise<void> {
  await withDataFolder(dataDir, async (reader) => work(await activeDocuments(reader, 'sagas')));
}

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
export function topRankings(
  variant: RpiVariant,
  top: readonly ReturnType<typeof beside>[],
): string {
  const rpi = (v: number | null) => (v === null ? '-' : v.toFixed(4));
  const width = Math.max(4, ...top.map((e) => displayWidth(e.team)));
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
    `  ${cells[0]}  ${padCells(team, width)}  ${cells.slice(1).join('  ')}`;
  // A blank line apart from the steps above.
  return `\n${[
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

/** A saga for people: header, data, one line per step with its compensation. */
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
