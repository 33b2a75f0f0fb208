import { describe, expect, it } from 'vitest';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import type { DocKey, StoredDoc } from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { getTeam } from '../../../projections/readModels/teams.js';
import { CalculationEventHandler } from '../../../sagas/handlers/CalculationEventHandler.js';
import { MatchEventHandler } from '../../../sagas/handlers/MatchEventHandler.js';
import { MetadataEventHandler } from '../../../sagas/handlers/MetadataEventHandler.js';
import { notificationsOf } from '../../../sagas/handlers/notifications.js';
import { RecalculationRequests } from '../../../sagas/handlers/RecalculationRequests.js';
import { awaitedChanges, deferredStart } from '../../../sagas/rpi/awaitedChanges.js';
import { writeCache, writeScope } from '../../../sagas/rpi/rankingsCache.js';
import type { RpiSagaRequest } from '../../../sagas/rpi/rpiSaga.js';
import { sagaStream } from '../../../sagas/SagaCoordinator.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { uuidFromName } from '../../../stream/uuid.js';
import { busEvent } from '../../support/busEvents.js';
import { envelope } from '../../support/envelopes.js';
import { registry } from '../../support/registry.js';

/** Working documents, with a hook run before each write. */
class WatchedWork extends InMemoryDocumentStore {
  beforeWrite: ((puts: readonly StoredDoc[]) => Promise<void>) | undefined;

  override async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void> {
    await this.beforeWrite?.(puts);
    await super.write(puts, deletes);
  }
}

/** Requests over an in-memory store, on a hand-moved clock; `begin` appends SagaStarted only. */
function requestsWorld(
  debounceMs = 1000,
  tick = 0,
  holding?: () => number | undefined,
  debounceMaxMs?: number,
) {
  const store = new InMemoryEventStore(registry);
  const slots = new WatchedWork();
  const matches = new InMemoryDocumentStore();
  const clock = { now: Date.parse('2026-10-01T12:00:00Z') };
  const begun: { id: string; data: RpiSagaRequest }[] = [];
  /** Every start asked for, a repeat included. */
  const tried: string[] = [];
  const begin = async (data: RpiSagaRequest, sagaId: string) => {
    tried.push(sagaId);
    // As the coordinator starts a saga: a deterministic first event, so a second start of the
    // same id is recognised as a repeat.
    const result = await store.append(sagaStream(sagaId), 0, [
      {
        event_type: 'SagaStarted',
        event_id: uuidFromName(`${sagaStream(sagaId)}#1`),
        correlation_id: sagaId,
        data: {
          saga_id: sagaId,
          saga_type: 'rpi_calculation',
          steps: ['collect_matches'],
          data: JSON.stringify(data),
          compensations: {},
        },
      },
    ]);
    if (!result.duplicate) begun.push({ id: sagaId, data });
    return !result.duplicate;
  };
  const requests = new RecalculationRequests({
    store,
    slots,
    matches,
    begin,
    debounceMs,
    profile: 'ncaa-soccer-2024',
    // `tick`: every reading of the clock finds it later (slow handlers).
    now: () => {
      clock.now += tick;
      return clock.now;
    },
    ...(holding ? { holding } : {}),
    ...(debounceMaxMs !== undefined ? { debounceMaxMs } : {}),
  });
  /** Marks a saga's first step as started, as the coordinator would at `not_before`. */
  const startWork = (sagaId: string) =>
    store.append(sagaStream(sagaId), 1, [
      {
        event_type: 'SagaStepStarted',
        correlation_id: sagaId,
        data: {
          saga_id: sagaId,
          step_name: 'collect_matches',
          attempt: 1,
          compensation: false,
          deadline: new Date(clock.now + 1000).toISOString(),
        },
      },
    ]);
  return { store, slots, matches, clock, begun, tried, requests, startWork };
}

