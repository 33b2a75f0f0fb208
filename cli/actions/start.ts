import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { ResourceNotFoundException, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { NeutralValues } from '../../domain/games/validateGame.js';
import { resolveProfile } from '../../domain/rpi/RpiProfile.js';
import type { Season } from '../../domain/season/generateSeason.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { ensureReadable } from '../../feeds/readFeed.js';
import type { GameProblem, GameRow } from '../../feeds/readGames.js';
import { streamGames } from '../../feeds/readGames.js';
import {
  emptyIngestSummary,
  IngestStoppedError,
  type IngestSummary,
  ingestGames,
  type Reject,
} from '../../ingest/ingestGames.js';
import {
  BUS_ROUTER_CONSUMER,
  type EmbeddedPipeline,
  READ_MODELS_CONSUMER,
  startPipeline,
} from '../../pipeline/embeddedPipeline.js';
import type { RankingEntry } from '../../projections/readModels/rankings.js';
import { FaultPlan, type StepFault } from '../../sagas/faults.js';
import {
  type CachedRankings,
  cachedSeasons,
  type RankingsScope,
  readScope,
} from '../../sagas/rpi/rankingsCache.js';
import { isCurrentScope } from '../../sagas/rpi/rpiSaga.js';
import { parseRpiSagaData } from '../../sagas/rpi/rpiSagaData.js';
import type { SagaState } from '../../sagas/sagaState.js';
import type { SagaEventType } from '../../schemas/events.js';
import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import { storeDir } from '../../stream/local/dataDir.js';
import type { ConsumerCounts, EmbeddedRuntime } from '../../stream/local/EmbeddedRuntime.js';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { catchUp, EVENTS_APPLIED, EVENTS_ROUTED } from '../catchUp.js';
import { CliError, EXIT } from '../exitCodes.js';
import { ROWS_STORED, rowsStored } from '../ingestProgress.js';
import { Interrupt } from '../interrupt.js';
import { type NeutralFlags, neutralValues } from '../options.js';
import { counted } from '../output/plural.js';
import { reportProblems, unknownColumnWarnings } from '../output/problems.js';
import { ingestStopped } from '../output/storeStopped.js';
import { displayWidth, padCells } from '../output/table.js';
import { Phases } from '../phases.js';
import type { CountWords } from '../progress.js';
import { sagaOutcome, whyNotCompleted } from '../sagaOutcome.js';
import type { LocalServer } from '../serveLocal.js';
import { write } from '../write.js';

export interface StartFlags extends NeutralFlags {
  readonly games?: string;
  readonly teamCount?: number;
  /** The former name of `--team-count`, kept working. */
  readonly teams?: number;
  readonly gamesPerTeam: number;
  readonly seed: number;
  readonly season?: string;
  readonly profile: string;
  readonly top: number;
  readonly json?: boolean;
  readonly memory?: boolean;
  readonly dataDir?: string;
  readonly serve?: boolean;
  readonly port: number;
  readonly injectFault?: StepFault[];
  readonly division?: string;
  readonly quiet?: boolean;
}

/** What the command line resolves to beyond its flags. */
export interface StartInput {
  readonly teamCount: number;
  /** `--team-count`, `--games-per-team` or `--seed` given: a generated season asked for by name. */
  readonly sampleAsked?: boolean;
}

/** `matchstream start`: a season through the whole pipeline to RPI rankings. */
export async function runStart(flags: StartFlags & StartInput): Promise<void> {
  const started = performance.now();
  // Sagas started before this moment are an earlier run's.
  const runStartedAt = new Date().toISOString();
  const profile = resolveProfile(flags.profile);
  // An unreadable feed fails before the pipeline boots (and makes a data folder).
  const streamed = flags.games !== undefined && (await ensureReadable(flags.games)) === 'stream';
  // A data folder that holds events gets no generated season unless the command line asks
  // for one: the sample's results would replace those of its matches where their ids meet
  // (2026-00001...). Without a feed, such a folder's own season is rated, once named. Asked
  // before the pipeline boots, whose consumers would start on what the folder holds.
  const fromFolder =
    flags.games === undefined &&
    flags.dataDir !== undefined &&
    flags.sampleAsked !== true &&
    (await folderHoldsEvents(flags.dataDir));
  if (fromFolder && flags.season === undefined)
    throw new CliError(
      `the data folder ${flags.dataDir} holds events already, and no games feed was given: name the season of the folder to rate (--season LABEL), or give a feed to add to it; a generated sample season goes only into an empty folder, into memory, or where --team-count, --games-per-team or --seed ask for it`,
      EXIT.USAGE,
    );
  // A port in use is said before anything boots (or makes a data folder).
  if (flags.serve) await (await import('../serveLocal.js')).assertPortFree(flags.port);
  const phases = new Phases({ quiet: flags.quiet === true });
  // A feed file with invalid rows is refused whole, before anything boots or is stored: its
  // valid rows would otherwise be in the data folder of a run that said it rated nothing.
  // A stream (standard input, a pipe) cannot be read twice: its rows are checked as they are
  // stored.
  if (flags.games !== undefined && !streamed) {
    const held = await checkFeed(phases, flags.games, flags);
    // A feed with no game, or none of the season asked for, and no folder that may hold it:
    // said before anything boots.
    const missing = flags.season === undefined ? held.size === 0 : !held.has(flags.season);
    if (missing && !(flags.dataDir !== undefined && (await folderHoldsEvents(flags.dataDir)))) {
      const folder =
        flags.dataDir === undefined ? '' : `, and the data folder ${flags.dataDir} holds no events`;
      throw new CliError(
        held.size === 0
          ? `${flags.games} holds no game${folder}; nothing stored, nothing rated`
          : `season ${flags.season} cannot be rated: ${flags.games} holds no game of it (it holds ${seasonCounts(held)})${folder}; nothing stored, nothing rated`,
      );
    }
  }
  // Ctrl-C (or SIGTERM) stops the run between its steps: the rows read go in, the pipeline
  // stops cleanly (the relay's checkpoint closed), and a run on the same folder goes on from
  // there. Trapped until the summary is out: a server's own wait then takes the signals.
  const interrupt = new Interrupt(() =>
    flags.dataDir
      ? `start interrupted; run it again to continue: what it stored stays in ${flags.dataDir}`
      : 'start interrupted; nothing was kept (the pipeline ran in memory)',
  );
  const booting = phases.begin('boot');
  const pipeline = await startPipeline({
    ...(flags.dataDir ? { dataDir: flags.dataDir } : { memory: true }),
    onSagaEvent: (event) => {
      const line = sagaLine(event);
      if (line) phases.note(line);
    },
    profile: profile.name,
    division: flags.division ?? null,
    ...(flags.injectFault ? { faults: new FaultPlan(flags.injectFault) } : {}),
    // The buses wait while the season goes in: handlers that ask for the season's RPI as each
    // result arrives would otherwise rate a dozen partial seasons along the way. The stream
    // keeps what they are to carry, and they catch up once the read models have. Off from the
    // start: a router turned off after it would already carry what a data folder holds.
    routerEnabled: false,
  });
  let stopped = false;
  let server: LocalServer | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    interrupt.release();
    phases.close();
    server?.close();
    await pipeline.stop();
  };
  interrupt.onCaught(() => phases.note('interrupted: stopping (Ctrl-C again to stop at once)'));
  try {
    interrupt.check();
    const { runtime } = pipeline;
    // Serving from the start, so the console can watch the season go in and its rankings settle.
    // The server (the API, the console, its routes) is loaded only for --serve.
    server = flags.serve
      ? await (await import('../serveLocal.js')).openLocalServer(
          pipeline,
          flags.port,
          flags.dataDir,
        )
      : undefined;
    booting.end(
      `dynalite, kinesalite, the change relay and ${counted(runtime.consumers.size, 'consumer')} are up, ${flags.dataDir ? `on ${flags.dataDir}` : 'in memory'}`,
    );
    // The rankings of this run's profile and division: the season's current rankings may be
    // another profile's or division's, an earlier run's with other flags.
    const cacheBefore = new Map<string, CachedRankings | undefined>();
    for (const s of await cachedSeasons(pipeline.sagaStores.cache))
      cacheBefore.set(s, await readScope(pipeline.sagaStores.cache, runScope(pipeline, s)));
    // 1. The season into the event store.
    const source =
      flags.games === '-'
        ? 'standard input'
        : fromFolder
          ? `data folder ${flags.dataDir}`
          : (flags.games ??
            `sample season (${counted(flags.teamCount, 'team')}, seed ${flags.seed})`);
    const seasons = new Map<string, number>();
    const sample =
      flags.games || fromFolder
        ? undefined
        : generateSeason({
            teams: flags.teamCount,
            gamesPerTeam: flags.gamesPerTeam,
            seed: flags.seed,
          });
    const ingested = fromFolder
      ? nothingToIngest(phases, flags.season)
      : await ingestSeason(phases, flags, runtime, sample, seasons, interrupt, streamed);
    interrupt.check();
    const season = flags.season ?? [...seasons.keys()].sort().at(-1);
    if (!season) throw new CliError('the games feed has no games');

    // 2. The read models catch up with the stream, then the buses: the MatchEventHandler on
    // the soccer bus asks for the season's RPI (debounced, one pending saga per season), and
    // the saga collects, calculates, publishes and caches. The sagas are held while the buses
    // catch up: however long that takes (a 2,000-team season's 22,600 events take about a
    // minute), the requests fall to the saga waiting, which rates the whole season once.
    await interrupt.race(
      catchUp(phases, 'catch-up', EVENTS_APPLIED, runtime, [READ_MODELS_CONSUMER, 'sagas']),
    );
    // A season the run's feed did not bring may be nowhere in the folder (a typing mistake):
    // said before a saga would fail on it, compensate, and stay in the folder's history. Of
    // every division: the team directory follows the metadata bus, which has not caught up
    // yet (a `teams import` since the last run is not in it), so the saga's first step
    // judges a division.
    if (!seasons.has(season)) {
      const why = await pipeline.sagas.nothingToCount(season, null);
      if (why) throw new CliError(`season ${season} cannot be rated: ${why}; nothing rated`);
    }
    await pipeline.sagas.hold();
    await pipeline.router.enable();
    await interrupt.race(catchUp(phases, 'buses', EVENTS_ROUTED, runtime, [BUS_ROUTER_CONSUMER]));
    await pipeline.sagas.release();
    const rating = phases.begin('rating');
    let saga = await interrupt.race(finalSaga(pipeline, season, runStartedAt));
    // Sagas an earlier, interrupted run left behind resume here too: let them end before
    // reading the rankings they may have cached.
    await interrupt.race(pipeline.sagas.settle().then(() => runtime.settle()));
    let outcome = await sagaOutcome(runtime.store, saga);
    const cached = await readScope(pipeline.sagaStores.cache, runScope(pipeline, season));
    if (outcome.status === 'completed' && cached?.saga_id !== saga) {
      // A saga that collected the matches after ours holds the cache: when it counted every
      // game there is, its rankings are the season's as much as ours would be.
      const holder = cached?.saga_id ?? undefined;
      if (!holder || !(await countsEveryGame(pipeline, holder, season)))
        throw new CliError(
          `saga ${saga} completed but the rankings cache does not hold its rankings`,
        );
      saga = holder;
      outcome = await sagaOutcome(runtime.store, saga);
    }
    rating.end(`season ${season}: saga ${shortId(saga)} ${outcome.status}`);
    // A season whose saga did not complete was not rated: said after the summary, exit 1.
    const why = whyNotCompleted(outcome);
    const unrated =
      why === undefined
        ? undefined
        : `saga ${saga} ${outcome.status === 'compensated' ? 'was compensated' : 'failed'} ${why}`;
    const before = cacheBefore.get(season);
    const served = cached?.rankings ?? [];
    const gamesCounted = cached?.games_counted ?? 0;
    // One figure of each consumer's counts, by consumer.
    const perConsumer = (figure: (counts: ConsumerCounts) => number) =>
      Object.fromEntries([...runtime.consumers].map(([name, c]) => [name, figure(c.counts)]));
    const consumers = perConsumer((c) => c.applied);
    const skipped = perConsumer((c) => c.skipped);
    // Of those applied, read from the store to fill a gap (for read-models, mostly a stream's
    // first event again: such a stream keeps no position).
    const filled = perConsumer((c) => c.filled);
    // Applied, or skipped as of a stream the consumer does not read: each event once (for
    // read-models at least once: a stream's first event again is among those filled).
    const handled = perConsumer((c) => c.applied + c.skipped);
    const deadLetters = (await runtime.deadLetters.list()).length;
    const summary = {
      source,
      season,
      profile: profile.name,
      // Counted by the store as it writes: the read models' count lags what a folder held.
      events_appended: runtime.store.appended,
      records_relayed: runtime.relay.stats.forwarded,
      events_applied: consumers,
      events_skipped: skipped,
      events_filled: filled,
      published: { ...pipeline.published },
      dead_letters: deadLetters,
      saga: {
        ...outcome,
        automatic_sagas: pipeline.sagas.handlers.match.stats.sagas_started,
        coordinator_restarts: pipeline.sagas.restarts,
      },
      rankings_unchanged: isDeepStrictEqual(cached ?? null, before ?? null),
      ingest: ingested,
      calculation_id: cached?.calculation_id ?? null,
      games_counted: gamesCounted,
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      rankings: served.map((r) => ({
        rank: r.rank,
        team: r.team,
        rpi: r.rpi,
        wp: r.wp,
        owp: r.owp,
        oowp: r.oowp,
      })),
    };
    if (flags.json) {
      await write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const top = served.slice(0, flags.top);
      const lines = [
        cached
          ? `matchstream — ${source}, season ${season}: ${counted(gamesCounted, 'game')}, ${counted(served.length, 'team')} (${profile.name})`
          : `matchstream — ${source}, season ${season}`,
        '',
        ...(outcome.status === 'compensated' || outcome.status === 'failed'
          ? [
              `saga ${saga} failed at ${outcome.failed_step}: ${outcome.error}`,
              outcome.status === 'compensated'
                ? `compensated: ${outcome.compensations.join(' → ')}; the rankings are ${summary.rankings_unchanged ? 'as they were before the run' : 'NOT as before'}${served.length === 0 ? ' (none)' : ''}`
                : `its compensation failed too: see "matchstream saga show ${saga}"`,
              '',
            ]
          : []),
        ...(top.length === 0 ? [`no rankings for season ${season}`] : topTable(top)),
        '',
        `pipeline: ${counted(summary.events_appended, 'event')} appended, ${counted(summary.records_relayed, 'change record')} relayed, ` +
          `${counted(Object.keys(consumers).length, 'consumer')} (${appliedRange(handled)} handled each), ` +
          `${counted(
            Object.values(summary.published).reduce((a, b) => a + b, 0),
            'event',
          )} published on the buses, ${counted(deadLetters, 'dead letter')}`,
        `saga: ${saga} ${outcome.status} in ${outcome.seconds ?? '?'} s (${counted(summary.saga.automatic_sagas, 'saga')} started automatically as results arrived${pipeline.sagas.restarts > 0 ? `, coordinator restarted ${pipeline.sagas.restarts}×` : ''})`,
        `done in ${summary.seconds} s`,
        '',
      ];
      await write(lines.join('\n'));
    }
    // Serving, the log says what happens (sagas the API starts included), not the phases.
    interrupt.release();
    phases.close();
    if (server) await server.untilInterrupted();
    if (unrated) throw new CliError(unrated);
  } finally {
    await stop();
  }
}

