import { afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedPipeline, startPipeline } from '../../../cli/embeddedPipeline.js';
import { sagaOutcome } from '../../../cli/sagaOutcome.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { readCache } from '../../../projections/rankingsCache.js';
import { calculationStream } from '../../../sagas/rpi/calculationStream.js';
import { calculationOf } from '../../../sagas/rpi/rpiSaga.js';
import { FaultPlan } from '../../../sagas/SagaCoordinator.js';
import { ingestGames } from '../../../stream/ingest/ingestGames.js';

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

describe('sagas in the embedded pipeline', () => {
  it('resumes a saga after its coordinator crashes mid-step, with every effect once', async () => {
    pipeline = await startPipeline({
      memory: true,
      debounceMs: 100,
      faults: new FaultPlan([{ step: 'publish_results', mode: 'crash' }]),
    });
    const season = await ingestSeason(pipeline, 3);

    const sagaId = await pipeline.sagas.requests.latest('2026');
    if (!sagaId) throw new Error('the MatchEventHandler asked for nothing');
    await pipeline.sagas.settle(30_000);
    await pipeline.runtime.settle();

    const outcome = await sagaOutcome(pipeline.runtime.store, sagaId);
    expect(outcome.status).toBe('completed');
    expect(pipeline.sagas.restarts).toBeGreaterThanOrEqual(1);
    const calculation = await pipeline.runtime.store.read(calculationStream(calculationOf(sagaId)));
    const effects = calculation.map((e) => e.event_type);
    // Each effect once. The cache step writes nothing when a later saga of the season has
    // already cached a later collection (results kept arriving), so its event may be absent.
    expect(effects.slice(0, 2)).toEqual(['RpiCalculated', 'RpiResultsPublished']);
    expect(effects.slice(2)).toEqual(effects.length > 2 ? ['RankingsCacheUpdated'] : []);
    // Results still arriving when that saga started may have asked for later ones (the
    // debounce is short here): once they are all done, the cache holds a completed saga's
    // rankings of every game.
    await pipeline.sagas.settle(30_000);
    const cached = await readCache(pipeline.sagaStores.cache, '2026');
    expect(cached?.games_counted).toBe(season.games.length);
    expect((await sagaOutcome(pipeline.runtime.store, cached?.saga_id ?? '')).status).toBe(
      'completed',
    );
  });

  it('recalculates when results change, taking a burst of them in one pending saga', async () => {
    // The debounce well above how long the burst takes to ingest, even on a loaded machine.
    pipeline = await startPipeline({ memory: true, debounceMs: 1500 });

    const season = await ingestSeason(pipeline, 4);
    await pipeline.sagas.settle(30_000);
    await pipeline.runtime.settle();

    const match = pipeline.sagas.handlers.match.stats;
    expect(match.events).toBe(season.games.length);
    // A burst of results in well under the debounce: one or two sagas, not one per result.
    expect(match.sagas_started).toBeGreaterThanOrEqual(1);
    expect(match.sagas_started).toBeLessThanOrEqual(3);
    const cached = await readCache(pipeline.sagaStores.cache, '2026');
    expect(cached?.games_counted).toBe(season.games.length);
  });
});
