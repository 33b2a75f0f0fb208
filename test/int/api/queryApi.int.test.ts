import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../api/createApi.js';
import { OPENAPI } from '../../../api/openapi.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { computeRpiVariant } from '../../../domain/rpi/computeRpiVariant.js';
import { resolveProfile } from '../../../domain/rpi/RpiProfile.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { applyTeamMetadata } from '../../../ingest/teamMetadata.js';
import { pipelineDeadLetters } from '../../../pipeline/deadLetterDesk.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { FaultPlan } from '../../../sagas/faults.js';
import { feedRows } from '../../support/games.js';
import { tempDir } from '../../support/tempDir.js';

const TOKEN = 'a-test-token-of-this-server';
const WRITER = { authorization: `Bearer ${TOKEN}` };
let pipeline: EmbeddedPipeline;
let app: ReturnType<typeof createApi>;
const season = generateSeason({ teams: 20, gamesPerTeam: 6, seed: 5 });
const team = season.teams[0]?.team ?? '';
const consoleDir = tempDir('matchstream-console-');

beforeAll(async () => {
  pipeline = await startPipeline({ memory: true, debounceMs: 200 });
  await ingestGames(feedRows(season.games), { store: pipeline.runtime.store });
  await pipeline.runtime.settle();
  // The MatchEventHandler asked for the season's RPI: its sagas (a later one when results kept
  // arriving) publish and cache it.
  if (!(await pipeline.sagas.requests.latest('2026')))
    throw new Error('no recalculation was requested');
  await pipeline.sagas.settle(30_000);
  await pipeline.runtime.settle();
  await pipeline.sagas.settle(30_000);
  app = createApi(pipeline.queries, { token: TOKEN });
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
});