/**
 * The saga that settles the season: the latest one the MatchEventHandler started. Waits for it
 * to end and for the stream to go quiet, and again if a later request started another; when
 * there is none (or it missed results that reached the read model late, or it is an earlier
 * run's that rated the season in another profile or division, or did not complete), starts one.
 */
async function finalSaga(
  pipeline: EmbeddedPipeline,
  season: string,
  runStartedAt: string,
): Promise<string> {
  const { sagas, runtime } = pipeline;
  for (let round = 0; round < 20; round++) {
    const latest = await sagas.requests.latest(season);
    if (latest === undefined) break;
    const state = await sagas.waitFor(latest, 600_000);
    await runtime.settle();
    if ((await sagas.requests.latest(season)) !== latest) continue;
    const data = parseRpiSagaData(state.data, state.startedAt);
    if (!isCurrentScope(data, { profile: sagas.profile, division: sagas.division })) break;
    // An earlier run's saga that did not complete rated nothing: this run rates the season.
    if (state.status !== 'completed' && state.startedAt < runStartedAt) break;
    if (state.status !== 'completed' || collectedGames(state) === (await sagas.collectable(season)))
      return latest;
    break; // it ran before the last results reached the read model: calculate once more
  }
  // The saga whose rankings this scope holds (an earlier run's) rated every game there is.
  const holder = (await readScope(pipeline.sagaStores.cache, runScope(pipeline, season)))?.saga_id;
  if (holder && (await countsEveryGame(pipeline, holder, season))) return holder;
  const sagaId = await sagas.begin({
    season,
    as_of: null,
    profile: sagas.profile,
    division: sagas.division,
    not_before: null,
    requested_at: new Date().toISOString(),
    reason: 'matchstream start',
  });
  await sagas.waitFor(sagaId, 600_000);
  return sagaId;
}