const match = (id: string, season = '2026') =>
  envelope('MatchRecorded', `match:${id}`, 1, {
    match_id: id,
    season,
    played_on: '2026-09-01',
    home_team: 'A',
    away_team: 'B',
    home_goals: 1,
    away_goals: 0,
    neutral: false,
    decided_by: 'regulation',
    venue: null,
  });

describe('RecalculationRequests', () => {
  it('keeps at most one pending saga per season, due a debounce after the first request', async () => {
    const w = requestsWorld(1000);

    const first = await w.requests.request('2026', 'a');
    w.clock.now += 400;
    const second = await w.requests.request('2026', 'b');
    const other = await w.requests.request('2025', 'c');

    expect(first.started).toBe(true);
    expect(second).toMatchObject({ saga_id: first.saga_id, started: false });
    expect(other.started).toBe(true);
    expect(w.begun.map((b) => b.data.season)).toEqual(['2026', '2025']);
    expect(w.begun[0]?.data.not_before).toBe('2026-10-01T12:00:01.000Z');
  });

  it('makes a saga asked for while the sagas are held due at once: the hold gathers the changes, and its end starts it', async () => {
    let hold: number | undefined = 1;
    const w = requestsWorld(1000, 0, () => hold);

    const during = await w.requests.request('2026', 'a');
    const absorbed = await w.requests.request('2026', 'b');
    hold = undefined;
    const after = await w.requests.request('2025', 'c');

    expect(during).toMatchObject({ started: true, hold: 1, waitsUntil: w.clock.now - 250 });
    expect(absorbed).toMatchObject({ saga_id: during.saga_id, started: false, hold: 1 });
    expect(after).toMatchObject({ started: true, waitsUntil: w.clock.now + 750 });
    expect(after).not.toHaveProperty('hold');
    expect(w.begun.map((b) => [b.data.season, b.data.requested_at, b.data.not_before])).toEqual([
      ['2026', '2026-10-01T12:00:00.000Z', '2026-10-01T12:00:00.000Z'],
      ['2025', '2026-10-01T12:00:00.000Z', '2026-10-01T12:00:01.000Z'],
    ]);
  });

  it('takes every change in until the pending saga begins work, however late in its wait, then starts another', async () => {
    const w = requestsWorld(1000);
    const first = await w.requests.request('2026', 'a');

    // Late in the wait, and past it: the saga has not begun, so it reads the matches later.
    w.clock.now += 800;
    const late = await w.requests.request('2026', 'b');
    w.clock.now += 5_000;
    const later = await w.requests.request('2026', 'c');
    await w.startWork(first.saga_id);
    const after = await w.requests.request('2026', 'd');

    expect(late).toMatchObject({ saga_id: first.saga_id, started: false });
    expect(later).toMatchObject({ saga_id: first.saga_id, started: false });
    expect(after.started).toBe(true);
    expect(after.saga_id).not.toBe(first.saga_id);
  });

  it("has the next saga wait for the season's saga under way, taking in every request until it begins", async () => {
    const w = requestsWorld(1000);
    const first = await w.requests.request('2026', 'a');
    await w.startWork(first.saga_id);

    const next = await w.requests.request('2026', 'b');
    // Long past the next saga's debounce, the first still runs.
    w.clock.now += 60_000;
    const meanwhile = await w.requests.request('2026', 'c');
    await w.store.append(sagaStream(first.saga_id), 2, [
      { event_type: 'SagaCompleted', data: { saga_id: first.saga_id, output: '{}' } },
    ]);
    const ended = await w.requests.request('2026', 'd');
    await w.startWork(next.saga_id);
    const begun = await w.requests.request('2026', 'e');

    expect(w.begun.map((b) => b.data.after)).toEqual([null, first.saga_id, next.saga_id]);
    expect(next.started).toBe(true);
    expect(meanwhile).toMatchObject({ saga_id: next.saga_id, started: false });
    expect(ended).toMatchObject({ saga_id: next.saga_id, started: false });
    expect(begun.started).toBe(true);
  });

  it('defers the start of a saga that takes a change in to a debounce after it, within debounceMaxMs of its first request', async () => {
    const w = requestsWorld(1000, 0, undefined, 3000);
    const t0 = w.clock.now;
    const first = await w.requests.request('2026', 'a');
    const deferrals: number[] = [];
    w.slots.beforeWrite = async (puts) => {
      for (const p of puts) if (p.pk.endsWith('#quiet')) deferrals.push(w.clock.now - t0);
    };

    // Each request moves the start on to a debounce after it; one that would move it less
    // than half a debounce past where it is writes nothing.
    const at = async (ms: number) => {
      w.clock.now = t0 + ms;
      return w.requests.request('2026', `at ${ms}`);
    };
    await at(300);
    const deferred = await at(800);
    const once = await deferredStart(w.slots, first.saga_id);
    await at(1200);
    await at(1600);
    await at(2600);
    await at(2900);
    const last = await deferredStart(w.slots, first.saga_id);

    expect(w.begun).toHaveLength(1);
    expect(deferred).toMatchObject({ saga_id: first.saga_id, started: false });
    // What the handler may rely on is the saga's own `not_before`, never the deferral.
    expect(deferred.waitsUntil).toBe(t0 + 750);
    expect(deferrals).toEqual([800, 1600]);
    expect(once).toBe(t0 + 1800);
    // 2600 would defer it to 3600: capped at 3000 after the first request, not worth a write.
    expect(last).toBe(t0 + 2600);
  });

  it('writes a deferral at most every 100 ms for a debounce of a few milliseconds', async () => {
    const w = requestsWorld(2, 0, undefined, 60_000);
    await w.requests.request('2026', 'a');
    let deferrals = 0;
    w.slots.beforeWrite = async (puts) => {
      deferrals += puts.filter((p) => p.pk.endsWith('#quiet')).length;
    };

    // A request every 10 ms for a second.
    for (let i = 0; i < 100; i++) {
      w.clock.now += 10;
      await w.requests.request('2026', `r${i}`);
    }

    expect(deferrals).toBeGreaterThan(0);
    // One each MIN_DEFERRAL_STEP_MS (100 ms) at most, not one a request.
    expect(deferrals).toBeLessThanOrEqual(10);
  });

  it('defers no start while the sagas are held, nor when debounceMaxMs is not above the debounce', async () => {
    let hold: number | undefined = 1;
    const held = requestsWorld(1000, 0, () => hold, 60_000);
    const fixed = requestsWorld(1000, 0, undefined, 1000);

    const whileHeld = await held.requests.request('2026', 'a');
    held.clock.now += 5_000;
    await held.requests.request('2026', 'b');
    hold = undefined;
    const first = await fixed.requests.request('2026', 'a');
    fixed.clock.now += 900;
    await fixed.requests.request('2026', 'b');

    expect(await deferredStart(held.slots, whileHeld.saga_id)).toBeUndefined();
    expect(await deferredStart(fixed.slots, first.saga_id)).toBeUndefined();
    expect(fixed.begun).toHaveLength(1);
  });

  it("reads the season's saga once for the requests asked together", async () => {
    const w = requestsWorld();
    const first = await w.requests.request('2026', 'a');
    w.clock.now += 2_000;
    const reads: string[] = [];
    const read = w.store.read.bind(w.store);
    w.store.read = (streamId, ...rest) => {
      reads.push(streamId);
      return read(streamId, ...rest);
    };

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => w.requests.request('2026', `r${i}`)),
    );

    expect(outcomes.every((o) => o.saga_id === first.saga_id && !o.started)).toBe(true);
    expect(reads).toEqual([sagaStream(first.saga_id)]);
  });

  it('defers the start once for the requests asked together', async () => {
    const w = requestsWorld();
    const first = await w.requests.request('2026', 'a');
    w.clock.now += 2_000;
    let deferrals = 0;
    w.slots.beforeWrite = async (puts) => {
      deferrals += puts.filter((p) => p.pk.endsWith('#quiet')).length;
    };

    await Promise.all(Array.from({ length: 20 }, (_, i) => w.requests.request('2026', `r${i}`)));

    expect(deferrals).toBe(1);
    expect(await deferredStart(w.slots, first.saga_id)).toBe(w.clock.now + 1000);
  });

  it('starts one saga when two handlers ask at once', async () => {
    const w = requestsWorld();

    const outcomes = await Promise.all([
      w.requests.request('2026', 'a'),
      w.requests.request('2026', 'b'),
      w.requests.request('2026', 'c'),
    ]);

    expect(w.begun).toHaveLength(1);
    expect(new Set(outcomes.map((o) => o.saga_id)).size).toBe(1);
    expect(outcomes.filter((o) => o.started)).toHaveLength(1);
  });

  it('tries the start once for the requests of a season asked together, the others taken in by it', async () => {
    const w = requestsWorld();
    let slotWrites = 0;
    w.slots.beforeWrite = async (puts) => {
      slotWrites += puts.filter((p) => p.pk === 'requests#rpi').length;
    };

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => w.requests.request('2026', `r${i}`)),
    );

    expect(w.tried).toHaveLength(1);
    expect(slotWrites).toBe(1);
    expect(outcomes.filter((o) => o.started)).toHaveLength(1);
    expect(new Set(outcomes.map((o) => o.saga_id)).size).toBe(1);
  });

  it('records a change the matches read model does not show yet for the saga that takes it', async () => {
    const w = requestsWorld(1000);
    const change = (id: string, sequence = 1) => ({ aggregate_id: `match:${id}`, sequence });
    const shown = match('m3');
    await new Projector(matchesProjection, w.matches).apply([shown]);

    const first = await w.requests.request('2026', 'a', change('m1'));
    w.clock.now += 100;
    const second = await w.requests.request('2026', 'b', change('m2'));
    const third = await w.requests.request('2026', 'c', change('m3'));

    expect([first.started, second.started, third.started]).toEqual([true, false, false]);
    expect(await awaitedChanges(w.slots, first.saga_id)).toEqual([change('m1'), change('m2')]);
  });

  it('gives a change to the next saga when the pending one began work while it was recorded', async () => {
    const w = requestsWorld(1000);
    const first = await w.requests.request('2026', 'a');
    w.clock.now += 100;
    // The coordinator starts the saga's first step just as the change is being recorded for it.
    w.slots.beforeWrite = async (puts) => {
      if (puts.some((p) => p.pk === `saga#${first.saga_id}#awaits`)) {
        w.slots.beforeWrite = undefined;
        await w.startWork(first.saga_id);
      }
    };

    const late = await w.requests.request('2026', 'b', { aggregate_id: 'match:m1', sequence: 2 });

    expect(late.started).toBe(true);
    expect(late.saga_id).not.toBe(first.saga_id);
    expect(await awaitedChanges(w.slots, late.saga_id)).toEqual([
      { aggregate_id: 'match:m1', sequence: 2 },
    ]);
  });

  it('starts one saga when handlers racing for it are slower than its debounce margin', async () => {
    // Every look at the clock takes 100 ms: by the time a loser looks at the saga that won,
    // its debounce (200 ms, margin 50 ms) is nearly over.
    const w = requestsWorld(200, 100);

    const outcomes = await Promise.all(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((r) => w.requests.request('2026', r)),
    );

    expect(w.begun).toHaveLength(1);
    expect(outcomes.filter((o) => o.started)).toHaveLength(1);
    expect(new Set(outcomes.map((o) => o.saga_id)).size).toBe(1);
  });
});

