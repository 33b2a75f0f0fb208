import { describe, expect, it } from 'vitest';
import type { Game } from '../../../domain/games/Game.js';
import type { GameProblem, GameRow } from '../../../feeds/readGames.js';
import { IngestStoppedError, ingestGames, type Reject } from '../../../ingest/ingestGames.js';
import type { NewEvent } from '../../../stream/EventEnvelope.js';
import type { EventStore } from '../../../stream/eventStore/EventStore.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { StoreError, StoreStoppedError } from '../../../stream/StoreError.js';
import { game } from '../../support/games.js';
import { registry } from '../../support/registry.js';

let line = 1;
function row(g: Game): GameRow {
  line++;
  return { kind: 'game', line, game: g, fields: { home_team: g.homeTeam } };
}

async function* batches(items: readonly (GameRow | GameProblem)[], size = 3) {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

async function allEvents(store: EventStore) {
  const out = [];
  for await (const batch of store.readAll()) out.push(...batch);
  return out;
}

describe('ingestGames', () => {
  it('records new matches and registers each team once', async () => {
    // Prepare
    const store = new InMemoryEventStore(registry);
    const rows = [
      row(game('A 2-1 B', { matchId: 'm1' })),
      row(game('B 0-0 C', { matchId: 'm2' })),
      row(game('C 1-3 A', { matchId: 'm3' })),
    ];

    // Act
    const summary = await ingestGames(batches(rows), {
      store,
      concurrency: 4,
      correlationId: 'run-1',
    });

    // Assess
    expect(summary).toMatchObject({
      read: 3,
      appended: 3,
      unchanged: 0,
      corrected: 0,
      rejected: 0,
      failed: 0,
    });
    expect(summary).toMatchObject({ teams_registered: 3, events_appended: 6 });
    const [m1] = await store.read('match:m1');
    expect(m1).toMatchObject({
      event_type: 'MatchRecorded',
      correlation_id: 'run-1',
      data: {
        match_id: 'm1',
        home_team: 'A',
        away_team: 'B',
        home_goals: 2,
        away_goals: 1,
        season: '2024',
      },
    });
    expect((await store.read('team:B')).map((e) => e.event_type)).toEqual(['TeamRegistered']);
  });

  it('appends nothing for the same rows again, and corrects a changed result', async () => {
    const store = new InMemoryEventStore(registry);
    const first = [
      row(game('A 2-1 B', { matchId: 'm1' })),
      row(game('B 0-0 C', { matchId: 'm2' })),
    ];
    await ingestGames(batches(first), { store });

    const again = await ingestGames(batches(first), { store });
    const changed = await ingestGames(
      batches([row(game('A 2-2 B', { matchId: 'm1' })), row(game('B 0-0 C', { matchId: 'm2' }))]),
      { store },
    );
    const changedAgain = await ingestGames(batches([row(game('A 2-2 B', { matchId: 'm1' }))]), {
      store,
    });

    expect(again).toMatchObject({
      appended: 0,
      unchanged: 2,
      corrected: 0,
      teams_registered: 0,
      events_appended: 0,
    });
    expect(changed).toMatchObject({ appended: 0, unchanged: 1, corrected: 1, events_appended: 1 });
    expect(changedAgain).toMatchObject({ unchanged: 1, events_appended: 0 });
    const events = await store.read('match:m1');
    expect(events.map((e) => e.event_type)).toEqual(['MatchRecorded', 'MatchResultCorrected']);
    expect(events[1]?.data).toMatchObject({ home_goals: 2, away_goals: 2, reason: null });
  });

  it('counts a row the feed repeats as unchanged, and stores a later row that restores the first result', async () => {
    // Arrange: one match given four times in one feed, its last row going back to the first.
    const store = new InMemoryEventStore(registry);
    const rows = ['A 1-0 B', 'A 1-0 B', 'A 1-1 B', 'A 1-0 B'].map((score) =>
      row(game(score, { matchId: 'm1' })),
    );

    // Act
    const summary = await ingestGames(batches(rows, 1), { store, correlationId: 'run-1' });

    // Assess: the file's last row is the match's result, and each row is counted once.
    const events = await store.read('match:m1');
    expect(events.map((e) => e.event_type)).toEqual([
      'MatchRecorded',
      'MatchResultCorrected',
      'MatchResultCorrected',
    ]);
    expect(events.at(-1)?.data).toMatchObject({ home_goals: 1, away_goals: 0 });
    expect(summary).toMatchObject({ appended: 1, unchanged: 1, corrected: 2 });
    expect(summary.events_appended).toBe((await allEvents(store)).length);
  });

  it('corrects a match back to its first result when a later feed restores it', async () => {
    // Arrange: a result, then a feed correcting it.
    const store = new InMemoryEventStore(registry);
    const feed = (score: string) => batches([row(game(score, { matchId: 'm1' }))]);
    await ingestGames(feed('A 1-0 B'), { store });
    await ingestGames(feed('A 1-1 B'), { store });

    // Act: a feed that goes back to the first result.
    const restored = await ingestGames(feed('A 1-0 B'), { store });

    // Assess
    expect(restored).toMatchObject({ appended: 0, unchanged: 0, corrected: 1 });
    const events = await store.read('match:m1');
    expect(events.at(-1)?.data).toMatchObject({ home_goals: 1, away_goals: 0 });
  });

  it('appends nothing for a feed run again that holds a match and its correction', async () => {
    // Arrange: a feed giving a result, then correcting it, already ingested once.
    const store = new InMemoryEventStore(registry);
    const rows = [row(game('A 1-0 B', { matchId: 'm1' })), row(game('A 1-1 B', { matchId: 'm1' }))];
    const onRow: number[] = [];
    await ingestGames(batches(rows, 1), { store });

    // Act
    const again = await ingestGames(batches(rows, 1), {
      store,
      onRow: (s) => onRow.push(s.read),
    });

    // Assess
    expect(again).toMatchObject({ appended: 0, unchanged: 2, corrected: 0, events_appended: 0 });
    expect(onRow).toHaveLength(2);
    const events = await store.read('match:m1');
    expect(events.map((e) => e.event_type)).toEqual(['MatchRecorded', 'MatchResultCorrected']);
  });

  it('records the venue, keeps it when a feed does not name one, and corrects it when a feed names another', async () => {
    const store = new InMemoryEventStore(registry);
    const ingest = (venue?: string) =>
      ingestGames(batches([row(game('A 2-1 B', { matchId: 'm1', ...(venue ? { venue } : {}) }))]), {
        store,
      });

    await ingest('Harbor Field');
    const silent = await ingest();
    const same = await ingest('Harbor Field');
    const moved = await ingest('Eastfield Park');

    expect(silent).toMatchObject({ unchanged: 1, events_appended: 0 });
    expect(same).toMatchObject({ unchanged: 1, events_appended: 0 });
    expect(moved).toMatchObject({ corrected: 1 });
    const events = await store.read('match:m1');
    expect(events.map((e) => [e.event_type, 'venue' in e.data ? e.data.venue : undefined])).toEqual(
      [
        ['MatchRecorded', 'Harbor Field'],
        ['MatchResultCorrected', 'Eastfield Park'],
      ],
    );
  });

  it('keeps the recorded venue through a correction from a feed without venues', async () => {
    const store = new InMemoryEventStore(registry);
    await ingestGames(batches([row(game('A 2-1 B', { matchId: 'm1', venue: 'Harbor Field' }))]), {
      store,
    });

    await ingestGames(batches([row(game('A 3-1 B', { matchId: 'm1' }))]), { store });

    const [, corrected] = await store.read('match:m1');
    expect(corrected?.data).toMatchObject({ home_goals: 3, venue: 'Harbor Field' });
  });

  it('applies rows of the same match in file order, whatever the concurrency', async () => {
    const store = new InMemoryEventStore(registry);
    const rows = [1, 2, 3, 4, 5].map((n) => row(game(`A ${n}-0 B`, { matchId: 'm1' })));

    const summary = await ingestGames(batches(rows, 1), { store, concurrency: 16 });

    expect(summary).toMatchObject({ appended: 1, corrected: 4 });
    const events = await store.read('match:m1');
    expect(events.map((e) => ('home_goals' in e.data ? e.data.home_goals : undefined))).toEqual([
      1, 2, 3, 4, 5,
    ]);
  });

  it('tells same-day meetings without match ids apart by their order', async () => {
    const store = new InMemoryEventStore(registry);
    const rows = [row(game('A 1-0 B')), row(game('A 0-2 B'))];

    const first = await ingestGames(batches(rows), { store });
    const second = await ingestGames(batches(rows), { store });

    expect(first).toMatchObject({ appended: 2 });
    expect(second).toMatchObject({ unchanged: 2, appended: 0 });
    const matches = (await allEvents(store)).filter((e) => e.event_type === 'MatchRecorded');
    expect(new Set(matches.map((e) => e.aggregate_id)).size).toBe(2);
    expect(matches.every((e) => /^match:2024-09-01:[0-9a-f]{20}$/.test(e.aggregate_id))).toBe(true);
  });

  it('rejects invalid rows with their line, reason and fields, and keeps the good ones', async () => {
    const store = new InMemoryEventStore(registry);
    const rejects: Reject[] = [];
    const items = [
      row(game('A 1-0 B', { matchId: 'm1' })),
      {
        kind: 'problem',
        line: 40,
        reason: 'home_score "x" is not a whole number',
        fields: { home_score: 'x' },
      } as const,
      row(game('C 1-0 D', { matchId: 'm2' })),
    ];

    const summary = await ingestGames(batches(items), { store, onReject: (r) => rejects.push(r) });

    expect(summary).toMatchObject({ read: 3, appended: 2, rejected: 1 });
    expect(rejects).toEqual([
      { line: 40, reason: 'home_score "x" is not a whole number', fields: { home_score: 'x' } },
    ]);
  });

  it('stops at a store that stopped: rejects nothing, tries no row after it, and says how many were stored', async () => {
    // Prepare: a store whose server ends under the tenth append (a local store's disk full).
    const inner = new InMemoryEventStore(registry);
    const stop = new StoreStoppedError(
      "the tables' store",
      'IO error: 000003.log: No space left on device',
    );
    let appends = 0;
    const store: EventStore = {
      append: async (id: string, v: number, events: readonly NewEvent[]) => {
        appends++;
        if (appends >= 10)
          throw new StoreError(
            'STORE_UNAVAILABLE',
            `DynamoDB table events: ${stop.message}`,
            {},
            { cause: stop },
          );
        return inner.append(id, v, events);
      },
      read: (id, o) => inner.read(id, o),
      readAll: (o) => inner.readAll(o),
    };
    const rows = Array.from({ length: 200 }, (_, i) =>
      row(game(`T${i % 20} 1-0 T${(i % 20) + 1}`, { matchId: `m${i}` })),
    );
    const rejects: Reject[] = [];

    // Act
    const error = await ingestGames(batches(rows, 10), {
      store,
      concurrency: 4,
      onReject: (r) => rejects.push(r),
    }).catch((e: unknown) => e);

    // Assess: one error, the stopped store's, with what was stored before it...
    expect(error).toBeInstanceOf(IngestStoppedError);
    const stopped = error as IngestStoppedError;
    expect(stopped.cause).toBe(stop);
    expect(stopped.message).toBe(stop.message);
    const stored = (await allEvents(inner)).length;
    expect(stopped.summary.appended + stopped.summary.teams_registered).toBe(stored);
    expect(stopped.summary).toMatchObject({ failed: 0, teams_failed: 0, rejected: 0 });
    // ...no row rejected for it, and no more rows read than were under way when it stopped.
    expect(rejects).toEqual([]);
    expect(stopped.summary.read).toBeLessThan(30);
    expect(appends).toBeLessThan(10 + 4 + 2);
  });

  it('rejects rows the store cannot take, with the reason, and goes on', async () => {
    // A store whose DynamoDB table keeps failing for one match.
    const inner = new InMemoryEventStore(registry);
    const store: EventStore = {
      append: async (id: string, v: number, events: readonly NewEvent[]) => {
        if (id === 'match:bad')
          throw new StoreError('STORE_UNAVAILABLE', 'DynamoDB table events: InternalServerError', {
            aggregateId: id,
          });
        return inner.append(id, v, events);
      },
      read: (id, o) => inner.read(id, o),
      readAll: (o) => inner.readAll(o),
    };
    const rejects: Reject[] = [];
    const bad = row(game('A 1-0 B', { matchId: 'bad' }));

    const summary = await ingestGames(batches([bad, row(game('A 1-1 C', { matchId: 'good' }))]), {
      store,
      onReject: (r) => rejects.push(r),
    });

    expect(summary).toMatchObject({ read: 2, appended: 1, failed: 1 });
    expect(rejects).toEqual([
      {
        line: bad.line,
        reason: 'not stored: DynamoDB table events: InternalServerError',
        fields: bad.fields,
      },
    ]);
    const { read, appended, unchanged, corrected, rejected, failed } = summary;
    expect(appended + unchanged + corrected + rejected + failed).toBe(read);
  });

  it('ingests a large feed with every row accounted for', async () => {
    const store = new InMemoryEventStore(registry);
    const rows = Array.from({ length: 600 }, (_, i) =>
      row(game(`T${i % 37} ${i % 4}-${i % 3} U${i % 41}`, { matchId: `m${i % 500}` })),
    );

    const summary = await ingestGames(batches(rows, 50), { store, concurrency: 8 });

    expect(summary.appended).toBe(500);
    expect(summary.appended + summary.unchanged + summary.corrected).toBe(600);
    expect(summary.teams_registered).toBe(78);
    const events = await allEvents(store);
    expect(events).toHaveLength(summary.events_appended);
  });
});