/** The scope of the season's rankings this run rates: the whole season in its profile and division. */
function runScope(pipeline: EmbeddedPipeline, season: string): RankingsScope {
  const { profile, division } = pipeline.sagas;
  return { season, as_of: null, profile, division, variant: 'unadjusted' };
}

/** How the flags map the feed's neutral column, as `streamGames` takes it. */
function neutralOf(flags: NeutralFlags): { neutral?: NeutralValues } {
  const neutral = neutralValues(flags);
  return neutral ? { neutral } : {};
}

/** Whether a saga completed having collected every game of the season there is now. */
async function countsEveryGame(
  pipeline: EmbeddedPipeline,
  sagaId: string,
  season: string,
): Promise<boolean> {
  const state = await pipeline.sagas.waitFor(sagaId, 600_000);
  return (
    state.status === 'completed' &&
    collectedGames(state) === (await pipeline.sagas.collectable(season))
  );
}

/** How many games an RPI saga collected (undefined before `collect_matches` completed). */
function collectedGames(state: SagaState): number | undefined {
  const output = state.steps.find((s) => s.name === 'collect_matches')?.output as
    | { games?: number }
    | undefined;
  return output?.games;
}

/** A saga event as a line that stays on the screen; none for a step merely starting. */
function sagaLine(event: EventEnvelope<SagaEventType>): string | undefined {
  const id = shortId(event.data.saga_id);
  switch (event.event_type) {
    case 'SagaStarted':
      return `saga ${id}: started`;
    case 'SagaStepStarted':
      return undefined;
    case 'SagaStepCompleted':
      return `saga ${id}: ${event.data.step_name} completed`;
    case 'SagaStepFailed': {
      const d = event.data;
      return `saga ${id}: ${d.step_name} failed (attempt ${d.attempt}${d.will_retry ? ', will retry' : ''}): ${d.error}`;
    }
    case 'SagaStepHeld': {
      const d = event.data;
      return `saga ${id}: ${d.compensation ? 'compensating ' : ''}${d.step_name} held by ${d.breaker} until ${d.retry_at}`;
    }
    case 'SagaCompensationCompleted':
      return `saga ${id}: ${event.data.step_name} compensated`;
    case 'SagaCompensationFailed':
      return `saga ${id}: compensating ${event.data.step_name} failed: ${event.data.error}`;
    case 'SagaCompleted':
      return `saga ${id}: completed`;
    case 'SagaCompensated':
      return `saga ${id}: compensated after ${event.data.failed_step} failed`;
    default:
      return unhandled(event);
  }
}