/** A handler over the world, and 50 results the matches read model applied (it keeps up). */
async function handlerOfShownResults(w: ReturnType<typeof requestsWorld>) {
  const handler = new MatchEventHandler({
    requests: w.requests,
    store: w.store,
    registry,
    now: () => w.clock.now,
  });
  const results = Array.from({ length: 50 }, (_, i) => match(`m${i}`));
  await new Projector(matchesProjection, w.matches).apply(results);
  return { handler, results };
}

describe('MatchEventHandler', () => {
  it('asks for the season of each result, and needs one read for each that a pending saga takes in', async () => {
    const w = requestsWorld();
    const { handler, results } = await handlerOfShownResults(w);

    for (const result of results) await handler.handle(busEvent(result));

    expect(w.begun).toHaveLength(1);
    expect(handler.stats).toMatchObject({ events: 50, requests: 1, sagas_started: 1 });
    expect(await awaitedChanges(w.slots, w.begun[0]?.id ?? '')).toEqual([]);
  });

  it('needs one read for each result a saga waiting through a hold of the sagas takes in, however long past its debounce', async () => {
    let hold: number | undefined = 1;
    const w = requestsWorld(1000, 0, () => hold);
    const { handler, results } = await handlerOfShownResults(w);

    for (const [i, result] of results.entries()) {
      // Released halfway: from then on each result asks again (the saga may begin any time).
      if (i === 25) hold = undefined;
      w.clock.now += 1000;
      await handler.handle(busEvent(result));
    }

    expect(w.begun).toHaveLength(1);
    expect(handler.stats).toMatchObject({ events: 50, requests: 26, sagas_started: 1 });
  });

  it('reads the matches read model once for the results a pending saga takes in that arrive together', async () => {
    const w = requestsWorld();
    const { handler, results } = await handlerOfShownResults(w);
    await handler.handle(busEvent(results[0] as (typeof results)[number]));
    const reads: number[] = [];
    const getMany = w.matches.getMany.bind(w.matches);
    w.matches.getMany = async (keys) => {
      reads.push(keys.length);
      return getMany(keys);
    };

    // As a bus hands them to its targets: concurrently.
    await Promise.all(results.slice(1).map((result) => handler.handle(busEvent(result))));

    expect(handler.stats).toMatchObject({ events: 50, requests: 1, sagas_started: 1 });
    expect(reads).toEqual([49]);
  });

  it('records each result the matches read model does not show yet for the pending saga', async () => {
    const w = requestsWorld();
    const handler = new MatchEventHandler({
      requests: w.requests,
      store: w.store,
      registry,
      now: () => w.clock.now,
    });

    for (let i = 0; i < 3; i++) await handler.handle(busEvent(match(`m${i}`)));

    expect(w.begun).toHaveLength(1);
    expect(await awaitedChanges(w.slots, w.begun[0]?.id ?? '')).toEqual(
      ['m0', 'm1', 'm2'].map((id) => ({ aggregate_id: `match:${id}`, sequence: 1 })),
    );
  });

  it("finds a cancelled match's season in its stream, and ignores replayed events", async () => {
    const w = requestsWorld();
    const handler = new MatchEventHandler({ requests: w.requests, store: w.store, registry });
    const recorded = match('x', '2024');
    await w.store.append(recorded.aggregate_id, 0, [
      { event_type: 'MatchRecorded', data: recorded.data, correlation_id: 't' },
    ]);

    await handler.handle(busEvent(match('y'), true));
    await handler.handle(
      busEvent(envelope('MatchCancelled', 'match:x', 2, { match_id: 'x', reason: 'weather' })),
    );

    expect(w.begun.map((b) => b.data.season)).toEqual(['2024']);
    expect(handler.stats.ignored).toBe(1);
  });
});

