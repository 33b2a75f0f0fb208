import { describe, expect, it } from 'vitest';
import type { Game } from '../../../domain/games/Game.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { resultData } from '../../../ingest/matchEvents.js';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import type { Doc, DocKey } from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import { matchesProjection, matchVersions } from '../../../projections/readModels/matches.js';
import { readCache } from '../../../sagas/rpi/rankingsCache.js';
import { sagaStream } from '../../../sagas/SagaCoordinator.js';
import { SagaServices } from '../../../sagas/SagaServices.js';
import { foldSaga } from '../../../sagas/sagaState.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { busEvent } from '../../support/busEvents.js';
import { envelope } from '../../support/envelopes.js';
import { registry } from '../../support/registry.js';

const season = generateSeason({ teams: 8, gamesPerTeam: 3, seed: 11 });
/** The game corrected: the first that was not a draw, its score turned round. */
const target = season.games.find((g) => g.homeScore !== g.awayScore) as Game;
const corrected: Game = { ...target, homeScore: target.awayScore, awayScore: target.homeScore };
const finalGames = season.games.map((g) => (g === target ? corrected : g));

const recorded = (g: Game) =>
  envelope('MatchRecorded', `match:${g.matchId}`, 1, resultData(g, `match:${g.matchId}`));
const correction: EventEnvelope = envelope('MatchResultCorrected', `match:${target.matchId}`, 2, {
  ...resultData(corrected, `match:${target.matchId}`),
  reason: 'the score was entered the wrong way round',
});

/** The matches read model, with a hook run once after the next read of a match's version. */
class WatchedMatches extends InMemoryDocumentStore {
  afterNextRead: (() => Promise<void>) | undefined;

  override async getMany(keys: readonly DocKey[]): Promise<Map<string, Doc>> {
    const found = await super.getMany(keys);
    const hook = this.afterNextRead;
    this.afterNextRead = undefined;
    await hook?.();
    return found;
  }
}

/**
 * The saga side on in-memory stores, on a clock moved by hand: nothing is driven but by
 * `sweep` (no timers), and the matches read model applies what the test hands it, when it
 * does (the read-model consumer held back at will).
 */
function world(catchUpMs: number, debounceMaxMs?: number) {
  const clock = { now: Date.parse('2026-11-02T12:00:00Z') };
  // The store's timestamps (which the saga's retries count from) on the same clock.
  const store = new InMemoryEventStore(registry, () => new Date(clock.now));
  const matches = new WatchedMatches();
  const work = new InMemoryDocumentStore();
  const cache = new InMemoryDocumentStore();
  const sagaIds = new Set<string>();
  const services = new SagaServices({
    store,
    registry,
    stores: {
      matches,
      directory: new InMemoryDocumentStore(),
      work,
      cache,
      notifications: new InMemoryDocumentStore(),
    },
    activeSagas: async () => [...sagaIds],
    profile: 'ncaa-soccer-2024',
    debounceMs: 1000,
    ...(debounceMaxMs !== undefined ? { debounceMaxMs } : {}),
    catchUpMs,
    now: () => clock.now,
    driveOnBegin: false,
    wake: () => false,
  });
  const projector = new Projector(matchesProjection, matches);
  return {
    clock,
    store,
    matches,
    work,
    cache,
    services,
    /** The read-model consumer applies these events. */
    apply: (events: readonly EventEnvelope[]) => projector.apply(events),
    /** The soccer bus delivers this event to the `MatchEventHandler`. */
    deliver: async (event: EventEnvelope) => {
      await services.handlers.match.handle(busEvent(event));
      const latest = await services.requests.latest('2026');
      if (latest) sagaIds.add(latest);
    },
    /** Moves the clock and drives every saga as far as it goes. */
    sweep: async (ms: number) => {
      clock.now += ms;
      await services.sweepOnce();
    },
    sagaEvents: async (sagaId: string) =>
      (await store.read(sagaStream(sagaId))).map((e) => e.event_type),
  };
}

/** The season recorded and rated once the read model applied it, then a saga pending again. */
async function seasonRecorded(catchUpMs: number) {
  const w = world(catchUpMs);
  const results = season.games.map(recorded);
  await w.apply(results);
  for (const e of results) await w.deliver(e);
  const sagaId = (await w.services.requests.latest('2026')) as string;
  return { w, sagaId };
}

const direct = computeRpi(finalGames).ratings.map((r) => [r.team, r.rpi]);