/** The first part of a saga id, enough to tell a run's sagas apart. */
function shortId(sagaId: string): string {
  return sagaId.slice(0, 8);
}

/** "3,400 events" when every consumer applied as many, else "3,398–3,400 events". */
function appliedRange(applied: Record<string, number>): string {
  const counts = Object.values(applied);
  const low = Math.min(...counts);
  const high = Math.max(...counts);
  return low === high
    ? counted(low, 'event')
    : `${low.toLocaleString('en-US')}–${high.toLocaleString('en-US')} events`;
}

/**
 * Whether the event store of a data folder holds any event (one item read at most); a folder
 * without a store, or a store without the events table, holds none.
 */
async function folderHoldsEvents(dataDir: string): Promise<boolean> {
  if (!existsSync(storeDir(dataDir))) return false;
  const opened = await openEventStore({ dataDir, readOnly: true });
  try {
    const { Count } = await opened.client.send(
      new ScanCommand({ TableName: opened.table, Limit: 1, Select: 'COUNT' }),
    );
    return (Count ?? 0) > 0;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  } finally {
    await opened.close();
  }
}

/** The ingest phase of a run that rates what its data folder holds. */
function nothingToIngest(phases: Phases, season: string | undefined): IngestSummary {
  phases
    .begin('ingest')
    .end(`no games feed: season ${season} is rated from what the data folder holds`);
  return emptyIngestSummary();
}

