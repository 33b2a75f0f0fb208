/**
 * SIGKILLs in the middle of a saga: a season is rated on a data folder (`matchstream start`),
 * then RPI sagas run on it one after another (`matchstream saga start rpi`), every other one
 * with `update_cache` failing for good, so that what ran is compensated. Each saga's process is
 * killed with SIGKILL at a seeded AWS call of the saga (an append to its stream or its
 * calculation's, a write of its snapshots or of the rankings cache), and `matchstream saga
 * resume` carries on, killed again at a later call, until a run is left to finish. The same saga
 * run unkilled on a copy of the folder is the reference: the killed one must end as it does
 * (status, steps and compensations, the calculation's events, the cached rankings and what they
 * replaced, the snapshots left), each effect once. Then the folder is reconciled as after the
 * crash scenario.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROFILE_NAME } from '../domain/rpi/RpiProfile.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../feeds/writeGames.js';
import { SAGA_TABLES, startPipeline } from '../pipeline/embeddedPipeline.js';
import { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import { calculationStream } from '../sagas/rpi/calculationStream.js';
import { type CachedRankings, readCache, readScope } from '../sagas/rpi/rankingsCache.js';
import { calculationOf } from '../sagas/rpi/rpiSaga.js';
import { sagaStream } from '../sagas/SagaCoordinator.js';
import { foldSaga, type SagaState } from '../sagas/sagaState.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { EVENTS_TABLE } from '../stream/eventStore/eventsTable.js';
import { openEventStore } from '../stream/local/openEventStore.js';
import { runMatchstream } from './command.js';
import { seasonFeeds } from './crash.js';
import { reconcile } from './reconcile.js';
import { type Rng, seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface SagaCrashOptions {
  /** Where the data folders, feeds and traces go (a fresh folder). */
  readonly dir: string;
  /** The built command line (`dist/cli/main.js`). */
  readonly cli: string;
  readonly seed: number;
  /** SIGKILLs over the run, across its sagas. */
  readonly kills: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
  /** Most kills of one saga. @default 3 */
  readonly killsPerSaga?: number;
  /** How long one run of a command may take. @default 300000 */
  readonly finishWithinMs?: number;
  readonly log?: (line: string) => void;
}

/** The fault that makes a saga compensate: `update_cache` fails at every attempt. */
const COMPENSATING = 'saga:update_cache';

/** What a kill point counts: the saga's own writes (see `killAt.ts` for `TABLE/KIND`). */
const SAGA_TARGETS = [
  `${EVENTS_TABLE}/saga`,
  `${EVENTS_TABLE}/rpi`,
  SAGA_TABLES.work,
  SAGA_TABLES.cache,
] as const;
const WRITES = new Set(['PutItem', 'BatchWriteItem', 'UpdateItem', 'DeleteItem']);

/** One write of the saga in the reference run, as a kill point counts it. */
interface SagaCall {
  readonly operation: string;
  readonly target: string;
}

/** One SIGKILL: where it was aimed, and where the saga stood when its process died. */
export interface SagaKill {
  readonly saga: number;
  readonly command: 'saga start' | 'saga resume';
  readonly kill_at: string;
  /** Whether the saga was running its steps or its compensations, or had ended. */
  readonly phase: 'steps' | 'compensations' | 'ended';
  /** The step or compensation under way (`publish_results (in_progress, attempt 1)`). */
  readonly landed: string;
}

/** How a saga ended, in the terms that must not depend on kills. */
interface SagaEnd {
  readonly status: string;
  readonly failed_step: string | null;
  /** Each step's status and its compensation's. */
  readonly steps: readonly string[];
  /** The calculation's events, in order. */
  readonly calculation: readonly string[];
  /** Moves done more than once: a step or compensation completed twice. */
  readonly repeated: readonly string[];
  /** The season's current rankings and the scope's: whose, what they replaced, their ratings. */
  readonly cache: readonly string[];
  /** The saga's snapshots left in its work table. */
  readonly snapshots: readonly string[];
}