describe('MetadataEventHandler', () => {
  const registered = (team: string, division: string) =>
    envelope(`TeamRegistered`, `team:${team}`, 1, {
      team_id: team,
      name: team,
      conference: 'East',
      division,
      region: null,
    });
  const updated = (team: string, sequence: number, division: string | null) =>
    envelope('TeamMetadataUpdated', `team:${team}`, sequence, {
      team_id: team,
      name: null,
      conference: null,
      division,
      region: 'North',
    });

  async function metadataWorld() {
    const w = requestsWorld();
    const directory = new InMemoryDocumentStore();
    const cache = new InMemoryDocumentStore();
    for (const season of ['2025', '2026']) {
      await writeCache(cache, {
        season,
        calculation_id: `c${season}`,
        as_of: null,
        profile: 'ncaa-soccer-2024',
        games_counted: 1,
        computed_at: null,
        published_at: null,
        rankings: [],
        previous_calculation_id: null,
        saga_id: null,
        collected_at: null,
      });
    }
    // Calculations of other scopes (as of a day, a division) are kept too, for 2026 and for a
    // season without current rankings: they are not what a division change recalculates.
    for (const [season, asOf, division] of [
      ['2026', '2026-10-01', null],
      ['2026', null, 'I'],
      ['2024', null, 'I'],
    ] as const) {
      await writeScope(cache, {
        season,
        calculation_id: `c${season}${asOf ?? ''}${division ?? ''}`,
        as_of: asOf,
        profile: 'ncaa-soccer-2024',
        division,
        games_counted: 1,
        computed_at: null,
        published_at: null,
        rankings: [],
        previous_calculation_id: null,
        saga_id: null,
        collected_at: null,
      });
    }
    const handler = new MetadataEventHandler({ directory, cache, requests: w.requests, registry });
    return { ...w, directory, handler };
  }

  it('keeps the directory current and recalculates each cached season when a division changes', async () => {
    const w = await metadataWorld();

    await w.handler.handle(busEvent(registered('Ash', 'I')));
    await w.handler.handle(busEvent(updated('Ash', 2, null))); // region only
    await w.handler.handle(busEvent(updated('Ash', 3, 'II')));
    await w.handler.handle(busEvent(updated('Ash', 3, 'II'))); // redelivered

    expect(await getTeam(w.directory, 'Ash')).toMatchObject({
      conference: 'East',
      division: 'II',
      region: 'North',
      version: 3,
    });
    expect(w.handler.stats.division_changes).toBe(1);
    // Once each season with current rankings, in the season's own profile and division.
    expect(w.begun.map((b) => b.data.season).sort()).toEqual(['2025', '2026']);
    expect(w.begun.map((b) => [b.data.as_of, b.data.profile, b.data.division])).toEqual([
      [null, 'ncaa-soccer-2024', null],
      [null, 'ncaa-soccer-2024', null],
    ]);
  });

  it('reads and writes the teams of events delivered together once, each key once a write', async () => {
    // Prepare
    const w = await metadataWorld();
    const calls: { reads: number[]; writes: string[][] } = { reads: [], writes: [] };
    const directory = w.directory;
    const counted: typeof directory = Object.assign(Object.create(directory), {
      getMany: (keys: readonly DocKey[]) => {
        calls.reads.push(keys.length);
        return directory.getMany(keys);
      },
      write: (puts: readonly StoredDoc[], deletes: readonly DocKey[]) => {
        calls.writes.push(puts.map((p) => `${p.sk} v${(p.doc as { version: number }).version}`));
        return directory.write(puts, deletes);
      },
    });
    const handler = new MetadataEventHandler({
      directory: counted,
      cache: new InMemoryDocumentStore(),
      requests: w.requests,
      registry,
    });
    const teams = ['Ash', 'Birch', 'Cedar', 'Elm', 'Fir', 'Oak'];

    // Act: as a bus delivers them, several at once; Oak's update with its registration.
    await Promise.all([
      ...teams.map((t) => handler.handle(busEvent(registered(t, 'I')))),
      handler.handle(busEvent(updated('Oak', 2, 'II'))),
    ]);

    // Assert: one read and one write of the six teams' registrations; Oak's update after its
    // registration, reading what it wrote.
    expect(calls.reads).toEqual([6, 1]);
    expect(calls.writes).toEqual([[...teams.map((t) => `${t} v1`)], ['Oak v2']]);
    for (const t of teams) expect(await getTeam(directory, t)).toBeDefined();
    expect(await getTeam(directory, 'Oak')).toMatchObject({
      conference: 'East',
      division: 'II',
      version: 2,
    });
    expect(handler.stats.events).toBe(7);
  });

  it("applies a team's events delivered together in their order: an update keeps what the registration said, and a division change recalculates", async () => {
    // Prepare: a registration and the update after it, handed over at once (a bus hands a
    // handler what it routes together, in no particular order of completion).
    const w = await metadataWorld();

    // Act
    await Promise.all([
      w.handler.handle(busEvent(registered('Pine', 'I'))),
      w.handler.handle(busEvent(updated('Pine', 2, 'II'))),
    ]);

    // Assert: the conference registered stays; the move from I to II asks for each season with
    // current rankings.
    expect(await getTeam(w.directory, 'Pine')).toMatchObject({
      conference: 'East',
      division: 'II',
      region: 'North',
      version: 2,
    });
    expect(w.handler.stats.division_changes).toBe(1);
    expect(w.begun.map((b) => b.data.season).sort()).toEqual(['2025', '2026']);
  });

  it('fails only the event whose write fails, when it was delivered with others', async () => {
    // Prepare: a directory that refuses any write holding the team "Bad".
    const w = await metadataWorld();
    const directory = w.directory;
    const refusing: typeof directory = Object.assign(Object.create(directory), {
      write: (puts: readonly StoredDoc[], deletes: readonly DocKey[]) =>
        puts.some((p) => p.sk === 'Bad')
          ? Promise.reject(new Error('item refused'))
          : directory.write(puts, deletes),
    });
    const handler = new MetadataEventHandler({
      directory: refusing,
      cache: new InMemoryDocumentStore(),
      requests: w.requests,
      registry,
    });

    // Act
    const outcomes = await Promise.allSettled(
      ['Ash', 'Bad', 'Cedar'].map((t) => handler.handle(busEvent(registered(t, 'I')))),
    );

    // Assert
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('item refused');
    expect(await getTeam(directory, 'Ash')).toBeDefined();
    expect(await getTeam(directory, 'Cedar')).toBeDefined();
    expect(await getTeam(directory, 'Bad')).toBeUndefined();
  });

  it('rebuilds the directory from replayed events without asking for anything', async () => {
    const w = await metadataWorld();

    await w.handler.handle(busEvent(registered('Elm', 'I'), true));
    await w.handler.handle(busEvent(updated('Elm', 2, 'III'), true));

    expect((await getTeam(w.directory, 'Elm'))?.division).toBe('III');
    expect(w.begun).toEqual([]);
  });
});

