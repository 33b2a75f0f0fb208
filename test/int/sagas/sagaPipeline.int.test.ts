import { afterEach, describe, expect, it } from 'vitest';
import { sagaOutcome } from '../../../cli/sagaOutcome.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { FaultPlan } from '../../../sagas/faults.js';
import { calculationStream } from '../../../sagas/rpi/calculationStream.js';
import { readCache } from '../../../sagas/rpi/rankingsCache.js';
import { calculationOf } from '../../../sagas/rpi/rpiSaga.js';

let pipeline: EmbeddedPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

async function ingestSeason(p: EmbeddedPipeline, seed: number) {
  const season = generateSeason({ teams: 14, gamesPerTeam: 5, seed });
  async function* rows() {
    yield season.games.map((game, i) => ({ kind: 'game' as const, line: i + 2, game, fields: {} }));
  }
  await ingestGames(rows(), { store: p.runtime.store });
  await p.runtime.settle();
  return season;
}

/**
 * The sagas' clock, moved by hand: results stored while it stands still all land within the
 * debounce of the first one, however slow the machine; moving it past the debounce lets the
 * pending saga start.
 */
function handClock() {
  const clock = { at: Date.parse('2026-12-01T12:00:00.000Z') };
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
});