/**
 * The season (the feed, or the generated one) into the event store, noting each game's
 * season; invalid rows stop the run before anything is rated.
 */
async function ingestSeason(
  phases: Phases,
  flags: StartFlags,
  runtime: EmbeddedRuntime,
  sample: Season | undefined,
  seasons: Map<string, number>,
  interrupt: Interrupt,
  /** The feed is a stream, read once: not checked before, its unknown columns named here. */
  streamed: boolean,
): Promise<IngestSummary> {
  const problems: GameProblem[] = [];
  const ingesting = phases.begin('ingest', ROWS_STORED);
  const progress = rowsStored(flags.games, ingesting, sample?.games.length);
  const rows = progress.source(
    interrupt.stopping(
      observe(
        sample
          ? sampleRows(sample)
          : streamGames(flags.games ?? '-', {
              ...neutralOf(flags),
              // A feed file's unknown columns were named by its check.
              ...(flags.games === undefined || streamed
                ? {
                    onUnknownColumn: unknownColumnWarnings(flags.games ?? '-', (line) =>
                      phases.interject(line),
                    ),
                  }
                : {}),
            }),
        seasons,
        problems,
      ),
    ),
  );
  // Rows the store did not take (refused: a changed result of an expired season; or failed).
  const notStored: Reject[] = [];
  const ingested: IngestSummary = await ingestGames(rows, {
    store: runtime.store,
    concurrency: 16,
    onRow: progress.settled,
    onReject: (reject) => {
      if (problems.length === 0) notStored.push(reject);
    },
  }).catch((error: unknown) => {
    if (!(error instanceof IngestStoppedError)) throw error;
    ingesting.end();
    throw ingestStopped(error, flags.games ?? 'the feed');
  });
  if (problems.length > 0) {
    ingesting.end();
    reportProblems(flags.games ?? 'games', problems);
    // A stream (or a file changed since it was checked): its valid rows are stored.
    const stored = ingested.appended + ingested.corrected + ingested.unchanged;
    throw new CliError(
      `${counted(problems.length, 'invalid row')}; nothing rated${flags.dataDir && stored > 0 ? `, though its ${counted(stored, 'valid row')} ${stored === 1 ? 'is' : 'are'} stored in ${flags.dataDir} (fix the rows and run again: a row stored already is not appended twice)` : ' (fix them, or ingest with "matchstream ingest" to keep the rest)'}`,
      EXIT.INVALID_INPUT,
    );
  }
  if (interrupt.caught) {
    ingesting.end(`interrupted after ${counted(ingested.read, 'row')}`);
    interrupt.check();
  }
  ingesting.end(
    `${counted(ingested.read, 'row')} stored: ${ingested.appended.toLocaleString('en-US')} new, ${ingested.unchanged.toLocaleString('en-US')} unchanged, ${ingested.corrected.toLocaleString('en-US')} corrected${ingested.rejected > 0 ? `, ${ingested.rejected.toLocaleString('en-US')} refused` : ''}; ${counted(ingested.teams_registered, 'team')} registered`,
  );
  reportProblems(flags.games ?? 'games', notStored);
  if (ingested.failed > 0)
    throw new CliError(`${counted(ingested.failed, 'row')} could not be stored`);
  if (ingested.rejected > 0)
    throw new CliError(
      `${counted(ingested.rejected, 'row')} refused; nothing rated (a closed season expired from the table takes no changed results)`,
      EXIT.INVALID_INPUT,
    );
  return ingested;
}

