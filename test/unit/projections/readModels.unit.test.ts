import { describe, expect, it } from 'vitest';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { ProjectionSpec } from '../../../projections/ProjectionSpec.js';
import { Projector } from '../../../projections/Projector.js';
import {
  matchesOfSeason,
  matchesOfTeam,
  matchesProjection,
} from '../../../projections/readModels/matches.js';
import {
  eventCounts,
  pipelineStatsProjection,
} from '../../../projections/readModels/pipelineStats.js';
import {
  calculations,
  currentRankings,
  rankHistory,
  rankingsProjection,
} from '../../../projections/readModels/rankings.js';
import { standings, standingsProjection } from '../../../projections/readModels/standings.js';
import { getTeam, listTeams, teamsProjection } from '../../../projections/readModels/teams.js';
import { sagaDocument } from '../../../sagas/sagaDocument.js';
import { foldSaga } from '../../../sagas/sagaState.js';
import { getSaga, lastSaga, sagasProjection } from '../../../sagas/sagasReadModel.js';
import type { EventData, SagaEventType } from '../../../schemas/events.js';
import { envelope, result } from '../../support/envelopes.js';
import { teamRegistered } from '../../support/registry.js';

const registered = (team: string, conference: string | null, seq = 1) =>
  envelope('TeamRegistered', `team:${team}`, seq, {
    team_id: team,
    name: team,
    conference,
    division: 'I',
    region: null,
  });

describe('team directory', () => {
  it('registers teams and merges metadata updates, ignoring repeats and stale events', async () => {
    const update = envelope('TeamMetadataUpdated', 'team:A', 2, {
      team_id: 'A',
      name: null,
      conference: 'East',
      division: null,
      region: null,
    });

    await ProjectionSpec.for(teamsProjection)
      .given([registered('A', null), registered('B', 'West')])
      .when([update, update, registered('A', 'Stale', 1)])
      .thenExpect(async (store) => {
        expect(await getTeam(store, 'A')).toMatchObject({
          name: 'A',
          conference: 'East',
          division: 'I',
          version: 2,
        });
        expect((await listTeams(store)).map((t) => t.team_id)).toEqual(['A', 'B']);
        expect(await getTeam(store, 'Z')).toBeUndefined();
      });
  });
});

describe('matches', () => {
  it('keeps each match under its season and both teams, and moves it when a correction changes a team', async () => {
    await ProjectionSpec.for(matchesProjection)
      .given([result('m1', 'A 2-1 B'), result('m2', 'B 0-0 C', { playedOn: '2026-09-05' })])
      .when([
        result('m1', 'A 2-2 D', { corrected: true, sequence: 2 }),
        envelope('MatchCancelled', 'match:m2', 2, { match_id: 'm2', reason: 'storm' }),
      ])
      .thenExpect(async (store) => {
        const season = await matchesOfSeason(store, '2026');
        expect(
          season.map((m) => [m.match_id, m.status, m.home_goals, m.away_goals, m.away_team]),
        ).toEqual([
          ['m1', 'corrected', 2, 2, 'D'],
          ['m2', 'cancelled', 0, 0, 'C'],
        ]);
        expect((await matchesOfTeam(store, 'B')).map((m) => m.match_id)).toEqual(['m2']);
        expect((await matchesOfTeam(store, 'D')).map((m) => m.match_id)).toEqual(['m1']);
        expect(season[0]?.corrections).toBe(1);
        expect(season[1]?.cancellation_reason).toBe('storm');
      });
  });
});