async function get(path: string, init?: RequestInit) {
  const response = await app.request(path, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('query API over the read models', () => {
  it('serves the rankings from the cache, equal to the direct computation', async () => {
    const { status, body } = await get('/rankings?season=2026');
    const dated = await get('/rankings?season=2026&as_of=2026-12-31');

    expect(status).toBe(200);
    const direct = computeRpi(season.games);
    expect((body.rankings as { team: string; rpi: number }[]).map((r) => [r.team, r.rpi])).toEqual(
      direct.ratings.map((r) => [r.team, r.rpi]),
    );
    expect(body).toMatchObject({
      season: '2026',
      source: 'cache',
      profile: 'ncaa-soccer-2024',
      games_counted: season.games.length,
    });
    expect(dated.body).toMatchObject({ source: 'read-model', status: 'published' });
  });

  it('starts an RPI saga on POST /sagas and shows its steps at /sagas/{id}', async () => {
    const posted = await app.request('/sagas', {
      method: 'POST',
      body: JSON.stringify({ season: '2026', as_of: '2026-10-01' }),
      headers: { 'content-type': 'application/json', ...WRITER },
    });
    const answer = (await posted.json()) as { saga_id: string };
    const { saga_id } = answer;
    await pipeline.sagas.waitFor(saga_id);
    await pipeline.runtime.settle();

    const saga = await get(`/sagas/${saga_id}`);

    expect(posted.status).toBe(202);
    expect(posted.headers.get('location')).toBe(`/sagas/${saga_id}`);
    expect(answer).toMatchObject({
      saga_type: 'rpi_calculation',
      data: {
        season: '2026',
        as_of: '2026-10-01',
        calculation_date: '2026-10-01',
        date_range: { start: null, end: '2026-10-01' },
      },
      steps: [
        { step_name: 'collect_matches', compensation_function: 'rollback_matches' },
        { step_name: 'calculate_rpi' },
        { step_name: 'publish_results' },
        { step_name: 'update_cache' },
      ],
    });
    const counted = season.games
      .filter((g) => g.date <= '2026-10-01')
      .map((g) => g.date)
      .sort();
    expect(saga.body).toMatchObject({
      saga_id,
      saga_type: 'rpi_calculation',
      status: 'completed',
      data: {
        season: '2026',
        as_of: '2026-10-01',
        calculation_date: '2026-10-01',
        date_range: { start: counted[0], end: counted.at(-1) },
      },
      steps: [
        {
          step_name: 'collect_matches',
          status: 'completed',
          attempts: 1,
          error: null,
          compensation_function: 'rollback_matches',
          compensation: { status: 'not_run', attempts: 0, error: null },
        },
        {
          step_name: 'calculate_rpi',
          status: 'completed',
          compensation_function: 'rollback_calculation',
        },
        {
          step_name: 'publish_results',
          status: 'completed',
          compensation_function: 'rollback_publication',
        },
        { step_name: 'update_cache', status: 'completed', compensation_function: 'rollback_cache' },
      ],
    });
  });

  it("serves a calculation as of a day for that day only, leaving the season's current rankings", async () => {
    const sagaId = (
      (await (
        await app.request('/sagas', {
          method: 'POST',
          body: JSON.stringify({ season: '2026', as_of: '2026-09-15' }),
          headers: { 'content-type': 'application/json', ...WRITER },
        })
      ).json()) as { saga_id: string }
    ).saga_id;
    await pipeline.sagas.waitFor(sagaId);
    await pipeline.runtime.settle();

    const current = await get('/rankings?season=2026');
    const dated = await get('/rankings?season=2026&as_of=2026-09-15');
    const between = await get('/rankings?season=2026&as_of=2026-09-20');

    expect(current.body).toMatchObject({
      season: '2026',
      as_of: null,
      source: 'cache',
      games_counted: season.games.length,
    });
    expect(current.body.saga_id).not.toBe(sagaId);
    expect(dated.body).toMatchObject({
      saga_id: sagaId,
      as_of: '2026-09-15',
      division: null,
      source: 'cache',
      games_counted: season.games.filter((g) => g.date <= '2026-09-15').length,
    });
    // A day without a calculation of its own: the latest one counting games up to it.
    expect(between.body).toMatchObject({
      calculation_id: dated.body.calculation_id,
      source: 'read-model',
    });
  });

  it('keeps a notification per change of a top-25 place', async () => {
    const { body } = await get('/notifications?season=2026');

    const notes = body.notifications as { kind: string; rank: number | null }[];
    expect(notes.length).toBeGreaterThanOrEqual(20);
    expect(notes.filter((n) => n.kind === 'entered').length).toBeGreaterThanOrEqual(20);
    expect(notes.every((n) => n.rank === null || (n.rank >= 1 && n.rank <= 25))).toBe(true);
  });

  it('answers a season without results or published rankings with 404, as /rankings does', async () => {
    const standings = await get('/standings?season=1999');
    const notifications = await get('/notifications?season=1999');
    const rankings = await get('/rankings?season=1999');
    const beforeFirst = await get('/standings?season=2026&as_of=2020-01-01');

    expect(standings).toEqual({
      status: 404,
      body: { error: { status: 404, message: 'no game of season 1999 has a result' } },
    });
    expect(notifications).toEqual({
      status: 404,
      body: { error: { status: 404, message: 'no published rankings for season 1999' } },
    });
    expect(rankings.body).toEqual(notifications.body);
    // A known season before its first result: its standings, empty on that day.
    expect(beforeFirst).toEqual({
      status: 200,
      body: { season: '2026', as_of: '2020-01-01', conferences: [] },
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
      rank_history: expect.arrayContaining([expect.objectContaining({ rank: expect.any(Number) })]),
    });
    const expected = season.games.filter((g) => g.homeTeam === team || g.awayTeam === team).length;
    expect((matches.body.matches as unknown[]).length).toBe(expected);
  });

  it("lists the seasons with their calculations, and a team's season week by week", async () => {
    const seasons = await get('/seasons');
    const weekly = await get(`/teams/${encodeURIComponent(team)}/weekly?season=2026`);

    const [first] = seasons.body.seasons as {
      season: string;
      calculations: { computed_at: string; status: string }[];
    }[];
    expect(first?.season).toBe('2026');
    const computed = first?.calculations.map((c) => c.computed_at) ?? [];
    expect(computed.length).toBeGreaterThan(0);
    expect(computed).toEqual([...computed].sort().reverse());
    // The last week is the whole season: the same figures as the season's rankings.
    const weeks = weekly.body.weeks as { week_end: string; rpi: number; rank: number }[];
    const whole = computeRpi(season.games).ratings.find((r) => r.team === team);
    const lastDay = season.games
      .map((g) => g.date)
      .sort()
      .at(-1);
    expect(weeks.at(-1)).toMatchObject({ week_end: lastDay, rpi: whole?.rpi, rank: whole?.rank });
    expect(
      weeks.slice(0, -1).every((w) => new Date(`${w.week_end}T00:00:00Z`).getUTCDay() === 0),
    ).toBe(true);
    const opponents = weekly.body.opponents as { effect: number; games: number }[];
    expect(opponents.reduce((n, o) => n + o.games, 0)).toBe(whole?.games);
    expect(Math.abs(opponents.reduce((n, o) => n + o.effect, 0))).toBeLessThan(1e-12);
  });

  it('streams a change of rankings on GET /live when a calculation becomes current', async () => {
    const response = await app.request('/live');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (part: string) => {
      while (!text.includes(part)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended before "${part}": ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await until('event: ready');

    const posted = await app.request('/sagas', {
      method: 'POST',
      body: JSON.stringify({ season: '2026' }),
      headers: WRITER,
    });
    const { saga_id } = (await posted.json()) as { saga_id: string };
    await pipeline.sagas.waitFor(saga_id);
    await until('event: calculation');
    await reader.cancel();
    await pipeline.runtime.settle();

    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = /event: calculation\ndata: (.*)\n/.exec(text)?.[1] ?? '';
    const saga = (await get(`/sagas/${saga_id}`)).body as { output: { current: boolean } };
    expect(saga.output.current).toBe(true);
    expect(JSON.parse(data)).toMatchObject({ season: '2026', change: 'cached' });
    const current = await get('/rankings?season=2026');
    expect(JSON.parse(data).calculation_id).toBe(current.body.calculation_id);
  });

  it('answers HEAD /live with the stream headers alone, leaving no stream open', async () => {
    // Arrange: a live feed that counts who listens.
    let listening = 0;
    const live = {
      subscribe: () => {
        listening += 1;
        return () => {
          listening -= 1;
        };
      },
    };
    const withLive = createApi(pipeline.queries.with({ live }), { token: TOKEN });

    // Act
    const response = await withLive.request('/live', { method: 'HEAD' });
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Assess: the headers of GET, no body, and nobody left listening (nor a keep-alive timer).
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await response.text()).toBe('');
    expect(listening).toBe(0);
  });

  it('serves the built web console at / when given its folder, and only its files', async () => {
    consoleDir.file('index.html', '<!doctype html><title>console</title>');
    mkdirSync(consoleDir.path('assets'));
    consoleDir.file('assets/app-1a2b.js', 'export {}');
    const served = createApi(pipeline.queries, { token: TOKEN }, { consoleDir: consoleDir.dir });
    const bare = createApi(
      pipeline.queries,
      { token: TOKEN },
      { consoleDir: consoleDir.path('none') },
    );

    const page = await served.request('/');
    const script = await served.request('/assets/app-1a2b.js');
    const outside = await served.request('/assets/../index.html');
    // A file of another build (a page loaded before the console was built again).
    const gone = await served.request('/assets/app-0000.js');
    const goneHead = await served.request('/assets/app-0000.js', { method: 'HEAD' });
    const missing = await bare.request('/');

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<title>console</title>');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(outside.status).toBe(404);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({
      error: {
        status: 404,
        message:
          'no file /assets/app-0000.js in the web console (a page of another build asks for it: reload the page)',
      },
    });
    expect(goneHead.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
      'npm run build',
    );
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
      'sagas',
    ]);
    expect(health.body.sagas).toMatchObject({ running: 0, failed: 0, completion_rate: 1 });
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
    [
      '/rankings?season=2026&division=Typo',
      404,
      'no published rankings for season 2026 in division Typo',
    ],
    [
      '/rankings?season=2026&profile=ncaa-hockey',
      404,
      'no published rankings for season 2026 with profile ncaa-hockey',
    ],
    [
      '/rankings?season=2026&profile=nope',
      400,
      'profile must be one of ncaa-soccer-2024, ncaa-soccer-2023, ncaa-basketball, ncaa-hockey, ncaa-hockey-2013',
    ],
    [
      '/rankings?season=2026&division=bad%20name',
      400,
      'division must be 1 to 20 letters, digits, dots, dashes or underscores',
    ],
    [
      `/teams/${encodeURIComponent(team)}/weekly?season=2026&division=Typo`,
      404,
      `team "${team}" is in no division, not "Typo"`,
    ],
    ['/nowhere', 404, 'no route GET /nowhere'],
    ['/notifications', 400, 'season is required, e.g. ?season=2026'],
  ])('answers %s with %i and a JSON error', async (path, status, message) => {
    expect(await get(path)).toEqual({ status, body: { error: { status, message } } });
  });

  it.each([
    ['not json', 400, 'the body must be a JSON object, e.g. {"season": "2026"}'],
    ['[1]', 400, 'the body must be a JSON object, e.g. {"season": "2026"}'],
    ['{}', 400, 'season is required, e.g. ?season=2026'],
    ['{"season": 2026}', 400, 'season must be a string'],
    ['{"season": "2026", "type": "other"}', 400, 'type must be "rpi" (the RPI calculation saga)'],
    ['{"season": "2026", "as_of": "2026-13-01"}', 400, 'as_of must be a YYYY-MM-DD date'],
    [
      '{"season": "2026", "profile": "nope"}',
      400,
      'profile must be one of ncaa-soccer-2024, ncaa-soccer-2023, ncaa-basketball, ncaa-hockey, ncaa-hockey-2013',
    ],
    [`{"season": "${'x'.repeat(5000)}"}`, 413, 'the body is over 4096 bytes'],
    [
      '{"season": "2026", "variant": "adjusted", "adjustments": 5}',
      400,
      'adjustments must be an object, e.g. {"tiers": {...}}',
    ],
  ])('answers POST /sagas %.40s with %i', async (body, status, message) => {
    expect(await get('/sagas', { method: 'POST', body, headers: WRITER })).toEqual({
      status,
      body: { error: { status, message } },
    });
  });

  it.each([
    ['null', 'the body must be a JSON object, e.g. {"ids": ["3f2a9c1d0b7e"]}'],
    ['["3f2a9c1d0b7e"]', 'the body must be a JSON object, e.g. {"ids": ["3f2a9c1d0b7e"]}'],
    [
      '{"ids": "3f2a9c1d0b7e"}',
      'ids must be a list of letter ids (from GET /dead-letters), each 1 to 200 characters',
    ],
    [
      '{"ids": [7]}',
      'ids must be a list of letter ids (from GET /dead-letters), each 1 to 200 characters',
    ],
    [
      '{"ids": [""]}',
      'ids must be a list of letter ids (from GET /dead-letters), each 1 to 200 characters',
    ],
    [
      JSON.stringify({ ids: Array.from({ length: 1001 }, (_, i) => `letter-${i}`) }),
      'ids must name at most 1000 letters (or send {"all": true})',
    ],
  ])(
    'refuses POST /dead-letters/redrive %.40s with 400 naming what is wrong',
    async (body, message) => {
      // Arrange: an API that redrives.
      const desk = createApi(
        pipeline.queries.with({ deadLetters: pipelineDeadLetters(pipeline) }),
        { token: TOKEN },
      );

      // Act
      const response = await desk.request('/dead-letters/redrive', {
        method: 'POST',
        body,
        headers: WRITER,
      });

      // Assess
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 400,
        body: { error: { status: 400, message } },
      });
    },
  );

  it('answers POST /dead-letters/redrive naming each id that is no letter once, nothing redriven', async () => {
    // Arrange: an API that redrives.
    const desk = createApi(pipeline.queries.with({ deadLetters: pipelineDeadLetters(pipeline) }), {
      token: TOKEN,
    });

    // Act: an id given twice, among others that are no letter either.
    const response = await desk.request('/dead-letters/redrive', {
      method: 'POST',
      body: JSON.stringify({ ids: ['0123456789ab', 'ba9876543210', '0123456789ab'] }),
      headers: WRITER,
    });

    // Assess
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 404,
      body: {
        error: {
          status: 404,
          message: 'no dead letter 0123456789ab, ba9876543210; nothing was redriven',
        },
      },
    });
  });

  it.each([
    ['DELETE', '/sagas', 'GET, HEAD, POST'],
    ['PUT', '/teams', 'GET, HEAD'],
    ['POST', '/rankings', 'GET, HEAD'],
    ['DELETE', '/dead-letters/redrive', 'POST'],
  ])(
    'answers %s %s with 405 and what the path takes, with or without a token',
    async (method, path, allow) => {
      for (const headers of [{}, WRITER, { authorization: 'Bearer not-the-token' }]) {
        const response = await app.request(path, { method, headers });

        expect({
          status: response.status,
          allow: response.headers.get('allow'),
          body: await response.json(),
        }).toEqual({
          status: 405,
          allow,
          body: { error: { status: 405, message: `${path} takes ${allow}, not ${method}` } },
        });
      }
    },
  );

  it('answers a method on a path no route has with 404, authorized or not', async () => {
    for (const headers of [{}, WRITER])
      expect(await get('/nowhere', { method: 'DELETE', headers })).toEqual({
        status: 404,
        body: { error: { status: 404, message: 'no route DELETE /nowhere' } },
      });
  });

  it.each([
    [undefined, 401, 'this route needs Authorization: Bearer <token>'],
    ['Basic dXNlcjpwYXNz', 401, 'this route needs Authorization: Bearer <token>'],
    ['Bearer not-the-token', 403, "the token is not the server's"],
  ])(
    'refuses a write with authorization %s (%i), starting nothing',
    async (header, status, message) => {
      const before = await pipeline.runtime.store.approximateCommits();
      const answer = await get('/sagas', {
        method: 'POST',
        body: '{"season": "2026"}',
        ...(header ? { headers: { authorization: header } } : {}),
      });

      expect(answer).toEqual({ status, body: { error: { status, message } } });
      expect(await pipeline.runtime.store.approximateCommits()).toBe(before);
    },
  );

  it.each([
    [
      '/rankings?season=2026&bogus=1',
      'unknown query parameter "bogus" (this route takes season, as_of, division, profile, variant)',
    ],
    [
      '/rankings?seasn=2026',
      'unknown query parameter "seasn" (this route takes season, as_of, division, profile, variant)',
    ],
    [
      '/standings?season=2026&asof=2026-10-01',
      'unknown query parameter "asof" (this route takes season, as_of)',
    ],
    ['/teams?bogus=1', 'unknown query parameter "bogus" (this route takes no query parameters)'],
    [
      `/teams/${encodeURIComponent(team)}?seasons=2026`,
      'unknown query parameter "seasons" (this route takes season)',
    ],
    [
      `/teams/${encodeURIComponent(team)}/matches?season=2026&x=1&y=2`,
      'unknown query parameters "x", "y" (this route takes season)',
    ],
    [
      '/notifications?season=2026&top=25',
      'unknown query parameter "top" (this route takes season)',
    ],
    [
      '/sagas/none?verbose=1',
      'unknown query parameter "verbose" (this route takes no query parameters)',
    ],
    [
      '/health?verbose=1',
      'unknown query parameter "verbose" (this route takes no query parameters)',
    ],
    [
      '/openapi.json?format=yaml',
      'unknown query parameter "format" (this route takes no query parameters)',
    ],
    ['/rankings?season=2026&season=2027', 'season is given more than once'],
    ['/sagas?limit=0x10', 'limit must be a whole number from 1 to 500'],
    ['/sagas?limit=1e2', 'limit must be a whole number from 1 to 500'],
    ['/sagas?limit=5.0', 'limit must be a whole number from 1 to 500'],
    ['/sagas?limit=%205', 'limit must be a whole number from 1 to 500'],
    ['/sagas?limit=501', 'limit must be a whole number from 1 to 500'],
  ])('refuses %s with 400 naming the parameter', async (path, message) => {
    expect(await get(path)).toEqual({ status: 400, body: { error: { status: 400, message } } });
  });

  it.each([
    [
      '/sagas?bogus=1',
      '{"season": "2026"}',
      'unknown query parameter "bogus" (this route takes no query parameters)',
    ],
    [
      '/sagas',
      '{"season": "2026", "asof": "2026-10-01"}',
      'unknown field "asof" in the body (it takes type, season, as_of, profile, division, variant, adjustments)',
    ],
  ])('refuses POST %s %s with 400, starting nothing', async (path, body, message) => {
    const before = await pipeline.runtime.store.approximateCommits();
    const answer = await get(path, { method: 'POST', body, headers: WRITER });

    expect(answer).toEqual({ status: 400, body: { error: { status: 400, message } } });
    expect(await pipeline.runtime.store.approximateCommits()).toBe(before);
  });

  it.each([
    ['/teams/..%2F..%2Fetc%2Fpasswd', 404],
    [`/teams/${'a'.repeat(300)}`, 400],
    ['/rankings?season=../../x', 400],
    ['/rankings?season=2026%00', 400],
  ])('answers %s with %i, without internals', async (path, status) => {
    const answer = await get(path);

    expect(answer.status).toBe(status);
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.js|node_modules|Error:/);
  });
});