const ROWS_CHECKED: CountWords = { unit: 'rows', verb: 'checked' };

/**
 * Reads the feed once, validating every row without storing any: its invalid rows are
 * reported and the run stops (exit 3) with nothing stored. Resolves to the games of each
 * season it holds.
 */
async function checkFeed(
  phases: Phases,
  games: string,
  flags: NeutralFlags,
): Promise<Map<string, number>> {
  const checking = phases.begin('check', ROWS_CHECKED);
  const problems: GameProblem[] = [];
  const seasons = new Map<string, number>();
  let rows = 0;
  // A batch is a megabyte of the feed: progress once a batch.
  const rowsOf = streamGames(games, {
    ...neutralOf(flags),
    onUnknownColumn: unknownColumnWarnings(games, (line) => phases.interject(line)),
  });
  for await (const batch of rowsOf) {
    for (const item of batch) {
      if (item.kind === 'problem') problems.push(item);
      else {
        rows++;
        seasons.set(item.game.season, (seasons.get(item.game.season) ?? 0) + 1);
      }
    }
    checking.progress({ done: rows + problems.length });
  }
  if (problems.length > 0) {
    checking.end();
    reportProblems(games, problems);
    throw new CliError(
      `${counted(problems.length, 'invalid row')}; nothing stored, nothing rated (fix them, or ingest with "matchstream ingest" to keep the rest)`,
      EXIT.INVALID_INPUT,
    );
  }
  checking.end(`${counted(rows, 'row')} valid`);
  return seasons;
}