describe('matches v2: the venue', () => {
  it('keeps the venue a result names, through corrections that do not name one, and null for results without', async () => {
    await ProjectionSpec.for(matchesProjection)
      .given([result('m1', 'A 2-1 B', { venue: 'Harbor Field' }), result('m2', 'B 0-0 C')])
      .when([
        result('m1', 'A 2-2 B', { corrected: true, sequence: 2 }),
        result('m2', 'B 1-0 C', { corrected: true, sequence: 2, venue: 'Eastfield Park' }),
      ])
      .thenExpect(async (store) => {
        const season = await matchesOfSeason(store, '2026');
        expect(season.map((m) => [m.match_id, m.home_goals, m.venue])).toEqual([
          ['m1', 2, 'Harbor Field'],
          ['m2', 1, 'Eastfield Park'],
        ]);
      });
  });
});

describe('standings', () => {
  it('counts W-L-T and goals per team, a penalty-kick result as a tie, grouped by conference', async () => {
    const conference: Record<string, string> = { A: 'East', B: 'East', C: 'West' };
    await ProjectionSpec.for(standingsProjection)
      .when([
        result('m1', 'A 2-1 B'),
        result('m2', 'B 1-1 C', { decidedBy: 'penalties' }),
        result('m3', 'C 3-0 A', { playedOn: '2026-09-10' }),
      ])
      .thenExpect(async (store) => {
        const table = await standings(store, '2026', {
          conferenceOf: (t) => conference[t] ?? null,
        });
        expect(
          table.map((c) => [
            c.conference,
            c.teams.map((t) => [
              t.team,
              t.wins,
              t.losses,
              t.ties,
              t.goals_for,
              t.goals_against,
              t.points,
            ]),
          ]),
        ).toEqual([
          [
            'East',
            [
              ['A', 1, 1, 0, 2, 4, 3],
              ['B', 0, 1, 1, 2, 3, 1],
            ],
          ],
          ['West', [['C', 1, 0, 1, 4, 1, 4]]],
        ]);
        const asOf = await standings(store, '2026', { asOf: '2026-09-05' });
        expect(asOf.flatMap((c) => c.teams).find((t) => t.team === 'C')).toMatchObject({
          played: 1,
          ties: 1,
        });
      });
  });

  it('sums a season a page at a time, never reading it whole', async () => {
    /** Hands a season out one document a page; refuses to answer a query whole. */
    class OneAPage extends InMemoryDocumentStore {
      pages = 0;
      override async query(): Promise<never> {
        throw new Error('read whole');
      }
      override async *queryPages(pk: string) {
        for (const doc of await super.query(pk)) {
          this.pages++;
          yield [doc];
        }
      }
    }
    const store = new OneAPage();
    await new Projector(standingsProjection, store).apply([
      result('m1', 'A 2-1 B'),
      result('m2', 'B 1-1 C'),
      result('m3', 'C 3-0 A'),
    ]);

    const teams = (await standings(store, '2026')).flatMap((c) => c.teams);

    expect(store.pages).toBe(3);
    expect(teams.map((t) => [t.team, t.wins, t.losses, t.ties, t.points])).toEqual([
      ['C', 1, 0, 1, 4],
      ['A', 1, 1, 0, 3],
      ['B', 0, 1, 1, 1],
    ]);
  });

  it('replaces a corrected result, moves it when the teams change, and drops a cancelled match', async () => {
    await ProjectionSpec.for(standingsProjection)
      .given([result('m1', 'A 2-1 B'), result('m2', 'A 1-0 C')])
      .when([
        result('m1', 'A 0-1 D', { corrected: true, sequence: 2 }),
        envelope('MatchCancelled', 'match:m2', 2, { match_id: 'm2', reason: null }),
      ])
      .thenExpect(async (store) => {
        const teams = (await standings(store, '2026')).flatMap((c) => c.teams);
        expect(teams.map((t) => [t.team, t.wins, t.losses])).toEqual([
          ['D', 1, 0],
          ['A', 0, 1],
        ]);
      });
  });

  it('changes nothing when a batch is applied twice (a retried batch after a crash)', async () => {
    const events = [
      result('m1', 'A 2-1 B'),
      result('m1', 'A 2-2 B', { corrected: true, sequence: 2 }),
      result('m2', 'B 3-1 C'),
    ];
    const once = await ProjectionSpec.for(standingsProjection)
      .when(events)
      .thenExpect(() => {});
    const twice = await ProjectionSpec.for(standingsProjection)
      .given(events)
      .when(events)
      .thenExpect(() => {});
    expect(twice.all()).toEqual(once.all());
  });
  it('keeps one item per match under its season and a reference per match: two items a result', async () => {
    const store = await ProjectionSpec.for(standingsProjection)
      .given([result('m1', 'A 2-1 B'), result('m2', 'B 1-1 C', { season: '2025' })])
      .when([result('m1', 'A 2-2 B', { corrected: true, sequence: 2 })])
      .thenExpect(() => {});
    expect(store.all().map((d) => [d.pk, d.sk])).toEqual([
      ['ref#match:m1', '-'],
      ['ref#match:m2', '-'],
      ['season#2025', 'match:m2'],
      ['season#2026', 'match:m1'],
    ]);
    expect((await store.query('season#2026'))[0]?.doc).toEqual({
      played_on: '2026-09-01',
      home_team: 'A',
      away_team: 'B',
      home_goals: 2,
      away_goals: 2,
      tie: true,
    });
  });

  it('moves a match corrected into another season, leaving nothing in the first', async () => {
    await ProjectionSpec.for(standingsProjection)
      .given([result('m1', 'A 2-1 B')])
      .when([result('m1', 'A 2-1 B', { corrected: true, sequence: 2, season: '2027' })])
      .thenExpect(async (store) => {
        expect(await standings(store, '2026')).toEqual([]);
        const teams = (await standings(store, '2027')).flatMap((c) => c.teams);
        expect(teams.map((t) => [t.team, t.wins, t.losses])).toEqual([
          ['A', 1, 0],
          ['B', 0, 1],
        ]);
      });
  });

  it('follows a generation version 1 built: counts its team lines, and replaces them on a correction or a cancellation', async () => {
    // The items version 1 wrote for two results, A 2-1 B and C 0-0 D.
    const store = new InMemoryDocumentStore();
    const v1 = (id: string, home: string, away: string, hg: number, ag: number) => {
      const line = (team: string, gf: number, ga: number) => ({
        pk: 'season#2026',
        sk: `${team}\u0000match:${id}`,
        doc: {
          team,
          played_on: '2026-09-01',
          result: gf === ga ? 'T' : gf > ga ? 'W' : 'L',
          goals_for: gf,
          goals_against: ga,
        },
      });
      return [
        {
          pk: `ref#match:${id}`,
          sk: '-',
          doc: { season: '2026', home_team: home, away_team: away, counted: true, version: 1 },
        },
        line(home, hg, ag),
        line(away, ag, hg),
      ];
    };
    await store.write([...v1('m1', 'A', 'B', 2, 1), ...v1('m2', 'C', 'D', 0, 0)], []);
    const row = async (team: string) =>
      (await standings(store, '2026')).flatMap((c) => c.teams).find((t) => t.team === team);
    expect(await row('A')).toMatchObject({ wins: 1, played: 1 });

    const projector = new Projector(standingsProjection, store);
    await projector.apply([
      result('m1', 'A 0-3 B', { corrected: true, sequence: 2 }),
      envelope('MatchCancelled', 'match:m2', 2, { match_id: 'm2', reason: null }),
      result('m3', 'A 1-1 C'),
    ]);
    const teams = (await standings(store, '2026')).flatMap((c) => c.teams);
    expect(teams.map((t) => [t.team, t.played, t.wins, t.losses, t.ties])).toEqual([
      ['B', 1, 1, 0, 0],
      ['C', 1, 0, 0, 1],
      ['A', 2, 0, 1, 1],
    ]);
    // No line version 1 wrote is left; each match that counts is one item.
    expect((await store.query('season#2026')).map((d) => d.sk)).toEqual(['match:m1', 'match:m3']);
  });
});

