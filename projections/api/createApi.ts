import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { isCalendarDay } from '../../domain/games/parseDate.js';
import { hasControlCharacter } from '../../domain/games/validateGame.js';
import { DEFAULT_PROFILE_NAME, PROFILES } from '../../domain/rpi/RpiProfile.js';
import { OPENAPI } from './openapi.js';
import type { QueryService } from './QueryService.js';

const SEASON = /^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$/;
const MAX_ID = 200;

/** A request the API refuses, with its HTTP status. */
class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 501,
    message: string,
  ) {
    super(message);
  }
}

function seasonParam(value: string | undefined, required: boolean): string | undefined {
  if (value === undefined || value === '') {
    if (required) throw new HttpError(400, 'season is required, e.g. ?season=2026');
    return undefined;
  }
  if (!SEASON.test(value))
    throw new HttpError(400, 'season must be 1 to 20 letters, digits, dots, dashes or underscores');
  return value;
}

function dayParam(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isCalendarDay(value)) throw new HttpError(400, 'as_of must be a YYYY-MM-DD date');
  return value;
}

function profileParam(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!PROFILES.has(value))
    throw new HttpError(400, `profile must be one of ${[...PROFILES.keys()].join(', ')}`);
  return value;
}

function divisionParam(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!SEASON.test(value))
    throw new HttpError(
      400,
      'division must be 1 to 20 letters, digits, dots, dashes or underscores',
    );
  return value;
}

const MAX_BODY = 4096;

function parseBody(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the body must be a JSON object, e.g. {"season": "2026"}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'the body must be a JSON object, e.g. {"season": "2026"}');
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, `${name} must be a string`);
  return value;
}

function idParam(value: string, what: string): string {
  if (value.length === 0 || value.length > MAX_ID || hasControlCharacter(value)) {
    throw new HttpError(400, `${what} must be 1 to ${MAX_ID} printable characters`);
  }
  return value;
}

/**
 * Who may use the routes that change something (`POST /sagas`, the local admin routes). The
 * local server: whoever sends `Authorization: Bearer <token>`. Behind API Gateway: the
 * principals its IAM authorizer let through (the request says who they were; a request
 * without that identity is refused all the same).
 */
export type WriteAuth = { readonly token: string } | { readonly gateway: 'iam' };

/** Equal strings, compared in a time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Why a write request is refused, or undefined when it may go on. */
function writeRefusal(
  auth: WriteAuth,
  header: string | undefined,
  env: unknown,
): HttpError | undefined {
  if ('token' in auth) {
    const match = /^Bearer (\S+)$/.exec(header ?? '');
    if (!match) return new HttpError(401, 'this route needs Authorization: Bearer <token>');
    return sameSecret(match[1] ?? '', auth.token)
      ? undefined
      : new HttpError(403, "the token is not the server's");
  }
  const caller = (env as { requestContext?: { authorizer?: { iam?: { userArn?: string } } } })
    ?.requestContext?.authorizer?.iam?.userArn;
  return caller ? undefined : new HttpError(403, 'this route needs an IAM-signed request');
}

/**
 * The query API as a Hono app: the same routes on Node (`@hono/node-server`) and on Lambda
 * behind API Gateway (`hono/aws-lambda`). Every parameter is checked; errors are JSON
 * `{ "error": { "status", "message" } }` (400 bad parameter, 401/403 a write without its
 * authorization, 404 unknown, 500 otherwise, without internals). Reads are open; every other
 * method needs `auth`.
 */