describe('rankings of other scopes, and calculations that count nothing', () => {
  async function start(body: Record<string, unknown>): Promise<string> {
    const posted = await app.request('/sagas', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...WRITER },
    });
    const { saga_id } = (await posted.json()) as { saga_id: string };
    await pipeline.sagas.waitFor(saga_id);
    await pipeline.runtime.settle();
    return saga_id;
  }

  it('serves a calculation of another profile when asked for that profile', async () => {
    const before = await get('/rankings?season=2026');
    const sagaId = await start({ season: '2026', profile: 'ncaa-hockey' });

    const hockey = await get('/rankings?season=2026&profile=ncaa-hockey');
    const current = await get('/rankings?season=2026');
    const history = await get(`/teams/${encodeURIComponent(team)}?season=2026`);

    expect(hockey.body).toMatchObject({ saga_id: sagaId, profile: 'ncaa-hockey', source: 'cache' });
    expect(current.body).toEqual(before.body);
    // A team's rank history is of the season's current scope: the other profile's is not in it.
    const ranked = (history.body.rank_history as { calculation_id: string }[]).map(
      (r) => r.calculation_id,
    );
    expect(ranked).toContain(current.body.calculation_id);
    expect(ranked).not.toContain(hockey.body.calculation_id);
  });

  it('calculates with the hockey rules since 2013-14 through the saga, as the engine does', async () => {
    const sagaId = await start({ season: '2026', profile: 'ncaa-hockey-2013' });

    const served = await get('/rankings?season=2026&profile=ncaa-hockey-2013');

    const direct = computeRpi(season.games, { profile: resolveProfile('ncaa-hockey-2013') });
    expect(served.body).toMatchObject({ saga_id: sagaId, profile: 'ncaa-hockey-2013' });
    expect(
      (served.body.rankings as { team: string; rpi: number }[]).map((r) => [r.team, r.rpi]),
    ).toEqual(direct.ratings.map((r) => [r.team, r.rpi]));
  });

  it("serves the non-conference and adjusted RPI for their own scopes, each team's unadjusted RPI beside", async () => {
    // Prepare: the directory knows each team's conference.
    for (const t of season.teams)
      await applyTeamMetadata(
        pipeline.runtime.store,
        { team: t.team, conference: t.conference },
        'test',
      );
    await pipeline.runtime.settle();
    const before = await get('/rankings?season=2026');
    const sites = (home: number, neutral: number, away: number) => ({ home, neutral, away });
    const adjustments = {
      tiers: {
        'bonus-1': {
          first: 1,
          last: 3,
          win: sites(0.002, 0.0022, 0.0024),
          tie: sites(0.001, 0.001, 0.001),
        },
        'bonus-2': { first: 4, last: 6, win: sites(0.0016, 0.0018, 0.002), tie: sites(0, 0, 0) },
        'bonus-3': { first: 7, last: 9, win: sites(0.001, 0.0011, 0.0012), tie: sites(0, 0, 0) },
        'penalty-1': {
          first: 12,
          last: 15,
          tie: sites(0, 0, 0),
          loss: sites(0.002, 0.0017, 0.0015),
        },
        'penalty-2': {
          first: 16,
          last: 20,
          tie: sites(0.001, 0.001, 0.001),
          loss: sites(0.0026, 0.0024, 0.0022),
        },
      },
    };

    // Act
    const nonConference = await start({ season: '2026', variant: 'non-conference' });
    const adjusted = await start({ season: '2026', variant: 'adjusted', adjustments });
    const served = await get('/rankings?season=2026&variant=non-conference');
    const servedAdjusted = await get('/rankings?season=2026&variant=adjusted');
    const current = await get('/rankings?season=2026');
    const seasons = await get('/seasons');

    // Assess: what the engine computes of the same games and conferences, unadjusted beside.
    const conferences = Object.fromEntries(season.teams.map((t) => [t.team, t.conference]));
    for (const [answer, sagaId, options] of [
      [served, nonConference, { variant: 'non-conference' }],
      [servedAdjusted, adjusted, { variant: 'adjusted', adjustments }],
    ] as const) {
      const direct = computeRpiVariant(season.games, {
        profile: resolveProfile('ncaa-soccer-2024'),
        conferences,
        ...options,
      });
      expect(answer.body).toMatchObject({
        saga_id: sagaId,
        variant: options.variant,
        source: 'cache',
      });
      expect(
        (answer.body.rankings as Record<string, unknown>[]).map((r) => [
          r.team,
          r.rank,
          r.rpi,
          r.unadjusted_rank,
          r.unadjusted_rpi,
          r.adjustment,
        ]),
      ).toEqual(
        direct.ratings.map((r) => [
          r.team,
          r.rank,
          r.rpi,
          r.unadjustedRank,
          r.unadjustedRpi,
          r.adjustment ?? null,
        ]),
      );
    }
    expect(current.body).toEqual(before.body);
    const listed = (seasons.body.seasons as { calculations: { variant: string }[] }[])[0];
    expect(new Set(listed?.calculations.map((c) => c.variant))).toEqual(
      new Set(['unadjusted', 'non-conference', 'adjusted']),
    );
  });

  it.each([
    [
      { season: '2026', variant: 'adjusted' },
      'the adjusted RPI of profile "ncaa-soccer-2024" needs values no published source gave',
    ],
    [
      { season: '2026', variant: 'adjusted', profile: 'ncaa-hockey-2013' },
      'profile "ncaa-hockey-2013" has no bonus and penalty table, so it has no adjusted RPI',
    ],
    [
      { season: '2026', variant: 'non-conference', profile: 'ncaa-hockey-2013' },
      'no non-conference RPI is published for those rules',
    ],
    [{ season: '2026', adjustments: { tiers: {} } }, 'adjustments go with "variant": "adjusted"'],
    [
      { season: '2026', variant: 'adjusted', adjustments: { tiers: { 'bonus-9': { first: 1 } } } },
      'tiers.bonus-9 is not a tier of profile "ncaa-soccer-2024"',
    ],
    [
      { season: '2026', variant: 'weighted' },
      'variant must be one of unadjusted, adjusted, non-conference',
    ],
  ])('refuses POST /sagas %j with 400 before starting anything', async (body, message) => {
    const before = await pipeline.runtime.store.approximateCommits();
    const answer = await get('/sagas', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...WRITER },
    });

    expect(answer.status).toBe(400);
    expect((answer.body.error as { message: string }).message).toContain(message);
    expect(await pipeline.runtime.store.approximateCommits()).toBe(before);
  });

  it('fails a calculation of an unknown division, saying why, and leaves the rankings', async () => {
    const before = await get('/rankings?season=2026');
    const sagaId = await start({ season: '2026', division: 'Typo' });

    const saga = await get(`/sagas/${sagaId}`);
    const current = await get('/rankings?season=2026');

    expect(saga.body).toMatchObject({
      status: 'compensated',
      failed_step: 'collect_matches',
      error: 'no team of the team directory is in division "Typo"',
      steps: [
        {
          step_name: 'collect_matches',
          status: 'failed',
          attempts: 1,
          compensation: { status: 'completed', attempts: 1 },
        },
        { step_name: 'calculate_rpi', status: 'pending' },
        { step_name: 'publish_results', status: 'pending' },
        { step_name: 'update_cache', status: 'pending' },
      ],
    });
    expect(current.body).toEqual(before.body);
    expect((await get('/rankings?season=2026&division=Typo')).status).toBe(404);
  });
});