describe('rankings', () => {
  const SCOPE = { season: '2026', profile: 'ncaa-soccer-2024', division: null };
  const calculated = (
    id: string,
    asOf: string | null,
    top: string,
    scope: { profile?: string; division?: string | null; day?: string } = {},
  ) =>
    envelope('RpiCalculated', `rpi:${id}`, 1, {
      calculation_id: id,
      season: '2026',
      as_of: asOf,
      profile: scope.profile ?? 'ncaa-soccer-2024',
      division: scope.division ?? null,
      games_counted: 10,
      first_game_on: null,
      last_game_on: asOf ?? scope.day ?? null,
      // Computed later than the games it counts: the day of its last game is what it speaks for.
      computed_at: `${asOf ?? scope.day ?? '2026-11-01'}T23:00:00.000Z`,
      variant: 'unadjusted',
      adjustments: null,
      rankings: [
        {
          rank: 1,
          team: top,
          games: 3,
          wins: 3,
          losses: 0,
          ties: 0,
          wp: 1,
          owp: 0.5,
          oowp: 0.5,
          rpi: 0.625,
          unadjusted_rank: null,
          unadjusted_rpi: null,
          adjustment: null,
          bonus: null,
        },
        {
          rank: 2,
          team: 'Other',
          games: 3,
          wins: 0,
          losses: 3,
          ties: 0,
          wp: 0,
          owp: 0.5,
          oowp: 0.5,
          rpi: 0.375,
          unadjusted_rank: null,
          unadjusted_rpi: null,
          adjustment: null,
          bonus: null,
        },
      ],
    });
  const published = (id: string, at: string) =>
    envelope('RpiResultsPublished', `rpi:${id}`, 2, {
      calculation_id: id,
      season: '2026',
      as_of: null,
      published_at: at,
    });

  it('serves the latest published calculation, as of a day, and the previous one after a retraction', async () => {
    await ProjectionSpec.for(rankingsProjection)
      .given([calculated('c1', '2026-09-15', 'A'), published('c1', '2026-09-15T09:00:00.000Z')])
      .when([
        calculated('c2', null, 'B', { day: '2026-10-01' }),
        published('c2', '2026-10-01T09:00:00.000Z'),
        calculated('c3', null, 'C', { day: '2026-10-08' }),
      ])
      .thenExpect(async (store) => {
        expect((await currentRankings(store, SCOPE))?.calculation_id).toBe('c2');
        expect(
          (await currentRankings(store, { ...SCOPE, as_of: '2026-09-20' }))?.rankings[0]?.team,
        ).toBe('A');
        expect(await currentRankings(store, { ...SCOPE, as_of: '2026-09-01' })).toBeUndefined();
        expect((await calculations(store, '2026')).map((c) => c.status)).toEqual([
          'published',
          'published',
          'calculated',
        ]);
        expect((await rankHistory(store, '2026', 'A')).map((h) => h.rank)).toEqual([1, null]);
      });

    await ProjectionSpec.for(rankingsProjection)
      .given([
        calculated('c1', null, 'A', { day: '2026-09-15' }),
        published('c1', '2026-09-15T09:00:00.000Z'),
        calculated('c2', null, 'B', { day: '2026-10-01' }),
        published('c2', '2026-10-01T09:00:00.000Z'),
      ])
      .when([
        envelope('RpiResultsRetracted', 'rpi:c2', 3, {
          calculation_id: 'c2',
          season: '2026',
          reason: 'cache update failed',
        }),
      ])
      .thenExpect(async (store) => {
        expect((await currentRankings(store, SCOPE))?.calculation_id).toBe('c1');
      });
  });

  it('keeps the rankings of a calculation of thousands of teams in parts, and serves them whole', async () => {
    // Prepare: 2,500 teams, more than one item's worth of lines.
    const base = calculated('big', null, 'T-0', { day: '2026-10-01' });
    const line = base.data.rankings[0] as (typeof base.data.rankings)[number];
    const rankings = Array.from({ length: 2_500 }, (_, i) => ({
      ...line,
      rank: i + 1,
      team: `T-${i}`,
    }));
    const big = { ...base, data: { ...base.data, rankings } };

    // Act
    const store = await ProjectionSpec.for(rankingsProjection)
      .given([big])
      .when([published('big', '2026-10-01T09:00:00.000Z')])
      .thenExpect(async (store) => {
        // Assess
        const served = await currentRankings(store, SCOPE);
        expect(served?.status).toBe('published');
        expect(served?.rankings).toEqual(rankings);
        expect((await rankHistory(store, '2026', 'T-2499')).map((h) => h.rank)).toEqual([2500]);
        expect((await calculations(store, '2026'))[0]).not.toHaveProperty('_parts');
      });
    // The parts the calculation brought, and no others: publishing rewrote the head alone.
    expect(
      store
        .all()
        .filter((d) => d.pk === 'calc#big')
        .map((d) => d.sk),
    ).toEqual(['-', '-#part#1#00000', '-#part#1#00001', '-#part#1#00002']);
  });

  it('answers as of a day with a whole-season calculation whose games all came before it, whenever it was computed', async () => {
    const late = {
      ...calculated('late', null, 'L', { day: '2026-10-10' }),
      data: {
        ...calculated('late', null, 'L').data,
        last_game_on: '2026-10-10',
        computed_at: '2026-12-01T08:00:00.000Z',
      },
    };
    await ProjectionSpec.for(rankingsProjection)
      .when([late, published('late', '2026-12-01T09:00:00.000Z')])
      .thenExpect(async (store) => {
        expect(
          (await currentRankings(store, { ...SCOPE, as_of: '2026-10-12' }))?.calculation_id,
        ).toBe('late');
        expect(await currentRankings(store, { ...SCOPE, as_of: '2026-10-09' })).toBeUndefined();
      });
  });

  it("never answers with another scope's calculation: as of a day, another profile or division", async () => {
    await ProjectionSpec.for(rankingsProjection)
      .given([
        calculated('whole', null, 'W', { day: '2026-10-20' }),
        published('whole', '2026-10-20T09:00:00.000Z'),
      ])
      .when([
        calculated('asof', '2026-10-15', 'S'),
        published('asof', '2026-10-21T09:00:00.000Z'),
        calculated('hockey', null, 'H', { profile: 'ncaa-hockey', day: '2026-10-22' }),
        published('hockey', '2026-10-22T09:00:00.000Z'),
        calculated('div', null, 'D', { division: 'I', day: '2026-10-23' }),
        published('div', '2026-10-23T09:00:00.000Z'),
      ])
      .thenExpect(async (store) => {
        // The whole season stays the latest whole-season calculation of its own scope.
        expect((await currentRankings(store, SCOPE))?.calculation_id).toBe('whole');
        // Each scope gets its own calculation.
        expect(
          (await currentRankings(store, { ...SCOPE, as_of: '2026-10-15' }))?.calculation_id,
        ).toBe('asof');
        expect(
          (await currentRankings(store, { ...SCOPE, profile: 'ncaa-hockey' }))?.calculation_id,
        ).toBe('hockey');
        expect((await currentRankings(store, { ...SCOPE, division: 'I' }))?.division).toBe('I');
        // As of a day without its own calculation: the latest of the scope counting up to it.
        expect(
          (await currentRankings(store, { ...SCOPE, as_of: '2026-10-18' }))?.calculation_id,
        ).toBe('asof');
        expect(await currentRankings(store, { ...SCOPE, division: 'II' })).toBeUndefined();
        expect((await calculations(store, '2026')).map((c) => c.division)).toEqual([
          null,
          null,
          null,
          'I',
        ]);
        expect(
          (
            await rankHistory(store, '2026', 'W', { profile: 'ncaa-soccer-2024', division: null })
          ).map((h) => h.calculation_id),
        ).toEqual(['asof', 'whole']);
      });
  });
});