/** "2025: 1 game, 2026: 3,399 games", by season. */
function seasonCounts(seasons: ReadonlyMap<string, number>): string {
  return [...seasons]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([season, games]) => `${season}: ${counted(games, 'game')}`)
    .join(', ');
}

/** A generated season as validated feed rows. */
async function* sampleRows(season: Season): AsyncGenerator<GameRow[]> {
  for (let i = 0; i < season.games.length; i += 1000) {
    yield season.games
      .slice(i, i + 1000)
      .map((game, j) => ({ kind: 'game', line: i + j + 2, game, fields: {} }));
  }
}

/** Passes rows through, noting each game's season and keeping the problems. */
async function* observe(
  batches: AsyncIterable<(GameRow | GameProblem)[]>,
  seasons: Map<string, number>,
  problems: GameProblem[],
): AsyncGenerator<(GameRow | GameProblem)[]> {
  for await (const batch of batches) {
    for (const item of batch) {
      if (item.kind === 'game')
        seasons.set(item.game.season, (seasons.get(item.game.season) ?? 0) + 1);
      else problems.push(item);
    }
    yield batch;
  }
}

/**
 * The top of the rankings as `start` prints them: rank, team, W-L-T and RPI, the team column
 * as wide as its widest name in terminal cells, so wide (CJK) names keep the columns straight.
 */
export function topTable(top: readonly RankingEntry[]): string[] {
  const width = Math.max(4, ...top.map((r) => displayWidth(r.team)));
  return [
    `${'Rank'.padStart(4)}  ${padCells('Team', width)}  ${'W-L-T'.padStart(8)}  ${'RPI'.padStart(6)}`,
    ...top.map(
      (r) =>
        `${String(r.rank ?? '-').padStart(4)}  ${padCells(r.team, width)}  ${`${r.wins}-${r.losses}-${r.ties}`.padStart(8)}  ${r.rpi === null ? '     -' : r.rpi.toFixed(4)}`,
    ),
  ];
}