describe('CalculationEventHandler', () => {
  const CURRENT = { profile: 'ncaa-soccer-2024', division: null };
  const ranking = (teams: string[]) =>
    teams.map((team, i) => ({
      rank: i + 1,
      team,
      games: 10,
      wins: 5,
      losses: 5,
      ties: 0,
      wp: 0.5,
      owp: 0.5,
      oowp: 0.5,
      rpi: 0.6 - i / 100,
      unadjusted_rank: null,
      unadjusted_rpi: null,
      adjustment: null,
      bonus: null,
    }));

  const calc = (n: number) => uuidFromName(`calc-${n}`);

  async function publish(
    store: InMemoryEventStore,
    n: number,
    teams: string[],
    scope: { as_of?: string; profile?: string; division?: string } = {},
  ) {
    const id = calc(n);
    const stream = `rpi:${id}`;
    const published_at = `2026-10-0${n}T00:00:00.000Z`;
    await store.append(stream, 0, [
      {
        event_type: 'RpiCalculated',
        correlation_id: id,
        data: {
          calculation_id: id,
          season: '2026',
          as_of: scope.as_of ?? null,
          profile: scope.profile ?? 'ncaa-soccer-2024',
          division: scope.division ?? null,
          games_counted: 10,
          first_game_on: null,
          last_game_on: null,
          computed_at: published_at,
          variant: 'unadjusted',
          adjustments: null,
          rankings: ranking(teams),
        },
      },
      {
        event_type: 'RpiResultsPublished',
        correlation_id: id,
        data: { calculation_id: id, season: '2026', as_of: null, published_at },
      },
    ]);
    return busEvent(
      envelope('RpiResultsPublished', stream, 2, {
        calculation_id: id,
        season: '2026',
        as_of: null,
        published_at,
      }),
    );
  }

  it('notes each team whose top-25 place changed, once however often it is told', async () => {
    const store = new InMemoryEventStore(registry);
    const notifications = new InMemoryDocumentStore();
    const handler = new CalculationEventHandler({
      store,
      notifications,
      current: CURRENT,
      registry,
    });
    const first = await publish(store, 1, ['A', 'B', 'C']);
    const second = await publish(store, 2, ['B', 'A', 'D']);

    await handler.handle(first);
    await handler.handle(second);
    await handler.handle(second);

    const notes = await notificationsOf(notifications, '2026');
    expect(notes.filter((n) => n.calculation_id === calc(1)).map((n) => n.kind)).toEqual([
      'entered',
      'entered',
      'entered',
    ]);
    expect(
      notes
        .filter((n) => n.calculation_id === calc(2))
        .map((n) => [n.kind, n.team, n.previous_rank, n.rank])
        .sort(),
    ).toEqual([
      ['entered', 'D', null, 3],
      ['left', 'C', 3, null],
      ['rank-changed', 'A', 1, 2],
      ['rank-changed', 'B', 2, 1],
    ]);
  });

  it('notes a retraction and compares the next publication with the top before it', async () => {
    const store = new InMemoryEventStore(registry);
    const notifications = new InMemoryDocumentStore();
    const handler = new CalculationEventHandler({
      store,
      notifications,
      current: CURRENT,
      registry,
    });
    await handler.handle(await publish(store, 1, ['A', 'B']));
    await handler.handle(await publish(store, 2, ['B', 'A']));
    await store.append(`rpi:${calc(2)}`, 2, [
      {
        event_type: 'RpiResultsRetracted',
        correlation_id: 'x',
        data: { calculation_id: calc(2), season: '2026', reason: 'compensated' },
      },
    ]);

    await handler.handle(
      busEvent(
        envelope('RpiResultsRetracted', `rpi:${calc(2)}`, 3, {
          calculation_id: calc(2),
          season: '2026',
          reason: 'compensated',
        }),
      ),
    );
    await handler.handle(await publish(store, 3, ['A', 'B']));

    const notes = await notificationsOf(notifications, '2026');
    expect(notes.filter((n) => n.kind === 'retracted').map((n) => n.calculation_id)).toEqual([
      calc(2),
    ]);
    // calc-3 equals calc-1, the top the retraction brought back: nothing changed.
    expect(notes.filter((n) => n.calculation_id === calc(3))).toEqual([]);
  });

  it("moves the top 25 only with the season's current rankings, not with a calculation of another scope", async () => {
    const store = new InMemoryEventStore(registry);
    const notifications = new InMemoryDocumentStore();
    const handler = new CalculationEventHandler({
      store,
      notifications,
      current: CURRENT,
      registry,
    });
    await handler.handle(await publish(store, 1, ['A', 'B', 'C']));

    await handler.handle(await publish(store, 2, ['C', 'B', 'A'], { as_of: '2026-09-15' }));
    await handler.handle(await publish(store, 3, ['B', 'C', 'A'], { profile: 'ncaa-hockey' }));
    await handler.handle(await publish(store, 4, ['D', 'E'], { division: 'I' }));
    await handler.handle(await publish(store, 5, ['A', 'C', 'B']));

    const notes = await notificationsOf(notifications, '2026');
    expect([...new Set(notes.map((n) => n.calculation_id))]).toEqual([calc(1), calc(5)]);
    expect(
      notes
        .filter((n) => n.calculation_id === calc(5))
        .map((n) => [n.team, n.previous_rank, n.rank])
        .sort(),
    ).toEqual([
      ['B', 2, 3],
      ['C', 3, 2],
    ]);
    expect(handler.stats.other_scopes).toBe(3);
  });
});