describe('saga status', () => {
  const saga = <K extends SagaEventType>(
    type: K,
    seq: number,
    data: Omit<EventData<K>, 'saga_id'>,
  ) =>
    envelope(
      type,
      'saga:s1',
      seq,
      // Every saga event names its saga: the generic spread needs telling.
      { saga_id: 's1', ...data } as EventData<K>,
      `2026-09-01T20:00:${String(seq).padStart(2, '0')}.000Z`,
    );
  const started = (step: string, attempt: number, compensation = false) => ({
    step_name: step,
    attempt,
    compensation,
    deadline: '2026-09-01T21:00:00.000Z',
  });

  it('follows a saga through its steps, with the structure of the design', async () => {
    await ProjectionSpec.for(sagasProjection)
      .when([
        saga('SagaStarted', 1, {
          saga_type: 'rpi_calculation',
          steps: ['collect_matches', 'calculate_rpi'],
          data: JSON.stringify({
            season: '2026',
            as_of: null,
            calculation_date: '2026-09-01',
            date_range: { start: null, end: null },
          }),
          compensations: {
            collect_matches: 'rollback_matches',
            calculate_rpi: 'rollback_calculation',
          },
        }),
        saga('SagaStepStarted', 2, started('collect_matches', 1)),
        saga('SagaStepCompleted', 3, {
          step_name: 'collect_matches',
          attempt: 1,
          output: JSON.stringify({
            games: 3,
            saga_data: { date_range: { start: '2026-08-20', end: '2026-08-30' } },
          }),
        }),
        saga('SagaStepStarted', 4, started('calculate_rpi', 1)),
        saga('SagaStepFailed', 5, {
          step_name: 'calculate_rpi',
          attempt: 1,
          error: 'boom',
          will_retry: true,
          timed_out: false,
        }),
      ])
      .thenExpect(async (store) => {
        expect(await getSaga(store, 's1')).toMatchObject({
          saga_id: 's1',
          saga_type: 'rpi_calculation',
          status: 'in_progress',
          data: {
            season: '2026',
            calculation_date: '2026-09-01',
            date_range: { start: '2026-08-20', end: '2026-08-30' },
          },
          steps: [
            {
              step_name: 'collect_matches',
              status: 'completed',
              attempts: 1,
              compensation_function: 'rollback_matches',
              compensation: { status: 'not_run', attempts: 0, error: null },
            },
            { step_name: 'calculate_rpi', status: 'retrying', error: 'boom', attempts: 1 },
          ],
        });
        expect(await lastSaga(store)).toMatchObject({ saga_id: 's1', status: 'in_progress' });
      });
  });

  it("shows a step's attempts and error beside its compensation's, as the coordinator folds them", async () => {
    const timedOut = (seq: number, attempt: number, willRetry: boolean) =>
      saga('SagaStepFailed', seq, {
        step_name: 'calculate_rpi',
        attempt,
        error: 'timed out after 1000 ms',
        will_retry: willRetry,
        timed_out: true,
      });
    const events = [
      saga('SagaStarted', 1, {
        saga_type: 'rpi_calculation',
        steps: ['collect_matches', 'calculate_rpi'],
        data: '{"season":"2026","as_of":null}',
        compensations: {
          collect_matches: 'rollback_matches',
          calculate_rpi: 'rollback_calculation',
        },
      }),
      saga('SagaStepStarted', 2, started('collect_matches', 1)),
      saga('SagaStepCompleted', 3, { step_name: 'collect_matches', attempt: 1, output: '{}' }),
      saga('SagaStepStarted', 4, started('calculate_rpi', 1)),
      timedOut(5, 1, true),
      saga('SagaStepStarted', 6, started('calculate_rpi', 2)),
      timedOut(7, 2, true),
      saga('SagaStepStarted', 8, started('calculate_rpi', 3)),
      timedOut(9, 3, false),
      saga('SagaStepStarted', 10, started('calculate_rpi', 1, true)),
      saga('SagaCompensationCompleted', 11, { step_name: 'calculate_rpi', attempt: 1 }),
      saga('SagaStepStarted', 12, started('collect_matches', 1, true)),
      saga('SagaCompensationFailed', 13, {
        step_name: 'collect_matches',
        attempt: 1,
        error: 'table busy',
        will_retry: true,
      }),
    ];
    await ProjectionSpec.for(sagasProjection)
      .when(events)
      .thenExpect(async (store) => {
        const doc = await getSaga(store, 's1');
        expect(doc).toMatchObject({
          status: 'compensating',
          failed_step: 'calculate_rpi',
          error: 'timed out after 1000 ms',
          steps: [
            {
              step_name: 'collect_matches',
              status: 'completed',
              attempts: 1,
              error: null,
              compensation: { status: 'retrying', attempts: 1, error: 'table busy' },
            },
            {
              step_name: 'calculate_rpi',
              status: 'failed',
              attempts: 3,
              error: 'timed out after 1000 ms',
              compensation: { status: 'completed', attempts: 1, error: null },
            },
          ],
        });
        // The read model says what the coordinator's fold says, field for field.
        const folded = foldSaga(events);
        expect(folded && sagaDocument(folded)).toEqual(doc);
      });
  });

  it('reads sagas written by earlier releases (hyphenated names) under their new names', async () => {
    await ProjectionSpec.for(sagasProjection)
      .when([
        saga('SagaStarted', 1, {
          saga_type: 'rpi-calculation',
          steps: ['collect-matches', 'calculate-rpi', 'publish-results', 'update-cache'],
          data: '{"season":"2026","as_of":"2026-10-01","profile":"ncaa-soccer-2024","division":null,"not_before":null}',
          compensations: {
            'collect-matches': 'release-snapshot',
            'calculate-rpi': 'retract-calculation',
            'publish-results': 'retract-results',
            'update-cache': 'restore-cache',
          },
        }),
        saga('SagaStepStarted', 2, started('collect-matches', 1)),
        saga('SagaStepCompleted', 3, { step_name: 'collect-matches', attempt: 1, output: '{}' }),
      ])
      .thenExpect(async (store) => {
        expect(await getSaga(store, 's1')).toMatchObject({
          saga_type: 'rpi_calculation',
          status: 'in_progress',
          data: { calculation_date: '2026-10-01', date_range: { start: null, end: '2026-10-01' } },
          steps: [
            {
              step_name: 'collect_matches',
              status: 'completed',
              compensation_function: 'rollback_matches',
            },
            {
              step_name: 'calculate_rpi',
              status: 'pending',
              compensation_function: 'rollback_calculation',
            },
            { step_name: 'publish_results', compensation_function: 'rollback_publication' },
            { step_name: 'update_cache', compensation_function: 'rollback_cache' },
          ],
        });
      });
  });
});

describe('pipeline statistics', () => {
  it('counts events by type and day, each once', async () => {
    const a = result('m1', 'A 1-0 B');
    const b = envelope(
      'TeamRegistered',
      'team:A',
      1,
      teamRegistered('A'),
      '2026-09-02T10:00:00.000Z',
    );
    await ProjectionSpec.for(pipelineStatsProjection)
      .given([a, b])
      .when([a, b, result('m1', 'A 1-1 B', { corrected: true, sequence: 2 })])
      .thenExpect(async (store) => {
        expect(await eventCounts(store)).toEqual({
          total: 3,
          by_type: { MatchRecorded: 1, MatchResultCorrected: 1, TeamRegistered: 1 },
          by_day: {
            '2026-09-01': { MatchRecorded: 1, MatchResultCorrected: 1 },
            '2026-09-02': { TeamRegistered: 1 },
          },
        });
      });
  });
});
