import { describe, expect, it } from 'vitest';
import { parseAdjustmentOverrides } from '../../../domain/rpi/adjustments.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { computeRpiVariant } from '../../../domain/rpi/computeRpiVariant.js';
import { resolveProfile } from '../../../domain/rpi/RpiProfile.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { Projector } from '../../../projections/Projector.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { decide, HELD_POLL_MS } from '../../../sagas/decide.js';
import { FaultPlan, faultHook, type StepFault } from '../../../sagas/faults.js';
import { calculationStream } from '../../../sagas/rpi/calculationStream.js';
import { readCache, readScope, writeCache } from '../../../sagas/rpi/rankingsCache.js';
import {
  calculationOf,
  RPI_STEPS,
  type RpiSagaData,
  type RpiStepName,
  rpiSaga,
  rpiSagaData,
} from '../../../sagas/rpi/rpiSaga.js';
import { SagaCoordinator, type StepHook, sagaStream } from '../../../sagas/SagaCoordinator.js';
import { foldSaga } from '../../../sagas/sagaState.js';
import { DependencyUnavailable } from '../../../stream/breaker/DependencyUnavailable.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { envelope, recordedGame } from '../../support/envelopes.js';
import { registry } from '../../support/registry.js';

const season = generateSeason({ teams: 12, gamesPerTeam: 5, seed: 4 });

async function world(of = season, stepTimeoutMs = 300) {
  const store = new InMemoryEventStore(registry);
  const matches = new InMemoryDocumentStore();
  // The matches read model, as the stream would have built it.
  const events = of.games.map((g, i) => ({
    ...recordedGame(g, g.matchId ?? `m${i}`, `${g.date}T20:00:00.000Z`),
    event_id: `m${i}`,
  }));
  await new Projector(matchesProjection, matches).apply(events);
  const deps = {
    store,
    matches,
    teams: new InMemoryDocumentStore(),
    snapshots: new InMemoryDocumentStore(),
    cache: new InMemoryDocumentStore(),
    current: { profile: 'ncaa-soccer-2024', division: null },
    timeoutsMs: {
      collect_matches: stepTimeoutMs,
      calculate_rpi: stepTimeoutMs,
      publish_results: stepTimeoutMs,
      update_cache: stepTimeoutMs,
    },
    retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
  };
  const definition = rpiSaga(deps);
  const fast = {
    ...definition,
    compensationRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
  };
  return { ...deps, definition: fast };
}

const data: RpiSagaData = rpiSagaData(
  { season: '2026', as_of: null, profile: 'ncaa-soccer-2024', division: null, not_before: null },
  new Date('2026-11-01T12:00:00Z'),
);

