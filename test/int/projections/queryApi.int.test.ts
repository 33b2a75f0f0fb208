import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPipeline, startPipeline } from '../../../cli/embeddedPipeline.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { resolveProfile } from '../../../domain/rpi/RpiProfile.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { createApi } from '../../../projections/api/createApi.js';
import { OPENAPI } from '../../../projections/api/openapi.js';
import { calculateAndPublish } from '../../../sagas/rpiCalculation.js';
import { ingestGames } from '../../../stream/ingest/ingestGames.js';

let pipeline: EmbeddedPipeline;
let app: ReturnType<typeof createApi>;
const season = generateSeason({ teams: 20, gamesPerTeam: 6, seed: 5 });
const team = season.teams[0]?.team ?? '';

beforeAll(async () => {
  pipeline = await startPipeline({ memory: true });
  async function* rows() {
    yield season.games.map((game, i) => ({ kind: 'game' as const, line: i + 2, game, fields: {} }));
  }
  await ingestGames(rows(), { store: pipeline.runtime.store });
  await pipeline.runtime.settle();
  await calculateAndPublish(pipeline.runtime.store, pipeline.stores.matches, {
    season: '2026',
    profile: resolveProfile(),
  });
  await pipeline.runtime.settle();
  app = createApi(pipeline.queries);
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
});

async function get(path: string) {
  const response = await app.request(path);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('query API over the read models', () => {
  it('serves the published rankings, equal to the direct computation', async () => {
    const { status, body } = await get('/rankings?season=2026');

    expect(status).toBe(200);
    const direct = computeRpi(season.games);
    expect((body.rankings as { team: string; rpi: number }[]).map((r) => [r.team, r.rpi])).toEqual(
      direct.ratings.map((r) => [r.team, r.rpi]),
    );
    expect(body).toMatchObject({
      season: '2026',
      status: 'published',
      profile: 'ncaa-soccer-2024',
    });
  });

  it('serves standings, teams, a team with its rank history, and its matches', async () => {
    const standings = await get('/standings?season=2026');
    const teams = await get('/teams');
    const one = await get(`/teams/${encodeURIComponent(team)}?season=2026`);
    const matches = await get(`/teams/${encodeURIComponent(team)}/matches?season=2026`);

    const rows = (standings.body.conferences as { teams: { played: number }[] }[]).flatMap(
      (c) => c.teams,
    );
    expect(rows).toHaveLength(20);
    expect(rows.reduce((n, r) => n + r.played, 0)).toBe(2 * season.games.length);
    expect((teams.body.teams as unknown[]).length).toBe(20);
    expect(one.body).toMatchObject({
      team_id: team,
      rank_history: [expect.objectContaining({ rank: expect.any(Number) })],
    });
    const expected = season.games.filter((g) => g.homeTeam === team || g.awayTeam === team).length;
    expect((matches.body.matches as unknown[]).length).toBe(expected);
  });

  it('reports health and the OpenAPI document', async () => {
    const health = await get('/health');
    const openapi = await get('/openapi.json');

    expect(health.body).toMatchObject({
      status: 'ok',
      dead_letters: 0,
      events: { total: expect.any(Number) },
    });
    expect((health.body.consumers as { name: string }[]).map((c) => c.name).sort()).toEqual([
      'bus-router',
      'read-models',
    ]);
    expect(openapi.body).toEqual(JSON.parse(JSON.stringify(OPENAPI)));
  });

  it.each([
    ['/rankings', 400, 'season is required, e.g. ?season=2026'],
    ['/rankings?season=2026&as_of=2026-02-30', 400, 'as_of must be a YYYY-MM-DD date'],
    [
      '/rankings?season=bad%20season',
      400,
      'season must be 1 to 20 letters, digits, dots, dashes or underscores',
    ],
    ['/rankings?season=1999', 404, 'no published rankings for season 1999'],
    [
      '/rankings?season=2026&as_of=2026-01-01',
      404,
      'no published rankings for season 2026 as of 2026-01-01',
    ],
    ['/standings', 400, 'season is required, e.g. ?season=2026'],
    ['/teams/Nobody%20College', 404, 'unknown team "Nobody College"'],
    ['/teams/Nobody/matches', 404, 'unknown team "Nobody"'],
    [`/teams/${'x'.repeat(201)}`, 400, 'team id must be 1 to 200 printable characters'],
    ['/sagas/none', 404, 'unknown saga "none"'],
    ['/nowhere', 404, 'no route GET /nowhere'],
  ])('answers %s with %i and a JSON error', async (path, status, message) => {
    expect(await get(path)).toEqual({ status, body: { error: { status, message } } });
  });
});
