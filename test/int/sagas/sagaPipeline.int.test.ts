import { afterEach, describe, expect, it } from 'vitest';
import { sagaOutcome } from '../../../cli/sagaOutcome.js';
import type { Game } from '../../../domain/games/Game.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import {
  type EmbeddedPipeline,
  READ_MODELS_CONSUMER,
  startPipeline,
} from '../../../pipeline/embeddedPipeline.js';
import { FaultPlan } from '../../../sagas/faults.js';
import { calculationStream } from '../../../sagas/rpi/calculationStream.js';
import { readCache } from '../../../sagas/rpi/rankingsCache.js';
import { calculationOf } from '../../../sagas/rpi/rpiSaga.js';
import { sagaStream } from '../../../sagas/SagaCoordinator.js';
import { foldSaga } from '../../../sagas/sagaState.js';
import { feedRows } from '../../support/games.js';

let pipeline: EmbeddedPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

/** Ingests these games as a feed would bring them, and lets the pipeline take them in. */
async function ingest(p: EmbeddedPipeline, games: readonly Game[]) {
  await ingestGames(feedRows(games), { store: p.runtime.store });
  await p.runtime.settle();
}

async function ingestSeason(p: EmbeddedPipeline, seed: number) {
  const season = generateSeason({ teams: 14, gamesPerTeam: 5, seed });
  await ingest(p, season.games);
  return season;
}

/**
 * The sagas' clock, moved by hand: results stored while it stands still all land within the
 * debounce of the first one, however slow the machine; moving it past the debounce lets the
 * pending saga start.
 */
function handClock(start = Date.parse('2026-12-01T12:00:00.000Z')) {
  const clock = { at: start };
  return {
    now: () => clock.at,
    advance: (ms: number) => {
      clock.at += ms;
    },
  };
}

const DEBOUNCE_MS = 60_000;

/** Moves the clock past the debounce and drives the sagas that were waiting for it to their end. */
async function pastTheDebounce(p: EmbeddedPipeline, clock: ReturnType<typeof handClock>) {
  clock.advance(DEBOUNCE_MS);
  await p.sagas.sweepOnce();
  await p.sagas.settle(30_000);
  await p.runtime.settle();
}

describe('sagas in the embedded pipeline', () => {
  it('resumes a saga after its coordinator crashes mid-step, with every effect once', async () => {
    const clock = handClock();
    pipeline = await startPipeline({
      memory: true,
      debounceMs: DEBOUNCE_MS,
      now: clock.now,
      faults: new FaultPlan([{ step: 'publish_results', mode: 'crash' }]),
    });
    const season = await ingestSeason(pipeline, 3);
    const sagaId = await pipeline.sagas.requests.latest('2026');
    if (!sagaId) throw new Error('the MatchEventHandler asked for nothing');

    await pastTheDebounce(pipeline, clock);

    const outcome = await sagaOutcome(pipeline.runtime.store, sagaId);
    expect(outcome.status).toBe('completed');
    expect(pipeline.sagas.restarts).toBe(1);
    expect(pipeline.sagas.handlers.match.stats.sagas_started).toBe(1);
    const calculation = await pipeline.runtime.store.read(calculationStream(calculationOf(sagaId)));
    // Each effect once: the one saga of the season calculated, published and cached.
    expect(calculation.map((e) => e.event_type)).toEqual([
      'RpiCalculated',
      'RpiResultsPublished',
      'RankingsCacheUpdated',
    ]);
    const cached = await readCache(pipeline.sagaStores.cache, '2026');
    expect(cached).toMatchObject({ saga_id: sagaId, games_counted: season.games.length });
  });

  it('recalculates when results change, taking a burst of them in one pending saga', async () => {
    const clock = handClock();
    pipeline = await startPipeline({ memory: true, debounceMs: DEBOUNCE_MS, now: clock.now });

    const season = await ingestSeason(pipeline, 4);
    await pastTheDebounce(pipeline, clock);

    const match = pipeline.sagas.handlers.match.stats;
    expect(match.events).toBe(season.games.length);
    // The whole burst arrived within the debounce of the first result: one saga, not one per result.
    expect(match.sagas_started).toBe(1);
    const sagaId = await pipeline.sagas.requests.latest('2026');
    const cached = await readCache(pipeline.sagaStores.cache, '2026');
    expect(cached).toMatchObject({ saga_id: sagaId, games_counted: season.games.length });
  });

  it('counts a correction taken in by a pending saga while the matches read model is held back', async () => {
    // A day behind the store's clock: a failed attempt's retry (due from the store's timestamp
    // of the failure) waits until this clock is moved past it.
    const clock = handClock(Date.now() - 86_400_000);
    pipeline = await startPipeline({
      memory: true,
      debounceMs: DEBOUNCE_MS,
      now: clock.now,
      // A collect attempt that finds the read model behind fails at once, to be retried.
      catchUpMs: 0,
    });
    const season = await ingestSeason(pipeline, 6);
    await pastTheDebounce(pipeline, clock);
    const [first, second] = season.games.filter((g) => g.homeScore !== g.awayScore);
    if (!first || !second) throw new Error('the season has fewer than two decided games');
    const turned = (g: Game): Game => ({ ...g, homeScore: g.awayScore, awayScore: g.homeScore });

    // A correction starts the next saga, which waits for the debounce.
    await ingest(pipeline, [turned(first)]);
    const pending = (await pipeline.sagas.requests.latest('2026')) as string;
    // The read models' consumer is held back (its mapping disabled) while a second correction
    // reaches the handler well within that saga's debounce, and until the saga began.
    const readModels = pipeline.runtime.consumers.get(READ_MODELS_CONSUMER)?.mapping;
    if (!readModels) throw new Error('no read-models consumer');
    await readModels.disable();
    await ingest(pipeline, [turned(second)]);
    clock.advance(DEBOUNCE_MS);
    await pipeline.sagas.sweepOnce();
    const whileBehind = foldSaga(await pipeline.runtime.store.read(sagaStream(pending)));
    await readModels.enable();
    await pipeline.runtime.settle();
    // Past the retry's wait, counted from the store's own timestamps.
    clock.advance(Math.max(0, Date.now() - clock.now()) + DEBOUNCE_MS);
    await pipeline.sagas.sweepOnce();
    await pipeline.sagas.settle(30_000);

    const final = season.games.map((g) => (g === first || g === second ? turned(g) : g));
    const cached = await readCache(pipeline.sagaStores.cache, '2026');
    expect(cached?.rankings.map((r) => [r.team, r.rpi])).toEqual(
      computeRpi(final).ratings.map((r) => [r.team, r.rpi]),
    );
    expect(cached?.saga_id).toBe(pending);
    // Taken in, not a saga of its own.
    expect(pipeline.sagas.handlers.match.stats.sagas_started).toBe(2);
    expect(whileBehind?.steps[0]).toMatchObject({ name: 'collect_matches', status: 'retrying' });
  });
});