/** Runs a saga to its end; a crashed coordinator is replaced by a new one, as a restart would. */
async function run(
  w: Awaited<ReturnType<typeof world>>,
  faults: StepFault[],
  sagaId: string,
  with_: Partial<RpiSagaData> = {},
) {
  const plan = new FaultPlan(faults);
  const coordinator = () =>
    new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      hook: faultHook(plan),
      activeSagas: async () => [sagaId],
      sweepIntervalMs: 50,
    });
  let current = coordinator();
  await current.begin(w.definition, { ...data, ...with_ }, sagaId);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (current.hasCrashed) {
      await current.stop();
      current = coordinator();
      current.start();
    }
    const events = await w.store.read(sagaStream(sagaId));
    const last = events.at(-1);
    if (
      last?.event_type === 'SagaCompleted' ||
      last?.event_type === 'SagaCompensated' ||
      (last?.event_type === 'SagaCompensationFailed' && !last.data.will_retry)
    ) {
      await current.stop();
      return events;
    }
    if (Date.now() > deadline) throw new Error(`saga ${sagaId} stuck after ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A first saga completes, so that later ones have previous rankings to fall back to. */
async function withPrevious() {
  const w = await world();
  await run(w, [], 'first');
  return w;
}

function counts(types: string[]) {
  const out: Record<string, number> = {};
  for (const t of types) out[t] = (out[t] ?? 0) + 1;
  return out;
}

describe('RPI calculation saga', () => {
  it('collects, calculates, publishes and caches, each effect once', async () => {
    const w = await world();

    const events = await run(w, [], 's1');

    expect(events.map((e) => e.event_type).filter((t) => t !== 'SagaStepStarted')).toEqual([
      'SagaStarted',
      'SagaStepCompleted',
      'SagaStepCompleted',
      'SagaStepCompleted',
      'SagaStepCompleted',
      'SagaCompleted',
    ]);
    const calc = await w.store.read(calculationStream(calculationOf('s1')));
    expect(calc.map((e) => e.event_type)).toEqual([
      'RpiCalculated',
      'RpiResultsPublished',
      'RankingsCacheUpdated',
    ]);
    const cached = await readCache(w.cache, '2026');
    expect(cached?.calculation_id).toBe(calculationOf('s1'));
    expect(cached?.rankings.map((r) => [r.team, r.rpi])).toEqual(
      computeRpi(season.games).ratings.map((r) => [r.team, r.rpi]),
    );
  });

  const faults: [RpiStepName, StepFault['mode']][] = RPI_STEPS.flatMap((step) =>
    (['error', 'timeout'] as const).map((mode): [RpiStepName, StepFault['mode']] => [step, mode]),
  );

  it.each(faults)(
    'compensates when %s fails (%s), back to the rankings before, nothing half-applied',
    async (step, mode) => {
      // Prepare
      const w = await withPrevious();
      const before = await readCache(w.cache, '2026');

      // Act
      const events = await run(w, [{ step, mode }], 'faulty');

      // Assess: compensated; the failed step and those before it undone, last first.
      expect(events.at(-1)?.event_type).toBe('SagaCompensated');
      const undone = events
        .filter((e) => e.event_type === 'SagaCompensationCompleted')
        .map((e) => e.data.step_name);
      const ran = RPI_STEPS.slice(0, RPI_STEPS.indexOf(step) + 1);
      expect(undone).toEqual([...ran].reverse());
      expect(await readCache(w.cache, '2026')).toEqual(before);
      const calc = await w.store.read(calculationStream(calculationOf('faulty')));
      const types = counts(calc.map((e) => e.event_type));
      for (const n of Object.values(types)) expect(n).toBe(1);
      if (types.RpiCalculated) expect(calc.at(-1)?.event_type).toBe('RpiResultsRetracted');
      expect(counts(events.map((e) => e.event_type)).SagaStepFailed).toBe(2); // both attempts
    },
  );

  it.each(
    RPI_STEPS.flatMap((step) =>
      (['before', 'after'] as const).map((when): [RpiStepName, 'before' | 'after'] => [step, when]),
    ),
  )(
    'resumes after the coordinator crashes in %s (%s its effect), running no effect twice',
    async (step, when) => {
      const w = await withPrevious();

      const events = await run(w, [{ step, mode: 'crash', crash: when }], 'crashy');

      expect(events.at(-1)?.event_type).toBe('SagaCompleted');
      const completed = events
        .filter((e) => e.event_type === 'SagaStepCompleted')
        .map((e) => e.data.step_name);
      expect(completed).toEqual([...RPI_STEPS]);
      const calc = await w.store.read(calculationStream(calculationOf('crashy')));
      expect(calc.map((e) => e.event_type)).toEqual([
        'RpiCalculated',
        'RpiResultsPublished',
        'RankingsCacheUpdated',
      ]);
      expect((await readCache(w.cache, '2026'))?.calculation_id).toBe(calculationOf('crashy'));
    },
  );

  it.each(RPI_STEPS)(
    'retries a compensation of %s that fails once, and still ends compensated',
    async (step) => {
      const w = await withPrevious();
      const before = await readCache(w.cache, '2026');

      const events = await run(
        w,
        [
          { step: 'update_cache', mode: 'error' },
          { step, mode: 'error', in: 'compensation', times: 1 },
        ],
        'bumpy',
      );

      expect(events.at(-1)?.event_type).toBe('SagaCompensated');
      expect(
        events
          .filter((e) => e.event_type === 'SagaCompensationFailed')
          .map((e) => e.data.step_name),
      ).toEqual([step]);
      expect(await readCache(w.cache, '2026')).toEqual(before);
      const calc = await w.store.read(calculationStream(calculationOf('bumpy')));
      expect(calc.map((e) => e.event_type)).toEqual([
        'RpiCalculated',
        'RpiResultsPublished',
        'RpiResultsRetracted',
      ]);
    },
  );

  it('ends failed, for an operator, when a compensation keeps failing', async () => {
    const w = await withPrevious();

    const events = await run(
      w,
      [
        { step: 'publish_results', mode: 'error' },
        { step: 'calculate_rpi', mode: 'error', in: 'compensation' },
      ],
      'stuck',
    );

    expect(events.at(-1)).toMatchObject({
      event_type: 'SagaCompensationFailed',
      data: { step_name: 'calculate_rpi', will_retry: false },
    });
    // What could be undone was: the results of the failed step are retracted.
    const calc = await w.store.read(calculationStream(calculationOf('stuck')));
    expect(calc.at(-1)?.event_type).toBe('RpiResultsRetracted');
  });
});

describe('RPI calculation saga: rankings of thousands of teams', () => {
  it('replaces them in the cache, and its compensation puts them back whole', async () => {
    // Prepare: the season's current rankings are of 2,500 teams, more than one item's worth.
    const w = await world();
    const line = computeRpi(season.games).ratings[0] as ReturnType<typeof computeRpi>['ratings'][0];
    const prior = {
      season: '2026',
      calculation_id: calculationOf('prior'),
      as_of: null,
      profile: 'ncaa-soccer-2024',
      division: null,
      variant: 'unadjusted' as const,
      games_counted: 25_000,
      computed_at: '2026-10-01T00:00:00.000Z',
      published_at: '2026-10-01T00:00:01.000Z',
      rankings: Array.from({ length: 2_500 }, (_, i) => ({ ...line, rank: i + 1, team: `T${i}` })),
      previous_calculation_id: null,
      saga_id: null,
      collected_at: '2026-10-01T00:00:00.000Z',
    };
    await writeCache(w.cache, prior);
    expect(w.cache.all().length).toBeGreaterThan(3);

    // Act
    const events = await run(w, [], 'large');

    // Assess: ours in place, and nothing left of the rankings it replaced but the saga's copy.
    expect(events.at(-1)?.event_type).toBe('SagaCompleted');
    expect((await readCache(w.cache, '2026'))?.calculation_id).toBe(calculationOf('large'));
    expect(w.cache.all().filter((d) => d.sk.includes('#part#'))).toEqual([]);

    // Act: undo the cache update, as a later failure would.
    const step = w.definition.steps.find((s) => s.name === 'update_cache');
    await step?.compensation?.run({
      sagaId: 'large',
      data,
      output: undefined,
      attempt: 1,
      signal: new AbortController().signal,
    });

    // Assess
    expect(await readCache(w.cache, '2026')).toEqual(prior);
    expect(w.cache.all().filter((d) => d.sk.includes('#part#'))).toHaveLength(3);
  });
});

describe('the coordinator in a short-lived function (wake, driveOnBegin)', () => {
  const lambdaCoordinator = (w: Awaited<ReturnType<typeof world>>, sleep: boolean) => {
    const asked: number[] = [];
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      driveOnBegin: false,
      wake: (until) => {
        asked.push(until);
        return sleep;
      },
    });
    return { coordinator, asked };
  };
  const later = (ms: number): RpiSagaData => ({
    ...data,
    not_before: new Date(Date.now() + ms).toISOString(),
  });

  it('starts a saga without driving it, then drives it to the end, sleeping through its wait', async () => {
    const w = await world();
    const { coordinator, asked } = lambdaCoordinator(w, true);

    await coordinator.begin(w.definition, later(30), 'slept');
    const begun = (await w.store.read(sagaStream('slept'))).map((e) => e.event_type);
    await coordinator.driveAll(['slept']);

    expect(begun).toEqual(['SagaStarted']);
    expect(asked).toHaveLength(1);
    expect((await w.store.read(sagaStream('slept'))).at(-1)?.event_type).toBe('SagaCompleted');
  });

  it('tells wake how long the drive slept, so a start deferred again and again is left to the sweep', async () => {
    const w = await world();
    const slept: number[] = [];
    // Results keep arriving: each look finds the start deferred 20 ms on.
    const deferred = { ...w.definition, deferredUntil: async () => Date.now() + 20 };
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [deferred as never],
      driveOnBegin: false,
      wake: (until, sleptMs) => {
        slept.push(sleptMs);
        return sleptMs + (until - Date.now()) <= 100;
      },
    });

    await coordinator.begin(deferred, later(0), 'deferred');
    await coordinator.driveAll(['deferred']);

    expect((await w.store.read(sagaStream('deferred'))).map((e) => e.event_type)).toEqual([
      'SagaStarted',
    ]);
    expect(slept[0]).toBe(0);
    expect(slept.length).toBeGreaterThan(2);
    expect(slept).toEqual([...slept].sort((a, b) => a - b));
    expect(slept.at(-1)).toBeGreaterThan(60);
  });

  it('begins a saga that comes after another only once that one ended, driven by its end', async () => {
    const w = await world();
    const { coordinator, asked } = lambdaCoordinator(w, false);
    const ended = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      driveOnBegin: false,
      // What the sweep finds active: the saga's end drives the one waiting for it.
      activeSagas: async () => ['earlier', 'later'],
      wake: () => false,
    });
    await coordinator.begin(w.definition, data, 'earlier');

    await coordinator.begin(w.definition, { ...data, after: 'earlier' }, 'later');
    await coordinator.driveAll(['later']);
    const whileEarlierRuns = (await w.store.read(sagaStream('later'))).map((e) => e.event_type);
    await ended.driveAll(['earlier']);
    for (let looks = 0; looks < 500; looks++) {
      if ((await w.store.read(sagaStream('later'))).at(-1)?.event_type === 'SagaCompleted') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await ended.stop();

    expect(whileEarlierRuns).toEqual(['SagaStarted']);
    expect(asked).toHaveLength(1);
    const earlier = await w.store.read(sagaStream('earlier'));
    const later = await w.store.read(sagaStream('later'));
    expect(later.at(-1)?.event_type).toBe('SagaCompleted');
    // It began after the other ended.
    expect(Date.parse(later[1]?.timestamp ?? '')).toBeGreaterThanOrEqual(
      Date.parse(earlier.at(-1)?.timestamp ?? ''),
    );
  });

  it('moves no saga while held, and drives the ones held back on release', async () => {
    const w = await world();
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
    });

    await coordinator.hold();
    await coordinator.begin(w.definition, data, 'held');
    await coordinator.driveAll(['held']);
    const whileHeld = (await w.store.read(sagaStream('held'))).map((e) => e.event_type);
    await coordinator.release();
    const state = await coordinator.waitFor('held', 20_000);
    await coordinator.stop();

    expect(whileHeld).toEqual(['SagaStarted']);
    expect(state.status).toBe('completed');
  });

  it('leaves a saga that must wait longer to the next drive (the sweep), setting no timer', async () => {
    const w = await world();
    const { coordinator, asked } = lambdaCoordinator(w, false);

    await coordinator.begin(w.definition, later(60_000), 'left');
    await coordinator.driveAll(['left']);
    await coordinator.stop();

    expect(asked).toEqual([expect.any(Number)]);
    expect((await w.store.read(sagaStream('left'))).map((e) => e.event_type)).toEqual([
      'SagaStarted',
    ]);
  });
});

describe('RPI calculation saga: scopes', () => {
  const firstDay = season.games.map((g) => g.date).sort()[0] ?? '';
  const asOf = season.games.map((g) => g.date).sort()[Math.floor(season.games.length / 2)] ?? '';

  it("keeps a calculation as of a day, of another profile or division for its scope, leaving the season's current rankings", async () => {
    // Prepare: the season's current rankings, and a directory with a division I.
    const w = await withPrevious();
    const current = await readCache(w.cache, '2026');
    const teams = [...new Set(season.games.flatMap((g) => [g.homeTeam, g.awayTeam]))].sort();
    await w.teams.write(
      teams.map((t, i) => ({
        pk: 'team',
        sk: t,
        doc: { team_id: t, name: t, conference: null, division: i < 6 ? 'I' : 'II', region: null },
      })),
      [],
    );

    // Act
    await run(w, [], 'dated', { as_of: asOf });
    await run(w, [], 'hockey', { profile: 'ncaa-hockey' });
    await run(w, [], 'first-division', { division: 'I' });

    // Assess
    expect(await readCache(w.cache, '2026')).toEqual(current);
    const scope = {
      season: '2026',
      as_of: null,
      profile: 'ncaa-soccer-2024',
      division: null,
      variant: 'unadjusted' as const,
    };
    expect((await readScope(w.cache, { ...scope, as_of: asOf }))?.calculation_id).toBe(
      calculationOf('dated'),
    );
    expect((await readScope(w.cache, { ...scope, as_of: asOf }))?.games_counted).toBe(
      season.games.filter((g) => g.date <= asOf).length,
    );
    expect((await readScope(w.cache, { ...scope, profile: 'ncaa-hockey' }))?.profile).toBe(
      'ncaa-hockey',
    );
    const division = await readScope(w.cache, { ...scope, division: 'I' });
    expect(division).toMatchObject({
      division: 'I',
      calculation_id: calculationOf('first-division'),
    });
    const calculated = (await w.store.read(calculationStream(calculationOf('first-division'))))[0];
    expect(calculated?.data).toMatchObject({ division: 'I' });
    // The whole season in the season's own scope is kept under its scope too.
    expect((await readScope(w.cache, scope))?.calculation_id).toBe(current?.calculation_id);
  });

  it("computes the adjusted and non-conference RPI for scopes of their own, each team's unadjusted RPI beside, leaving the season's current rankings", async () => {
    // Prepare: the season's current rankings; a directory of three conferences; a whole table.
    const w = await withPrevious();
    const current = await readCache(w.cache, '2026');
    const teams = [...new Set(season.games.flatMap((g) => [g.homeTeam, g.awayTeam]))].sort();
    const conferences = Object.fromEntries(teams.map((t, i) => [t, `C${i % 3}`]));
    await w.teams.write(
      teams.map((t) => ({
        pk: 'team',
        sk: t,
        doc: { team_id: t, name: t, conference: conferences[t], division: null, region: null },
      })),
      [],
    );
    const sites = (home: number, neutral: number, away: number) => ({ home, neutral, away });
    const adjustments = parseAdjustmentOverrides({
      tiers: {
        'bonus-1': {
          first: 1,
          last: 2,
          win: sites(0.002, 0.0022, 0.0024),
          tie: sites(0.001, 0.001, 0.001),
        },
        'bonus-2': { first: 3, last: 4, win: sites(0.0016, 0.0018, 0.002), tie: sites(0, 0, 0) },
        'bonus-3': { first: 5, last: 6, win: sites(0.001, 0.0011, 0.0012), tie: sites(0, 0, 0) },
        'penalty-1': {
          first: 9,
          last: 10,
          tie: sites(0, 0, 0),
          loss: sites(0.002, 0.0017, 0.0015),
        },
        'penalty-2': {
          first: 11,
          last: 12,
          tie: sites(0.001, 0.001, 0.001),
          loss: sites(0.0026, 0.0024, 0.0022),
        },
      },
    });

    // Act
    await run(w, [], 'adjusted', { variant: 'adjusted', adjustments });
    await run(w, [], 'non-conference', { variant: 'non-conference' });
    const refused = await run(w, [], 'no-values', { variant: 'adjusted' });

    // Assess: each calculation is what the engine computes of the same games and conferences.
    for (const [sagaId, variant] of [
      ['adjusted', 'adjusted'],
      ['non-conference', 'non-conference'],
    ] as const) {
      const expected = computeRpiVariant(season.games, {
        profile: resolveProfile('ncaa-soccer-2024'),
        season: '2026',
        variant,
        conferences,
        ...(variant === 'adjusted' ? { adjustments } : {}),
      });
      const [calculated] = await w.store.read(calculationStream(calculationOf(sagaId)));
      expect(calculated?.data).toMatchObject({ variant, games_counted: season.games.length });
      expect((calculated?.data as { rankings?: unknown } | undefined)?.rankings).toEqual(
        expected.ratings.map((r) => ({
          rank: r.rank,
          team: r.team,
          games: r.games,
          wins: r.wins,
          losses: r.losses,
          ties: r.ties,
          wp: r.wp,
          owp: r.owp,
          oowp: r.oowp,
          rpi: r.rpi,
          unadjusted_rank: r.unadjustedRank,
          unadjusted_rpi: r.unadjustedRpi,
          adjustment: r.adjustment ?? null,
          bonus: null,
        })),
      );
      const scope = {
        season: '2026',
        as_of: null,
        profile: 'ncaa-soccer-2024',
        division: null,
        variant,
      };
      expect(await readScope(w.cache, scope)).toMatchObject({
        calculation_id: calculationOf(sagaId),
        variant,
      });
    }
    const adjusted = (await w.store.read(calculationStream(calculationOf('adjusted'))))[0]
      ?.data as {
      adjustments: string;
      rankings: { rpi: number | null; unadjusted_rpi: number | null }[];
    };
    expect(adjusted.rankings.some((r) => r.rpi !== r.unadjusted_rpi)).toBe(true);
    expect(JSON.parse(adjusted.adjustments)).toMatchObject({ games: 'non-conference' });
    // The unadjusted RPI of the whole season stays the season's current rankings.
    expect(await readCache(w.cache, '2026')).toEqual(current);
    // An adjusted RPI whose table lacks values fails at once, saying which, and is compensated.
    const failed = refused.find((e) => e.event_type === 'SagaStepFailed');
    expect(refused.at(-1)?.event_type).toBe('SagaCompensated');
    expect(failed?.data).toMatchObject({ step_name: 'calculate_rpi', will_retry: false });
    expect(String((failed?.data as { error?: string } | undefined)?.error)).toContain(
      'needs values no published source gave',
    );
  });

  it('records the days the calculation counts and the day it speaks for in the saga data', async () => {
    const w = await world();

    await run(w, [], 'ranged', { as_of: asOf, calculation_date: asOf });

    const state = foldSaga(await w.store.read(sagaStream('ranged')));
    const counted = season.games
      .filter((g) => g.date <= asOf)
      .map((g) => g.date)
      .sort();
    expect(state?.data).toMatchObject({
      calculation_date: asOf,
      date_range: { start: counted[0], end: counted.at(-1) },
    });
  });

  it.each([
    [{ division: 'Typo' }, 'no team of the team directory is in division "Typo"'],
    [
      { as_of: '2020-01-01' },
      `no game of season 2026 was played on or before 2020-01-01; the first was on ${firstDay}`,
    ],
    [{ season: '2031' }, 'no game of season 2031 has a result in the matches read model'],
  ] as [Partial<RpiSagaData>, string][])(
    'fails a calculation that counts no game (%o) at once, saying why, publishing nothing',
    async (scope, why) => {
      const w = await withPrevious();
      const before = await readCache(w.cache, '2026');

      const events = await run(w, [], 'empty', scope);

      expect(events.at(-1)?.event_type).toBe('SagaCompensated');
      const failures = events.filter((e) => e.event_type === 'SagaStepFailed');
      // Not retried: another attempt would count no game either.
      expect(failures.map((e) => [e.data.step_name, e.data.attempt, e.data.error])).toEqual([
        ['collect_matches', 1, why],
      ]);
      expect(foldSaga(events)).toMatchObject({ failedStep: 'collect_matches', error: why });
      expect(await w.store.read(calculationStream(calculationOf('empty')))).toEqual([]);
      expect(await readCache(w.cache, '2026')).toEqual(before);
    },
  );

  it('fails at once a calculation too large to store as one event, saying how many teams it rated', async () => {
    // A sparse season (3 games a team) gzips well, about 20 bytes a team: 22,000 teams pass
    // DynamoDB's 400 KB.
    const w = await world(generateSeason({ teams: 22000, gamesPerTeam: 3, seed: 6 }), 20_000);

    const events = await run(w, [], 'too-large');

    expect(events.at(-1)?.event_type).toBe('SagaCompensated');
    const failures = events.filter((e) => e.event_type === 'SagaStepFailed');
    // Not retried: the same teams make the same event.
    expect(failures.map((e) => [e.data.step_name, e.data.attempt])).toEqual([['calculate_rpi', 1]]);
    expect(failures[0]?.data.error).toMatch(
      /^the calculation of 22000 teams is too large to store as one event \(the append to .* takes \d+ bytes; DynamoDB items hold at most 409600\); about 10,000 teams playing 20 games each fit$/,
    );
    expect(await w.store.read(calculationStream(calculationOf('too-large')))).toEqual([]);
    expect(await w.snapshots.query('saga#too-large')).toEqual([]);
  });

  it('resumes a saga that an earlier release started and named the old way', async () => {
    // Prepare: the events of a saga written with hyphenated names, its first step done.
    const w = await withPrevious();
    const stream = sagaStream('legacy');
    await w.snapshots.write([{ pk: 'saga#legacy', sk: 'games', doc: { games: season.games } }], []);
    await w.store.append(stream, 0, [
      {
        event_type: 'SagaStarted',
        correlation_id: 'legacy',
        data: {
          saga_id: 'legacy',
          saga_type: 'rpi-calculation',
          steps: ['collect-matches', 'calculate-rpi', 'publish-results', 'update-cache'],
          data: JSON.stringify({
            season: '2026',
            as_of: null,
            profile: 'ncaa-soccer-2024',
            division: null,
            not_before: null,
          }),
          compensations: {
            'collect-matches': 'release-snapshot',
            'calculate-rpi': 'retract-calculation',
            'publish-results': 'retract-results',
            'update-cache': 'restore-cache',
          },
        },
      },
      {
        event_type: 'SagaStepStarted',
        correlation_id: 'legacy',
        data: {
          saga_id: 'legacy',
          step_name: 'collect-matches',
          attempt: 1,
          compensation: false,
          deadline: new Date(Date.now() + 60_000).toISOString(),
        },
      },
      {
        event_type: 'SagaStepCompleted',
        correlation_id: 'legacy',
        data: {
          saga_id: 'legacy',
          step_name: 'collect-matches',
          attempt: 1,
          output: JSON.stringify({
            snapshot: 'games',
            games: season.games.length,
            collected_at: new Date().toISOString(),
          }),
        },
      },
    ]);

    // Act: today's coordinator takes it over.
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
    });
    await coordinator.driveAll(['legacy']);
    await coordinator.stop();

    // Assess
    const events = await w.store.read(stream);
    expect(events.at(-1)?.event_type).toBe('SagaCompleted');
    expect(
      events.filter((e) => e.event_type === 'SagaStepCompleted').map((e) => e.data.step_name),
    ).toEqual(['collect-matches', 'calculate_rpi', 'publish_results', 'update_cache']);
    expect((await readCache(w.cache, '2026'))?.calculation_id).toBe(calculationOf('legacy'));
  });

  it('records RankingsCacheUpdated once, also after an attempt that wrote the cache and stopped before it', async () => {
    // Prepare: the steps before update_cache done, and the cache written by an attempt that died.
    const w = await world();
    const signal = new AbortController().signal;
    const outputs: Record<string, unknown> = {};
    const step = (name: RpiStepName) => w.definition.steps.find((s) => s.name === name);
    for (const name of ['collect_matches', 'calculate_rpi', 'publish_results'] as const)
      outputs[name] = await step(name)?.action({
        sagaId: 'torn',
        data,
        outputs,
        attempt: 1,
        signal,
      });
    const written = await step('update_cache')?.action({
      sagaId: 'torn',
      data,
      outputs,
      attempt: 1,
      signal,
    });
    const stream = calculationStream(calculationOf('torn'));
    const cached = await readCache(w.cache, '2026');
    const torn = new InMemoryEventStore(registry);
    for (const e of (await w.store.read(stream)).filter(
      (e) => e.event_type !== 'RankingsCacheUpdated',
    ))
      await torn.append(stream, e.sequence - 1, [e]);
    const retried = rpiSaga({ ...w, store: torn });
    const update = retried.steps.find((s) => s.name === 'update_cache');
    if (cached) await writeCache(w.cache, cached);

    // Act: the retry, and one more.
    await update?.action({ sagaId: 'torn', data, outputs, attempt: 2, signal });
    await update?.action({ sagaId: 'torn', data, outputs, attempt: 3, signal });

    // Assess
    expect(written).toEqual({ previous_calculation_id: null, current: true });
    expect((await torn.read(stream)).map((e) => e.event_type)).toEqual([
      'RpiCalculated',
      'RpiResultsPublished',
      'RankingsCacheUpdated',
    ]);
  });

  it('takes --inject-fault steps in either spelling', () => {
    expect(FaultPlan.parse('saga:collect-matches')).toEqual(
      FaultPlan.parse('saga:collect_matches'),
    );
    expect(FaultPlan.parse('saga:update-cache:timeout:compensation')).toEqual({
      step: 'update_cache',
      mode: 'timeout',
      in: 'compensation',
    });
  });
});

describe('an RPI saga whose dependency is held by an open breaker', () => {
  it('records no attempt while held, and runs the step at the trial time to completion', async () => {
    // Prepare: the cache's breaker open for the first two tries of update_cache.
    const w = await world();
    let held = 0;
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      hook: async (attempt, work) => {
        if (attempt.step === 'update_cache' && held < 2) {
          held++;
          throw new DependencyUnavailable('sagas/rankings-cache', Date.now() + 30, 'throttled');
        }
        return work();
      },
    });

    // Act
    await coordinator.begin(w.definition, data, 'held');
    const ended = await coordinator.waitFor('held', 10_000);
    await coordinator.stop();

    // Assess: completed, update_cache once, at its first attempt, no failure recorded.
    const types = (await w.store.read(sagaStream('held'))).map((e) => e.event_type);
    expect(ended.status).toBe('completed');
    expect(held).toBe(2);
    expect(types).not.toContain('SagaStepFailed');
    expect(ended.steps.find((s) => s.name === 'update_cache')).toMatchObject({
      status: 'completed',
      attempt: 1,
    });
  });
});

describe('a saga step held through an outage longer than its timeout', () => {
  const TIMEOUT_MS = 300; // every step's, in world()

  /**
   * A step hook for an outage of the breaker `sagas/rankings-cache` until `until`: each
   * attempt of `step` (its action, or its compensation with `compensation`) spends most of
   * its timeout, then is refused, the trial promised soon; after the outage it runs.
   */
  const outage = (
    until: number,
    step: RpiStepName,
    compensation = false,
  ): { hook: StepHook; refused: () => number } => {
    let refused = 0;
    return {
      refused: () => refused,
      hook: async (attempt, work) => {
        if (attempt.step !== step || attempt.compensation !== compensation || Date.now() >= until)
          return work();
        await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS - 100));
        refused++;
        throw new DependencyUnavailable('sagas/rankings-cache', Date.now() + 50, 'throttled');
      },
    };
  };

  it('completes after the outage, with no failed attempt and no compensation', async () => {
    // Prepare: the cache out for five timeouts of update_cache.
    const w = await world();
    const ends = Date.now() + 5 * TIMEOUT_MS;
    const { hook, refused } = outage(ends, 'update_cache');
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      hook,
    });

    // Act
    await coordinator.begin(w.definition, data, 'outlasted');
    const ended = await coordinator.waitFor('outlasted', 20_000);
    await coordinator.stop();

    // Assess: held (recorded as holds, not attempts) until the outage ended, then completed.
    const events = await w.store.read(sagaStream('outlasted'));
    const types = events.map((e) => e.event_type);
    expect(ended.status).toBe('completed');
    expect(refused()).toBeGreaterThanOrEqual(2);
    expect(types.filter((t) => t === 'SagaStepHeld')).toHaveLength(refused());
    expect(types).not.toContain('SagaStepFailed');
    expect(types).not.toContain('SagaCompensationCompleted');
    expect(ended.steps.find((s) => s.name === 'update_cache')).toMatchObject({
      status: 'completed',
      attempt: 1,
    });
    expect(Date.parse(events.at(-1)?.timestamp ?? '')).toBeGreaterThanOrEqual(ends);
    expect((await readCache(w.cache, '2026'))?.calculation_id).toBe(calculationOf('outlasted'));
  });

  it('compensates through an outage of a compensation, with no failed compensation', async () => {
    // Prepare: update_cache fails for good; the cache out while publish_results is undone.
    const w = await world();
    const ends = Date.now() + 5 * TIMEOUT_MS;
    const { hook: held, refused } = outage(ends, 'publish_results', true);
    const failing = faultHook(new FaultPlan([{ step: 'update_cache', mode: 'error' }]));
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      hook: (attempt, work) => held(attempt, () => failing(attempt, work)),
    });

    // Act
    await coordinator.begin(w.definition, data, 'undone');
    const ended = await coordinator.waitFor('undone', 20_000);
    await coordinator.stop();

    // Assess
    const types = (await w.store.read(sagaStream('undone'))).map((e) => e.event_type);
    expect(ended.status).toBe('compensated');
    expect(refused()).toBeGreaterThanOrEqual(2);
    expect(types).not.toContain('SagaCompensationFailed');
    expect(ended.steps.find((s) => s.name === 'publish_results')?.compensation).toMatchObject({
      status: 'completed',
      attempt: 1,
    });
  });

  it('resumes a held saga left waiting (a crash, a short-lived caller), after its deadline, and completes it', async () => {
    // Prepare: a caller that cannot wait (as on Lambda) records the hold and leaves.
    const w = await world();
    const retryAt = Date.now() + 3 * TIMEOUT_MS;
    const left = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      wake: () => false,
      hook: async (attempt, work) => {
        if (attempt.step === 'update_cache')
          throw new DependencyUnavailable('sagas/rankings-cache', retryAt, 'throttled');
        return work();
      },
    });
    await left.begin(w.definition, data, 'resumed');
    await left.driveAll(['resumed']);
    await left.stop();
    const whenLeft = await w.store.read(sagaStream('resumed'));
    const calls: number[] = [];
    const sweeping = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      activeSagas: async () => ['resumed'],
      sweepIntervalMs: 50,
      hook: async (attempt, work) => {
        if (attempt.step === 'update_cache') calls.push(Date.now());
        return work();
      },
    });

    // Act: the sweep drives it from before the trial time to past the first deadline.
    sweeping.start();
    const ended = await sweeping.waitFor('resumed', 20_000);
    await sweeping.stop();

    // Assess: the step ran once, not before the trial time, at its first attempt.
    expect(whenLeft.at(-1)).toMatchObject({
      event_type: 'SagaStepHeld',
      data: { step_name: 'update_cache', attempt: 1, breaker: 'sagas/rankings-cache' },
    });
    expect(ended.status).toBe('completed');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeGreaterThanOrEqual(retryAt);
    const events = await w.store.read(sagaStream('resumed'));
    expect(events.map((e) => e.event_type)).not.toContain('SagaStepFailed');
    expect(ended.steps.find((s) => s.name === 'update_cache')?.attempt).toBe(1);
  });

  it('still times out a step that is slow when not held, after a hold', async () => {
    // Prepare: update_cache held once, then every attempt hangs.
    const w = await world();
    let refused = 0;
    const slow = faultHook(new FaultPlan([{ step: 'update_cache', mode: 'timeout' }]));
    const coordinator = new SagaCoordinator({
      store: w.store,
      definitions: [w.definition as never],
      hook: async (attempt, work) => {
        if (attempt.step === 'update_cache' && refused++ === 0)
          throw new DependencyUnavailable('sagas/rankings-cache', Date.now(), 'throttled');
        return slow(attempt, work);
      },
    });

    // Act
    await coordinator.begin(w.definition, data, 'slow');
    const ended = await coordinator.waitFor('slow', 30_000);
    await coordinator.stop();

    // Assess: both attempts timed out, and the saga compensated.
    const events = await w.store.read(sagaStream('slow'));
    expect(ended.status).toBe('compensated');
    expect(
      events
        .filter((e) => e.event_type === 'SagaStepFailed')
        .map((e) => [e.data.step_name, e.data.attempt, e.data.timed_out]),
    ).toEqual([
      ['update_cache', 1, true],
      ['update_cache', 2, true],
    ]);
    // Held with the trial under way (its time is now): held for a while all the same, from
    // the attempt it held, recorded before.
    const holds = events.filter((e) => e.event_type === 'SagaStepHeld');
    const before = events[events.findIndex((e) => e.event_type === 'SagaStepHeld') - 1];
    expect(holds).toHaveLength(1);
    expect(before?.event_type).toBe('SagaStepStarted');
    expect(Date.parse(holds[0]?.data.retry_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(before?.timestamp ?? '') + HELD_POLL_MS,
    );
  });

  it('decides a held attempt: it waits until the trial time, then starts again with its whole timeout', async () => {
    // Prepare: update_cache's first attempt started at t, then held until t + 5000.
    const { definition } = await world();
    const t = Date.parse('2026-11-10T08:00:00.000Z');
    const at = (ms: number) => new Date(t + ms).toISOString();
    const stream = sagaStream('decided');
    const steps = definition.steps.map((s) => s.name);
    const started = (sequence: number, step: string, deadline: number) =>
      envelope('SagaStepStarted', stream, sequence, {
        saga_id: 'decided',
        step_name: step,
        attempt: 1,
        compensation: false,
        deadline: at(deadline),
      });
    const events = [
      envelope('SagaStarted', stream, 1, {
        saga_id: 'decided',
        saga_type: definition.type,
        steps,
        data: JSON.stringify(data),
        compensations: Object.fromEntries(
          definition.steps.map((s) => [s.name, s.compensation.name]),
        ),
      }),
      ...steps.slice(0, 3).flatMap((step, i) => [
        started(2 + 2 * i, step, TIMEOUT_MS),
        envelope('SagaStepCompleted', stream, 3 + 2 * i, {
          saga_id: 'decided',
          step_name: step,
          attempt: 1,
          output: JSON.stringify({}),
        }),
      ]),
      started(8, 'update_cache', TIMEOUT_MS),
      envelope('SagaStepHeld', stream, 9, {
        saga_id: 'decided',
        step_name: 'update_cache',
        attempt: 1,
        compensation: false,
        breaker: 'sagas/rankings-cache',
        retry_at: at(5000),
      }),
    ];
    const state = foldSaga(events);
    if (!state) throw new Error('no saga folded');

    // Act: before the trial time, and after it (both past the first deadline).
    const during = decide(state, definition, t + 4000);
    const after = decide(state, definition, t + 6000);
    const again = foldSaga([...events, started(10, 'update_cache', 6000 + TIMEOUT_MS)]);

    // Assess: no timeout; the same attempt starts again, its deadline a whole timeout away.
    const updateCache = (s: typeof state | undefined) =>
      s?.steps.find((step) => step.name === 'update_cache');
    expect(updateCache(state)).toMatchObject({ status: 'in_progress', heldUntil: t + 5000 });
    expect(updateCache(state)?.deadline).toBeUndefined();
    expect(during).toEqual({ kind: 'wait', until: t + 5000 });
    const restart = started(10, 'update_cache', 6000 + TIMEOUT_MS);
    expect(after).toEqual({
      kind: 'append',
      event: { event_type: restart.event_type, timestamp: at(6000), data: restart.data },
    });
    expect(updateCache(again)).toMatchObject({
      status: 'in_progress',
      attempt: 1,
      deadline: t + 6000 + TIMEOUT_MS,
    });
    expect(updateCache(again)?.heldUntil).toBeUndefined();
  });

  it('says the timeout an attempt ran with when it times out, not the timeout set now', async () => {
    // Prepare: collect_matches started with a 1000 ms timeout (a run with a step made to
    // hang); the saga is decided, or run, again where the timeout is 300 ms.
    const { definition } = await world();
    const t = Date.parse('2026-11-10T08:00:00.000Z');
    const stream = sagaStream('timed');
    const begun = envelope(
      'SagaStarted',
      stream,
      1,
      {
        saga_id: 'timed',
        saga_type: definition.type,
        steps: definition.steps.map((s) => s.name),
        data: JSON.stringify(data),
        compensations: Object.fromEntries(
          definition.steps.map((s) => [s.name, s.compensation.name]),
        ),
      },
      new Date(t).toISOString(),
    );
    const started = envelope(
      'SagaStepStarted',
      stream,
      2,
      {
        saga_id: 'timed',
        step_name: 'collect_matches',
        attempt: 1,
        compensation: false,
        deadline: new Date(t + 1000).toISOString(),
      },
      new Date(t).toISOString(),
    );
    const state = foldSaga([begun, started]);
    if (!state) throw new Error('no saga folded');

    // Act: past the deadline, and before it (the attempt runs on to its own deadline).
    const late = decide(state, definition, t + 5000);
    const running = decide(state, definition, t + 500);

    // Assess
    expect(late).toMatchObject({
      kind: 'append',
      event: { event_type: 'SagaStepFailed', data: { error: 'timed out after 1000 ms' } },
    });
    expect(running).toMatchObject({ kind: 'run', deadline: t + 1000, timeoutMs: 1000 });
    // A step started now is dated at the instant its deadline counts from.
    const next = decide(foldSaga([begun]) ?? state, definition, t);
    expect(next).toMatchObject({
      kind: 'append',
      event: {
        event_type: 'SagaStepStarted',
        timestamp: new Date(t).toISOString(),
        data: { deadline: new Date(t + 300).toISOString() },
      },
    });
  });
});
