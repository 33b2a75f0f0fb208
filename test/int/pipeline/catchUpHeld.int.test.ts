import { afterEach, describe, expect, it } from 'vitest';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import {
  type EmbeddedPipeline,
  type PipelineOptions,
  startPipeline,
} from '../../../pipeline/embeddedPipeline.js';
import { readCache } from '../../../sagas/rpi/rankingsCache.js';
import { openEventStore } from '../../../stream/local/openEventStore.js';
import { feedRows } from '../../support/games.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('catch-up-held-');
let pipeline: EmbeddedPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

/** A season ingested into a new data folder with no pipeline running, as `matchstream ingest` does. */
async function ingestedFolder(name: string): Promise<{ dataDir: string; games: number }> {
  const dataDir = tmp.path(name);
  const season = generateSeason({ teams: 120, gamesPerTeam: 12, seed: 11 });
  const opened = await openEventStore({ dataDir });
  try {
    const summary = await ingestGames(feedRows(season.games), { store: opened.store });
    expect(summary.appended).toBe(season.games.length);
  } finally {
    await opened.close();
  }
  return { dataDir, games: season.games.length };
}

// A debounce of a millisecond: every batch the bus router routes after a saga began asks for
// a new one, so a catch-up in several batches shows what the hold gathers.
const DEBOUNCE_MS = 1;

/**
 * A pipeline started on a data folder with the test's debounce (and `options`), kept for
 * `afterEach` to stop: it and the ids of the sagas it starts, in order, as they start.
 */
async function startWatched(
  dataDir: string,
  options: Pick<PipelineOptions, 'catchUpHeld' | 'routerEnabled'>,
): Promise<{ pipeline: EmbeddedPipeline; started: string[] }> {
  const started: string[] = [];
  pipeline = await startPipeline({
    dataDir,
    debounceMs: DEBOUNCE_MS,
    ...options,
    onSagaEvent: (event) => {
      if (event.event_type === 'SagaStarted') started.push(event.data.saga_id);
    },
  });
  return { pipeline, started };
}

/**
 * A pipeline started on a folder only ingested into, caught up and left to rate: the sagas it
 * started, in order, and the season's cached rankings.
 */
async function catchUp(folder: string, catchUpHeld: boolean) {
  const { dataDir, games } = await ingestedFolder(folder);
  const { pipeline, started } = await startWatched(dataDir, { catchUpHeld });
  await pipeline.caughtUp;
  await pipeline.runtime.settle();
  await pipeline.sagas.settle(60_000);
  await pipeline.runtime.settle();
  return { games, started, cached: await readCache(pipeline.sagaStores.cache, '2026') };
}

describe('a pipeline started on a folder the buses have not caught up with', () => {
  it('rates the backlog with one saga per season when the sagas are held until it has caught up', async () => {
    const { games, started, cached } = await catchUp('held', true);

    // One saga, which counted every game of the season and holds the cache.
    expect(started).toHaveLength(1);
    expect(cached?.saga_id).toBe(started[0]);
    expect(cached?.games_counted).toBe(games);
  }, 120_000);

  it("takes a calculation of the season's own scope asked for during the catch-up into the season's recalculation", async () => {
    // Arrange: a calculation asked for (`POST /sagas`) while the pipeline catches up, held.
    const { dataDir, games } = await ingestedFolder('asked');
    const { pipeline, started } = await startWatched(dataDir, { catchUpHeld: true });
    const asked = (scope: { as_of: string | null }) =>
      pipeline.queries.startSaga({
        season: '2026',
        ...scope,
        profile: pipeline.sagas.profile,
        division: pipeline.sagas.division,
        variant: 'unadjusted',
        adjustments: null,
        not_before: null,
        requested_at: new Date().toISOString(),
        reason: 'POST /sagas',
      });

    // Act
    const own = await asked({ as_of: null });
    const dated = await asked({ as_of: '2026-09-30' });
    await pipeline.caughtUp;
    await pipeline.runtime.settle();
    await pipeline.sagas.settle(60_000);
    await pipeline.runtime.settle();

    // Assess: the season's own scope is the one recalculation, which counted every game;
    // another scope is a calculation of its own.
    const cached = await readCache(pipeline.sagaStores.cache, '2026');
    expect(started).toHaveLength(2);
    expect(started).toContain(own?.saga_id);
    expect(started).toContain(dated?.saga_id);
    expect(cached?.saga_id).toBe(own?.saga_id);
    expect(cached?.games_counted).toBe(games);
  }, 120_000);

  it('starts a saga for each part of the backlog without the hold (what the hold prevents)', async () => {
    const { games, started, cached } = await catchUp('not-held', false);

    // More than one calculation for the one backlog; the last still counts it all.
    expect(started.length).toBeGreaterThan(1);
    expect(cached?.games_counted).toBe(games);
  }, 120_000);

  it('ends the wait with the reason when the pipeline stops before it caught up', async () => {
    // Arrange
    const { dataDir } = await ingestedFolder('stopped');
    pipeline = await startPipeline({ dataDir, debounceMs: DEBOUNCE_MS, catchUpHeld: true });

    // Act
    const stopping = pipeline;
    pipeline = undefined;
    await stopping.stop();

    // Assess: whoever waits for the catch-up is told, rather than waiting for ever.
    await expect(stopping.caughtUp).rejects.toThrow(/stopped/);
  }, 120_000);
});

describe('a pipeline started with the bus router disabled', () => {
  it('carries nothing on the buses, and starts no saga, until the router is enabled', async () => {
    // Arrange: a folder whose results the buses have not carried (as after `ingest`).
    const { dataDir, games } = await ingestedFolder('router-off');
    const { pipeline, started } = await startWatched(dataDir, { routerEnabled: false });

    // Act: the read models catch up, with time for a debounced request to start a saga.
    await pipeline.runtime.settle();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await pipeline.sagas.settle(60_000);
    const before = {
      published: { ...pipeline.published },
      sagas: started.length,
      enabled: pipeline.router.enabled,
    };
    await pipeline.router.enable();
    await pipeline.runtime.settle();
    await pipeline.sagas.settle(60_000);
    await pipeline.runtime.settle();

    // Assess: nothing routed and no saga while it was off; all of it once it was on.
    expect(before).toEqual({ published: {}, sagas: 0, enabled: false });
    expect(started.length).toBeGreaterThan(0);
    expect(pipeline.published.soccer).toBeGreaterThanOrEqual(games);
    expect((await readCache(pipeline.sagaStores.cache, '2026'))?.games_counted).toBe(games);
  }, 120_000);
});