describe('the seasons of a saga left failed', () => {
  it('lists the season whose rankings a saga published and could not take back, as /rankings serves them', async () => {
    // Prepare: the cache's update fails for good, and so does taking back the publication.
    const left = await startPipeline({
      memory: true,
      debounceMs: 200,
      faults: new FaultPlan([
        { step: 'update_cache', mode: 'error' },
        { step: 'publish_results', mode: 'error', in: 'compensation' },
      ]),
    });
    try {
      const games = generateSeason({ teams: 8, gamesPerTeam: 4, seed: 7 }).games;
      await ingestGames(feedRows(games), { store: left.runtime.store });
      await left.runtime.settle();
      await left.sagas.settle(30_000);
      await left.runtime.settle();
      const api = createApi(left.queries, { token: TOKEN });

      // Act
      const sagas = (await (await api.request('/sagas')).json()) as { sagas: { status: string }[] };
      const rankings = await api.request('/rankings?season=2026');
      const seasons = (await (await api.request('/seasons')).json()) as {
        seasons: { season: string; calculations: unknown[] }[];
      };

      // Assess: the publication stands, unrated by the cache; both routes say so.
      expect(sagas.sagas.map((s) => s.status)).toContain('failed');
      expect(rankings.status).toBe(200);
      const served = (await rankings.json()) as { calculation_id: string };
      expect(served).toMatchObject({ source: 'read-model', status: 'published' });
      expect(seasons.seasons.map((s) => s.season)).toEqual(['2026']);
      expect(seasons.seasons[0]?.calculations).toContainEqual(
        expect.objectContaining({ calculation_id: served.calculation_id, status: 'published' }),
      );
    } finally {
      await left.stop();
    }
  }, 60_000);
});