describe('a correction taken in by a pending saga while the matches read model lags', () => {
  it('is counted: the saga collects only once the read model applied it', async () => {
    const { w, sagaId } = await seasonRecorded(0);

    // Well within the debounce, the correction reaches the handler; the read model has not
    // applied it, and will not for longer than the margin.
    w.clock.now += 100;
    await w.deliver(correction);
    await w.sweep(1_000);
    const whileBehind = foldSaga(await w.store.read(sagaStream(sagaId)));
    await w.apply([correction]);
    await w.sweep(10_000);

    const cached = await readCache(w.cache, '2026');
    expect(cached?.rankings.map((r) => [r.team, r.rpi])).toEqual(direct);
    expect(cached?.saga_id).toBe(sagaId);
    expect(w.services.handlers.match.stats.sagas_started).toBe(1);
    expect(whileBehind?.steps[0]).toMatchObject({ name: 'collect_matches', status: 'retrying' });
    expect(whileBehind?.steps[0]?.error).toMatch(
      new RegExp(`has not applied 1 change.*match:${target.matchId} up to event 2`),
    );
  });

  it('is waited for within the attempt when the read model catches up meanwhile', async () => {
    const { w, sagaId } = await seasonRecorded(10_000);
    w.clock.now += 100;
    await w.deliver(correction);

    // The read model applies the correction right after the saga first finds it missing.
    w.matches.afterNextRead = () => w.apply([correction]).then(() => undefined);
    await w.sweep(1_000);

    expect(await w.sagaEvents(sagaId)).not.toContain('SagaStepFailed');
    expect(await w.sagaEvents(sagaId)).toContain('SagaCompleted');
    const cached = await readCache(w.cache, '2026');
    expect(cached?.rankings.map((r) => [r.team, r.rpi])).toEqual(direct);
  });

  it('compensates, publishing nothing, when the read model never applies it', async () => {
    const { w, sagaId } = await seasonRecorded(0);
    w.clock.now += 100;
    await w.deliver(correction);

    for (let i = 0; i < 4; i++) await w.sweep(10_000);

    const state = foldSaga(await w.store.read(sagaStream(sagaId)));
    expect(state).toMatchObject({ status: 'compensated', failedStep: 'collect_matches' });
    expect(state?.error).toMatch(/matches read model has not applied/);
    expect(await readCache(w.cache, '2026')).toBeUndefined();
  });

  it('needs no record when the read model shows the change already', async () => {
    const { w, sagaId } = await seasonRecorded(0);
    w.clock.now += 100;
    await w.apply([correction]);
    await w.deliver(correction);

    expect(await w.work.query(`saga#${sagaId}#awaits`)).toEqual([]);
    await w.sweep(1_000);
    expect(await w.sagaEvents(sagaId)).not.toContain('SagaStepFailed');
    expect((await readCache(w.cache, '2026'))?.rankings.map((r) => [r.team, r.rpi])).toEqual(
      direct,
    );
  });
});

describe('a feed that keeps arriving past the debounce', () => {
  const seasonRpi = computeRpi(season.games).ratings.map((r) => [r.team, r.rpi]);

  /** Each result 400 ms after the last (15 in 6 s), the read model keeping up. */
  async function feed(w: ReturnType<typeof world>) {
    for (const game of season.games) {
      const event = recorded(game);
      await w.apply([event]);
      await w.deliver(event);
      await w.sweep(400);
    }
  }
  /** The sagas started, in the order they were. */
  const sagasOf = async (w: ReturnType<typeof world>) => {
    const started: EventEnvelope[] = [];
    for await (const batch of w.store.readAll())
      started.push(...batch.filter((e) => e.event_type === 'SagaStarted'));
    return started
      .sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp))
      .map((e) => e.aggregate_id.slice('saga:'.length));
  };

  it('is rated once it stops: each result taken in defers the saga to a debounce after it', async () => {
    const w = world(0, 60_000);

    await feed(w);
    const [sagaId] = await sagasOf(w);
    const whileArriving = await w.sagaEvents(sagaId as string);
    await w.sweep(1_000);

    expect(await sagasOf(w)).toEqual([sagaId]);
    expect(whileArriving).toEqual(['SagaStarted']);
    const cached = await readCache(w.cache, '2026');
    expect(cached).toMatchObject({ saga_id: sagaId, games_counted: season.games.length });
    expect(cached?.rankings.map((r) => [r.team, r.rpi])).toEqual(seasonRpi);
  });

  it('begins within debounceMaxMs of its first result however long the feed lasts; the next saga counts the rest', async () => {
    const w = world(0, 3_000);

    await feed(w);
    await w.sweep(1_000);

    // 15 results over 6 s: a saga begins about every 3 s.
    const sagas = await sagasOf(w);
    expect(sagas).toHaveLength(3);
    for (const id of sagas) {
      const events = await w.store.read(sagaStream(id));
      const data = foldSaga(events)?.data as { requested_at: string } | undefined;
      const began = events.find((e) => e.event_type === 'SagaStepStarted')?.timestamp ?? '';
      expect(Date.parse(began) - Date.parse(data?.requested_at ?? '')).toBeLessThanOrEqual(3_000);
    }
    const cached = await readCache(w.cache, '2026');
    expect(cached).toMatchObject({ saga_id: sagas[2], games_counted: season.games.length });
    expect(cached?.rankings.map((r) => [r.team, r.rpi])).toEqual(seasonRpi);
  });

  it('starts a saga a debounce after each first result when debounceMaxMs is not above the debounce', async () => {
    const w = world(0, 1_000);

    await feed(w);
    await w.sweep(1_000);

    expect((await sagasOf(w)).length).toBeGreaterThanOrEqual(3);
    expect(await readCache(w.cache, '2026')).toMatchObject({
      games_counted: season.games.length,
    });
  });
});

describe('matchVersions', () => {
  it("answers the sequence of each match stream's last event the read model applied", async () => {
    const matches = new InMemoryDocumentStore();
    await new Projector(matchesProjection, matches).apply([
      recorded(target),
      correction,
      recorded(season.games[1] as Game),
    ]);

    const versions = await matchVersions(matches, [
      `match:${target.matchId}`,
      `match:${season.games[1]?.matchId}`,
      'match:unknown',
    ]);

    expect([...versions]).toEqual([
      [`match:${target.matchId}`, 2],
      [`match:${season.games[1]?.matchId}`, 1],
    ]);
  });
});