export function createApi(queries: QueryService, auth: WriteAuth): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const refusal = writeRefusal(auth, c.req.header('authorization'), c.env);
      if (refusal) throw refusal;
    }
    await next();
  });

  app.get('/rankings', async (c) => {
    const season = seasonParam(c.req.query('season'), true) as string;
    const asOf = dayParam(c.req.query('as_of'));
    const division = divisionParam(c.req.query('division'));
    const profile = profileParam(c.req.query('profile'));
    const calculation = await queries.rankings({
      season,
      ...(asOf ? { as_of: asOf } : {}),
      ...(division ? { division } : {}),
      ...(profile ? { profile } : {}),
    });
    if (!calculation) {
      const scope = [
        asOf ? ` as of ${asOf}` : '',
        division ? ` in division ${division}` : '',
        profile ? ` with profile ${profile}` : '',
      ].join('');
      throw new HttpError(404, `no published rankings for season ${season}${scope}`);
    }
    return c.json(calculation);
  });

  app.get('/standings', async (c) => {
    const season = seasonParam(c.req.query('season'), true) as string;
    const asOf = dayParam(c.req.query('as_of'));
    return c.json({
      season,
      as_of: asOf ?? null,
      conferences: await queries.standings(season, asOf),
    });
  });

  app.get('/teams', async (c) => c.json({ teams: await queries.teams() }));

  app.get('/teams/:id', async (c) => {
    const id = idParam(c.req.param('id'), 'team id');
    const team = await queries.team(id, seasonParam(c.req.query('season'), false));
    if (!team) throw new HttpError(404, `unknown team "${id.slice(0, 80)}"`);
    return c.json(team);
  });

  app.get('/teams/:id/matches', async (c) => {
    const id = idParam(c.req.param('id'), 'team id');
    const season = seasonParam(c.req.query('season'), false);
    if (!(await queries.team(id))) throw new HttpError(404, `unknown team "${id.slice(0, 80)}"`);
    return c.json({
      team_id: id,
      season: season ?? null,
      matches: await queries.matchesOfTeam(id, season),
    });
  });

  app.post('/sagas', async (c) => {
    if (!queries.canStartSagas) throw new HttpError(501, 'this deployment cannot start sagas');
    const text = await c.req.text();
    if (text.length > MAX_BODY) throw new HttpError(413, `the body is over ${MAX_BODY} bytes`);
    const body = parseBody(text);
    const type = body.type ?? 'rpi';
    if (type !== 'rpi' && type !== 'rpi_calculation' && type !== 'rpi-calculation')
      throw new HttpError(400, 'type must be "rpi" (the RPI calculation saga)');
    const season = seasonParam(stringField(body, 'season'), true) as string;
    const asOf = dayParam(stringField(body, 'as_of'));
    const profile = stringField(body, 'profile') ?? DEFAULT_PROFILE_NAME;
    if (!PROFILES.has(profile))
      throw new HttpError(400, `profile must be one of ${[...PROFILES.keys()].join(', ')}`);
    const division = stringField(body, 'division');
    if (division !== undefined && !SEASON.test(division))
      throw new HttpError(
        400,
        'division must be 1 to 20 letters, digits, dots, dashes or underscores',
      );
    const saga = await queries.startSaga({
      season,
      as_of: asOf ?? null,
      profile,
      division: division ?? null,
      not_before: null,
      requested_at: new Date().toISOString(),
      reason: 'POST /sagas',
    });
    c.header('Location', `/sagas/${saga.saga_id}`);
    return c.json(saga, 202);
  });

  app.get('/notifications', async (c) => {
    const season = seasonParam(c.req.query('season'), true) as string;
    const notifications = await queries.notifications(season);
    if (!notifications) throw new HttpError(501, 'this deployment keeps no notifications');
    return c.json({ season, notifications });
  });

  app.get('/sagas/:id', async (c) => {
    const id = idParam(c.req.param('id'), 'saga id');
    const saga = await queries.saga(id);
    if (!saga) throw new HttpError(404, `unknown saga "${id.slice(0, 80)}"`);
    return c.json(saga);
  });

  app.get('/health', async (c) => {
    const health = await queries.health();
    return c.json({ status: health.dead_letters > 0 ? 'degraded' : 'ok', ...health });
  });

  app.get('/openapi.json', (c) => c.json(OPENAPI));

  app.notFound((c) =>
    c.json(
      {
        error: { status: 404, message: `no route ${c.req.method} ${new URL(c.req.url).pathname}` },
      },
      404,
    ),
  );
  app.onError((error, c) => {
    if (error instanceof HttpError)
      return c.json({ error: { status: error.status, message: error.message } }, error.status);
    return c.json({ error: { status: 500, message: 'internal error' } }, 500);
  });
  return app;
}