/** What a data folder holds of one saga, and the failures injected into it. */
async function sagaEnd(
  data: string,
  sagaId: string,
  season: string,
): Promise<SagaEnd & { injected: number }> {
  const opened = await openEventStore({ dataDir: data, readOnly: true });
  try {
    const events = await opened.store.read(sagaStream(sagaId));
    const state = foldSaga(events);
    if (!state) throw new Error(`there is no saga ${sagaId} in ${data}`);
    const moves = new Map<string, number>();
    for (const e of events)
      if (e.event_type === 'SagaStepCompleted' || e.event_type === 'SagaCompensationCompleted') {
        const key = `${e.event_type} ${String(e.data.step_name)}`;
        moves.set(key, (moves.get(key) ?? 0) + 1);
      }
    const calculationId = calculationOf(sagaId);
    const calculation = await opened.store.read(calculationStream(calculationId));
    const cache = await DynamoDocumentStore.open(opened.client, SAGA_TABLES.cache);
    // The calculation ids differ between the folders: the saga's own is named as `ours`.
    const whose = (id: string | null | undefined) => (id === calculationId ? 'ours' : String(id));
    const described = (which: string, doc: CachedRankings | undefined) =>
      doc
        ? `${which}: ${whose(doc.calculation_id)} replacing ${whose(doc.previous_calculation_id)}, ${doc.games_counted} games, ${doc.rankings.map((r) => `${r.team}=${r.rpi}`).join(' ')}`
        : `${which}: none`;
    const work = await DynamoDocumentStore.open(opened.client, SAGA_TABLES.work);
    const keys = ['games', 'previous-cache', 'previous-scope'].map((sk) => ({
      pk: `saga#${sagaId}`,
      sk,
    }));
    const kept = await work.getMany(keys);
    return {
      injected: events.filter(
        (e) => e.event_type === 'SagaStepFailed' && e.data.error.startsWith('injected'),
      ).length,
      status: state.status,
      failed_step: state.failedStep ?? null,
      steps: state.steps.map((s) => `${s.name} ${s.status}, compensation ${s.compensation.status}`),
      calculation: calculation.map((e) => e.event_type),
      repeated: [...moves].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`),
      cache: [
        described('current', await readCache(cache, season)),
        described(
          'scope',
          await readScope(cache, {
            season,
            as_of: null,
            profile: DEFAULT_PROFILE_NAME,
            division: null,
            variant: 'unadjusted',
          }),
        ),
      ],
      snapshots: keys.filter((k) => kept.has(`${k.pk}\u0000${k.sk}`)).map((k) => k.sk),
    };
  } finally {
    await opened.close();
  }
}

/** Where a saga stands: its phase, and the step or compensation under way, in words. */
function standing(state: SagaState | undefined): Pick<SagaKill, 'phase' | 'landed'> {
  if (state?.status === 'in_progress') {
    const step = state.steps.find((s) => s.status !== 'completed');
    return {
      phase: 'steps',
      landed: step ? `${step.name} (${step.status}, attempt ${step.attempt})` : 'every step done',
    };
  }
  if (state?.status === 'compensating') {
    const undoing = [...state.steps]
      .reverse()
      .find(
        (s) =>
          (s.status === 'completed' || s.status === 'failed') &&
          s.compensation.status !== 'completed',
      );
    return {
      phase: 'compensations',
      landed: undoing
        ? `${state.compensations[undoing.name] ?? undoing.name} (${undoing.compensation.status}, attempt ${undoing.compensation.attempt})`
        : 'every compensation done',
    };
  }
  return { phase: 'ended', landed: state ? state.status : 'no saga' };
}

/** The sagas of a data folder, and how far each is. */
async function sagasIn(data: string): Promise<Map<string, SagaState | undefined>> {
  const opened = await openEventStore({ dataDir: data, readOnly: true });
  try {
    const streams = new Map<string, EventEnvelope[]>();
    for await (const page of opened.store.readAll())
      for (const e of page) {
        if (!e.aggregate_id.startsWith('saga:')) continue;
        const list = streams.get(e.aggregate_id) ?? [];
        list.push(e);
        streams.set(e.aggregate_id, list);
      }
    return new Map(
      [...streams].map(([id, events]) => [
        id.slice('saga:'.length),
        foldSaga(events.sort((a, b) => a.sequence - b.sequence)),
      ]),
    );
  } finally {
    await opened.close();
  }
}

/** The saga's writes in a traced run, in order (the lines `killAt.ts` appends). */
function sagaCalls(trace: string): SagaCall[] {
  return readFileSync(trace, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const [operation = '', ...targets] = line.split(' ');
      if (!WRITES.has(operation)) return [];
      const target = SAGA_TARGETS.find((t) => targets.includes(t));
      return target ? [{ operation, target }] : [];
    });
}

/**
 * Kill points for a saga's processes: each a seeded call of the reference run after the one
 * before, counted (`OPERATION:TARGET:N`) from that one on, as the process resumed there counts.
 * With `compensationFrom` (the first call of the compensations), the last kill comes in the
 * compensations and the others before them.
 */
function killPoints(
  calls: readonly SagaCall[],
  most: number,
  rng: Rng,
  compensationFrom?: number,
): string[] {
  const points: string[] = [];
  let from = 0;
  const kills = 1 + Math.floor(rng() * most);
  for (let k = 0; k < kills && from < calls.length; k++) {
    const last = k === kills - 1;
    // Within the first half of what is left, so that a later kill has calls left to land on.
    const half = (end: number) => from + Math.ceil((end - from) / 2);
    const [low, high] =
      compensationFrom === undefined
        ? [from, half(calls.length)]
        : last
          ? [Math.max(from, compensationFrom), calls.length]
          : [from, half(compensationFrom)];
    if (low >= high) continue;
    const at = low + Math.floor(rng() * (high - low));
    const call = calls[at] as SagaCall;
    const n = calls
      .slice(from, at + 1)
      .filter((c) => c.operation === call.operation && c.target === call.target).length;
    points.push(`${call.operation}:${call.target}:${n}`);
    from = at + 1;
  }
  return points;
}

/**
 * The first of the calls made after a saga turned to compensating: the saga's appends are its
 * events in order, and the one that failed a step for good is the turn.
 */
async function compensationStart(
  calls: readonly SagaCall[],
  data: string,
  sagaId: string,
): Promise<number> {
  const opened = await openEventStore({ dataDir: data, readOnly: true });
  try {
    const events = await opened.store.read(sagaStream(sagaId));
    const turn = events.findIndex(
      (e) => e.event_type === 'SagaStepFailed' && e.data.will_retry === false,
    );
    if (turn < 0) return calls.length;
    let appends = 0;
    const at = calls.findIndex(
      (c) => c.operation === 'PutItem' && c.target === `${EVENTS_TABLE}/saga` && ++appends > turn,
    );
    return at < 0 ? calls.length : at + 1;
  } finally {
    await opened.close();
  }
}

export async function sagaCrashScenario(options: SagaCrashOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const rng = seededRng(options.seed);
  const within = options.finishWithinMs ?? 300_000;
  const { chunks, final } = seasonFeeds({ ...options, chunks: 2 }, rng);
  const season = final[0]?.season ?? '2026';
  const data = join(options.dir, 'data');
  mkdirSync(data, { recursive: true });
  // The season, rated: the sagas to kill rate it again.
  for (const [i, chunk] of chunks.entries()) {
    const feed = join(options.dir, `feed-${i}.csv`);
    writeFileSync(feed, `${[GAMES_CSV_HEADER, ...chunk.map(gameCsvRow)].join('\n')}\n`);
    const run = await runMatchstream(
      options.cli,
      ['start', '--games', feed, '--data-dir', data, '--json', '--quiet'],
      within,
    );
    if (run.code !== 0) throw new Error(`saga-crash: start exited ${run.code}: ${run.stderr}`);
  }

  const kills: SagaKill[] = [];
  const sagas: { saga: number; compensating: boolean; saga_id: string; kill_points: string[] }[] =
    [];
  const differences: string[] = [];
  let repeated = 0;
  let injectedFailures = 0;
  // Sagas until the kills are spent (a kill point the run never reaches spends none), bounded.
  for (let n = 0; kills.length < options.kills && n < options.kills * 3; n++) {
    const compensating = n % 2 === 1;
    const faults = compensating ? ['--inject-fault', COMPENSATING] : [];
    const expectedCode = compensating ? 1 : 0;
    const start = ['saga', 'start', 'rpi', '--season', season, '--data-dir'];

    // The reference: the same saga, never killed, on a copy of the folder as it is now.
    const reference = join(options.dir, `reference-${n}`);
    rmSync(reference, { recursive: true, force: true });
    cpSync(data, reference, { recursive: true });
    const trace = join(options.dir, `trace-${n}.txt`);
    const before = new Set((await sagasIn(reference)).keys());
    const referenceRun = await runMatchstream(
      options.cli,
      [...start, reference, ...faults, '--json'],
      within,
      { trace },
    );
    if (referenceRun.code !== expectedCode)
      throw new Error(
        `saga-crash: the reference saga ${n} exited ${referenceRun.code}: ${referenceRun.stderr}`,
      );
    const referenceId = [...(await sagasIn(reference)).keys()].find((id) => !before.has(id));
    if (!referenceId) throw new Error(`saga-crash: the reference saga ${n} is not in its folder`);
    const calls = sagaCalls(trace);
    const points = killPoints(
      calls,
      Math.min(options.killsPerSaga ?? 3, options.kills - kills.length),
      rng,
      compensating ? await compensationStart(calls, reference, referenceId) : undefined,
    );

    // The same saga, killed at each point in turn, resumed each time, then left to finish.
    let sagaId: string | undefined;
    let finished = false;
    for (const [k, killAt] of points.entries()) {
      const command = k === 0 ? 'saga start' : 'saga resume';
      const args =
        k === 0
          ? [...start, data, ...faults, '--json']
          : ['saga', 'resume', '--data-dir', data, ...faults, '--json'];
      const run = await runMatchstream(options.cli, args, within, { killAt });
      const found = await sagasIn(data);
      sagaId ??= [...found.keys()].find((id) => !before.has(id));
      if (!run.killed) {
        if (run.code !== expectedCode)
          throw new Error(
            `saga-crash: saga ${n} (${command}, kill points ${points.join(', ')}) exited ${run.code}: ${run.stderr}`,
          );
        log(`saga ${n}: ended before ${killAt}`);
        finished = true;
        break;
      }
      const stood = standing(sagaId ? found.get(sagaId) : undefined);
      kills.push({ saga: n, command, kill_at: killAt, ...stood });
      log(
        `saga ${n}${compensating ? ' (compensating)' : ''}: ${command} killed at ${killAt}, in its ${stood.phase}: ${stood.landed}`,
      );
    }
    if (!finished) {
      const run = await runMatchstream(
        options.cli,
        ['saga', 'resume', '--data-dir', data, ...faults, '--json'],
        within,
      );
      if (run.code !== 0 && run.code !== expectedCode)
        throw new Error(
          `saga-crash: saga ${n} resumed after kills at ${points.join(', ')} exited ${run.code}: ${run.stderr}`,
        );
    }
    sagaId ??= [...(await sagasIn(data)).keys()].find((id) => !before.has(id));
    if (!sagaId) throw new Error(`saga-crash: saga ${n} is not in the data folder`);
    sagas.push({ saga: n, compensating, saga_id: sagaId, kill_points: points });

    // As if never killed: the same end as the reference's, each move once.
    const { injected, ...killed } = await sagaEnd(data, sagaId, season);
    const { injected: _, ...unkilled } = await sagaEnd(reference, referenceId, season);
    injectedFailures += injected;
    repeated += killed.repeated.length;
    for (const key of Object.keys(unkilled) as (keyof SagaEnd)[]) {
      const a = JSON.stringify(killed[key]);
      const b = JSON.stringify(unkilled[key]);
      if (a === b) continue;
      const why = `saga ${n} (kill points ${points.join(', ')}): ${key} ${a.slice(0, 300)} where the unkilled saga has ${b.slice(0, 300)}`;
      differences.push(why);
      log(why);
    }
    rmSync(reference, { recursive: true, force: true });
  }

  // Reconcile, in this process, on the folder the sagas ran on.
  const pipeline = await startPipeline({ dataDir: data });
  try {
    const found = await reconcile(pipeline, chunks, final, log);
    return {
      scenario: 'saga-crash',
      seed: options.seed,
      ...found.result,
      passed: found.result.passed && differences.length === 0 && repeated === 0,
      duplicated: found.result.duplicated + repeated,
      divergences: found.result.divergences + differences.length,
      kills: kills.length,
      // The failed attempts of update_cache that made sagas compensate.
      faults_injected: injectedFailures,
      details: {
        ...found.details,
        sagas,
        kills,
        kills_in_steps: kills.filter((k) => k.phase === 'steps').length,
        kills_in_compensations: kills.filter((k) => k.phase === 'compensations').length,
        differences,
      },
    };
  } finally {
    await pipeline.stop();
  }
}
