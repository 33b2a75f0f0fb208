import { createHash, timingSafeEqual } from 'node:crypto';
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Context, Hono, MiddlewareHandler, ValidationTargets } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { TrieRouter } from 'hono/router/trie-router';
import { streamSSE } from 'hono/streaming';
import type { BlankEnv } from 'hono/types';
import { DomainError } from '../domain/DomainError.js';
import { type AdjustmentOverrides, parseAdjustmentOverrides } from '../domain/rpi/adjustments.js';
import { checkVariant, type RpiVariant } from '../domain/rpi/computeRpiVariant.js';
import { DEFAULT_PROFILE_NAME, resolveProfile } from '../domain/rpi/RpiProfile.js';
import type { SagaDoc } from '../sagas/sagasReadModel.js';
import { mountConsole } from './console.js';
import type { QueryService } from './QueryService.js';
import { refusalOf } from './refusal.js';
import {
  getConsumers,
  getHealth,
  getLive,
  getOpenApi,
  getRankings,
  getSaga,
  getSagaTimeline,
  getStandings,
  getStore,
  getTeam,
  getTeamWeekly,
  listDeadLetters,
  listNotifications,
  listSagas,
  listSeasons,
  listTeamMatches,
  listTeams,
  MAX_BODY_BYTES,
  redriveDeadLetters,
  startSaga,
} from './routes.js';
import { RedriveBody, type Saga, StartSagaBody } from './schemas.js';

/** A request the API refuses, with its HTTP status. */
class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 501,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Who may use the routes that change something (`POST /sagas`, the local admin routes). The
 * local server: whoever sends `Authorization: Bearer <token>`. Behind API Gateway: the
 * principals its IAM authorizer let through (the request says who they were; a request
 * without that identity is refused all the same).
 */
export type WriteAuth = { readonly token: string } | { readonly gateway: 'iam' };

/** How often `GET /live` writes a comment line to keep its connection open. */
const LIVE_KEEPALIVE_MS = 15_000;

/** The largest body `POST /dead-letters/redrive` reads (1,000 ids). */
const MAX_REDRIVE_BYTES = 256 * 1024;

/** What the API serves besides its routes. */
export interface ApiOptions {
  /** The built web console (`dist/web/`), served at `/`. @default none: `/` is a 404 */
  readonly consoleDir?: string;
}

/** Equal strings, compared in a time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The methods a router may answer a path with, in this order. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The methods the app's routes take at a path (HEAD with GET), from its routes as they stand
 * when asked: routes added after the API's own (the local server's admin routes) count too.
 * The middleware that runs on every path is not a route.
 * @example methodsOf(app)('/sagas') // ['GET', 'HEAD', 'POST']
 */
function methodsOf(app: Hono): (path: string) => string[] {
  let router: TrieRouter<string> | undefined;
  let routes = -1;
  return (path) => {
    if (routes !== app.routes.length) {
      router = new TrieRouter<string>();
      for (const r of app.routes)
        if (r.method !== 'ALL') router.add(r.method, r.path, r.method);
        // Anything else on every method (app.all, or middleware of some paths): taken, and so
        // authorized, rather than passed on unchecked.
        else if (r.path !== '*' && r.path !== '/*')
          for (const m of HTTP_METHODS) router.add(m, r.path, m);
      routes = app.routes.length;
    }
    const taken = (m: string) => (router?.match(m, path)[0].length ?? 0) > 0;
    return HTTP_METHODS.filter((m) => taken(m) || (m === 'HEAD' && taken('GET')));
  };
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

type ValidationResult =
  | { readonly target: keyof ValidationTargets; readonly success: true }
  | {
      readonly target: keyof ValidationTargets;
      readonly success: false;
      readonly error: z.ZodError;
    };

/** What a route does with path and query values that fail its schema: 400, saying why. */
function refuse(route: { request?: { query?: z.ZodObject } }) {
  const accepted = Object.keys(route.request?.query?.shape ?? {});
  return (result: ValidationResult, c: Context): undefined => {
    if (result.success) return undefined;
    const part = result.target === 'query' ? 'query' : 'param';
    const repeated =
      part === 'query'
        ? Object.entries(c.req.queries()).find(([, values]) => values.length > 1)?.[0]
        : undefined;
    throw new HttpError(400, refusalOf(result.error, part, accepted, repeated));
  };
}

/** The body of `POST /sagas`: JSON whatever the content type says (`curl -d` says a form). */
async function sagaRequestOf(c: Context): Promise<z.output<typeof StartSagaBody>> {
  const malformed = 'the body must be a JSON object, e.g. {"season": "2026"}';
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new HttpError(400, malformed);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, malformed);
  const parsed = StartSagaBody.safeParse(body);
  if (!parsed.success)
    throw new HttpError(400, refusalOf(parsed.error, 'body', Object.keys(StartSagaBody.shape)));
  return parsed.data;
}

/**
 * The adjustments a saga request gives, checked against its profile and variant before the
 * saga starts: a variant the profile has no rules for, a table value nobody supplied, or
 * values that do not fit the table are refused (400) naming what is wrong.
 */
function adjustmentsOf(
  request: z.output<typeof StartSagaBody>,
  profile: string,
  variant: RpiVariant,
): AdjustmentOverrides | null {
  try {
    if (request.adjustments != null && variant !== 'adjusted')
      throw new DomainError('INVALID_OPTION', 'adjustments go with "variant": "adjusted"');
    const adjustments =
      request.adjustments == null ? null : parseAdjustmentOverrides(request.adjustments);
    checkVariant(variant, resolveProfile(profile), adjustments ?? undefined);
    return adjustments;
  } catch (error) {
    if (error instanceof DomainError) throw new HttpError(400, error.message);
    throw error;
  }
}

/**
 * The query API as a Hono app: the same routes on Node (`@hono/node-server`) and on Lambda
 * behind API Gateway (`hono/aws-lambda`). Every route, parameter and answer is described by
 * the schemas of `schemas.ts` that validate them; unknown query parameters and body fields are
 * refused. Errors are JSON `{ "error": { "status", "message" } }` (400 bad parameter, 401/403 a
 * write without its authorization, 404 unknown, 405 a method the path does not take, with
 * `Allow`, 413 body too large, 501 not offered here, 500 otherwise, without internals). Reads
 * are open; every other method a route takes needs `auth`.
 */
export function createApi(queries: QueryService, auth: WriteAuth, options: ApiOptions = {}): Hono {
  const app = new OpenAPIHono<BlankEnv>();

  const methods = methodsOf(app);
  app.use('*', async (c, next) => {
    const method = c.req.method;
    // A method no route of the path takes goes on to its 405 (or 404) unauthorized: there is
    // nothing to protect, and the answer says what the path takes.
    if (method !== 'GET' && method !== 'HEAD' && methods(c.req.path).includes(method)) {
      const refusal = writeRefusal(auth, c.req.header('authorization'), c.env);
      if (refusal) throw refusal;
    }
    await next();
  });

  app.openapi(
    getRankings,
    async (c) => {
      const { season, as_of: asOf, division, profile, variant } = c.req.valid('query');
      const calculation = await queries.rankings({
        season,
        ...(asOf ? { as_of: asOf } : {}),
        ...(division ? { division } : {}),
        ...(profile ? { profile } : {}),
        ...(variant ? { variant } : {}),
      });
      if (!calculation) {
        const scope = [
          variant && variant !== 'unadjusted' ? ` (${variant} RPI)` : '',
          asOf ? ` as of ${asOf}` : '',
          division ? ` in division ${division}` : '',
          profile ? ` with profile ${profile}` : '',
        ].join('');
        throw new HttpError(404, `no published rankings for season ${season}${scope}`);
      }
      return c.json(calculation, 200);
    },
    refuse(getRankings),
  );

  app.openapi(
    listSeasons,
    async (c) => c.json({ seasons: await queries.seasons() }, 200),
    refuse(listSeasons),
  );

  app.openapi(
    getStandings,
    async (c) => {
      const { season, as_of: asOf } = c.req.valid('query');
      const conferences = await queries.standings(season, asOf);
      // Empty: a season without results is unknown here; one whose results all came after
      // `as_of` has standings, all empty on that day.
      if (conferences.length === 0 && !(await queries.seasonHasResults(season)))
        throw new HttpError(404, `no game of season ${season} has a result`);
      return c.json({ season, as_of: asOf ?? null, conferences }, 200);
    },
    refuse(getStandings),
  );

  app.openapi(
    listTeams,
    async (c) => c.json({ teams: await queries.teams() }, 200),
    refuse(listTeams),
  );

  app.openapi(
    getTeam,
    async (c) => {
      const { id } = c.req.valid('param');
      const team = await queries.team(id, c.req.valid('query').season);
      if (!team) throw new HttpError(404, `unknown team "${id.slice(0, 80)}"`);
      return c.json(team, 200);
    },
    refuse(getTeam),
  );

  app.openapi(
    listTeamMatches,
    async (c) => {
      const { id } = c.req.valid('param');
      const { season } = c.req.valid('query');
      if (!(await queries.team(id))) throw new HttpError(404, `unknown team "${id.slice(0, 80)}"`);
      return c.json(
        { team_id: id, season: season ?? null, matches: await queries.matchesOfTeam(id, season) },
        200,
      );
    },
    refuse(listTeamMatches),
  );

  app.openapi(
    getTeamWeekly,
    async (c) => {
      const { id } = c.req.valid('param');
      const { season, profile, division } = c.req.valid('query');
      const weekly = await queries.teamSeason(id, {
        season,
        ...(profile ? { profile } : {}),
        ...(division ? { division } : {}),
      });
      if (!weekly) throw new HttpError(404, `unknown team "${id.slice(0, 80)}"`);
      if ('outside' in weekly) throw new HttpError(404, weekly.outside);
      return c.json({ team_id: id, season, ...weekly }, 200);
    },
    refuse(getTeamWeekly),
  );

  const offersSagas: MiddlewareHandler = async (_c, next) => {
    if (!queries.canStartSagas) throw new HttpError(501, 'this deployment cannot start sagas');
    await next();
  };
  // The body is left out of the route given to the framework, which would refuse any content
  // type but JSON and read a body of any size: it is limited first, then read and checked here
  // with the same schema the document shows.
  const { body: _, ...startSagaRequest } = startSaga.request;
  app.openapi(
    {
      ...startSaga,
      request: startSagaRequest,
      middleware: [
        offersSagas,
        bodyLimit({
          maxSize: MAX_BODY_BYTES,
          onError: () => {
            throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
          },
        }),
      ],
    },
    async (c) => {
      const request = await sagaRequestOf(c);
      const profile = request.profile ?? DEFAULT_PROFILE_NAME;
      const variant = request.variant ?? 'unadjusted';
      const adjustments = adjustmentsOf(request, profile, variant);
      const saga = await queries.startSaga({
        season: request.season,
        as_of: request.as_of ?? null,
        profile,
        division: request.division ?? null,
        variant,
        adjustments,
        not_before: null,
        requested_at: new Date().toISOString(),
        reason: 'POST /sagas',
      });
      c.header('Location', `/sagas/${saga.saga_id}`);
      return c.json(saga as SagaDoc & Pick<z.output<typeof Saga>, 'data' | 'output'>, 202);
    },
    refuse(startSaga),
  );

  app.openapi(
    listNotifications,
    async (c) => {
      const { season } = c.req.valid('query');
      const notifications = await queries.notifications(season);
      if (!notifications) throw new HttpError(501, 'this deployment keeps no notifications');
      if (notifications.length === 0 && !(await queries.seasonPublished(season)))
        throw new HttpError(404, `no published rankings for season ${season}`);
      return c.json({ season, notifications }, 200);
    },
    refuse(listNotifications),
  );

  app.openapi(
    listSagas,
    async (c) => c.json({ sagas: await queries.sagas(c.req.valid('query').limit ?? 50) }, 200),
    refuse(listSagas),
  );

  app.openapi(
    getSagaTimeline,
    async (c) => {
      const { id } = c.req.valid('param');
      if (!queries.offersTimelines)
        throw new HttpError(501, 'this deployment shows no saga timelines');
      const timeline = await queries.sagaTimeline(id);
      if (!timeline) throw new HttpError(404, `unknown saga "${id.slice(0, 80)}"`);
      return c.json({ saga_id: id, ...timeline }, 200);
    },
    refuse(getSagaTimeline),
  );

  app.openapi(getStore, async (c) => c.json(await queries.store(), 200), refuse(getStore));

  app.openapi(
    getConsumers,
    async (c) => c.json(await queries.consumers(), 200),
    refuse(getConsumers),
  );

  app.openapi(
    listDeadLetters,
    async (c) => {
      const desk = queries.deadLetters;
      if (!desk) throw new HttpError(501, 'this deployment lists no dead letters here');
      const listing = await desk.list();
      const letters = listing.letters.map((l) => ({
        id: l.id,
        consumer: l.consumer,
        kind: l.kind,
        error: l.error,
        attempts: l.attempts,
        failed_at: l.failed_at,
        events: l.events.map((e) => ({
          aggregate_id: e.aggregate_id,
          sequence: e.sequence,
          last_sequence: e.last_sequence,
        })),
        unknown: l.unknown ?? null,
      }));
      return c.json(
        {
          letters,
          queues: [...listing.queues],
          notes: [...listing.notes],
          redrive: { api: desk.redrive !== undefined, command: desk.command },
        },
        200,
      );
    },
    refuse(listDeadLetters),
  );

  const { body: __, ...redriveRequest } = redriveDeadLetters.request;
  app.openapi(
    {
      ...redriveDeadLetters,
      request: redriveRequest,
      middleware: [
        bodyLimit({
          maxSize: MAX_REDRIVE_BYTES,
          onError: () => {
            throw new HttpError(413, `the body is over ${MAX_REDRIVE_BYTES} bytes`);
          },
        }),
      ],
    },
    async (c) => {
      const desk = queries.deadLetters;
      const redrive = desk?.redrive;
      if (!desk || !redrive)
        throw new HttpError(
          501,
          `this deployment redrives no dead letters here${desk?.command ? ` (${desk.command} does)` : ''}`,
        );
      const malformed = 'the body must be a JSON object, e.g. {"ids": ["3f2a9c1d0b7e"]}';
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        throw new HttpError(400, malformed);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new HttpError(400, malformed);
      const parsed = RedriveBody.safeParse(body);
      if (!parsed.success)
        throw new HttpError(400, refusalOf(parsed.error, 'body', Object.keys(RedriveBody.shape)));
      const { ids, all } = parsed.data;
      if ((ids === undefined) === (all === undefined))
        throw new HttpError(400, 'give the letters to redrive as "ids", or "all": true (not both)');
      const known = new Set((await desk.list()).letters.map((l) => l.id));
      const missing = [...new Set(ids ?? [])].filter((id) => !known.has(id));
      if (missing.length > 0)
        throw new HttpError(
          404,
          `no dead letter ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}; nothing was redriven`,
        );
      return c.json(await redrive(ids ?? []), 200);
    },
    refuse(redriveDeadLetters),
  );

  app.openapi(
    getSaga,
    async (c) => {
      const { id } = c.req.valid('param');
      const saga = await queries.saga(id);
      if (!saga) throw new HttpError(404, `unknown saga "${id.slice(0, 80)}"`);
      // The read model keeps a saga's data and output as the JSON the saga wrote: the RPI
      // saga's, as documented (the contract test checks live answers against the document).
      return c.json(saga as SagaDoc & Pick<z.output<typeof Saga>, 'data' | 'output'>, 200);
    },
    refuse(getSaga),
  );

  app.openapi(
    getLive,
    (c) => {
      const live = queries.live;
      if (!live) throw new HttpError(501, 'this deployment has no live stream: poll GET /rankings');
      // HEAD: the stream's headers alone. Hono answers HEAD with a GET's headers and leaves its
      // body unread, so a stream opened here would never hear of the client leaving: its
      // keep-alive and subscription would run on, and hold the server past Ctrl-C.
      if (c.req.method === 'HEAD') {
        c.header('Content-Type', 'text/event-stream');
        c.header('Cache-Control', 'no-cache');
        return c.body(null, 200) as never;
      }
      return streamSSE(c, async (stream) => {
        // One write at a time: changes arrive from the bus whenever they happen.
        let writing = Promise.resolve();
        const send = (write: () => Promise<unknown>) => {
          writing = writing.then(write).then(
            () => undefined,
            () => undefined,
          );
          return writing;
        };
        const unsubscribe = live.subscribe((change) => {
          void send(() => stream.writeSSE({ event: 'calculation', data: JSON.stringify(change) }));
        });
        // The keep-alive is a timer the abort clears (a client gone, or the server's shutdown
        // closing every connection), and the stream lives until then. Not a loop over
        // stream.sleep: Hono's sleep is a bare timeout no abort cancels, which held the
        // process for up to 15 s after Ctrl-C.
        const keepAlive = setInterval(
          () => void send(() => stream.write(': keep-alive\n\n')),
          LIVE_KEEPALIVE_MS,
        );
        const aborted = new Promise<void>((resolve) =>
          stream.onAbort(() => {
            clearInterval(keepAlive);
            unsubscribe();
            resolve();
          }),
        );
        await send(() => stream.writeSSE({ event: 'ready', data: '{}', retry: 3000 }));
        await aborted;
      }) as never;
    },
    refuse(getLive),
  );

  app.openapi(
    getHealth,
    async (c) => {
      const health = await queries.health();
      const degraded = health.dead_letters > 0 || health.breakers.some((b) => b.state !== 'closed');
      return c.json({ status: degraded ? 'degraded' : 'ok', ...health }, 200);
    },
    refuse(getHealth),
  );

  app.openapi(
    getOpenApi,
    // Generated when first asked for, so that a cold start does not pay for it.
    async (c) => c.json((await import('./openapi.js')).OPENAPI, 200),
    refuse(getOpenApi),
  );

  if (options.consoleDir !== undefined) mountConsole(app, options.consoleDir);

  app.notFound((c) => {
    const allowed = methods(c.req.path);
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      return c.json(
        {
          error: {
            status: 405,
            message: `${c.req.path} takes ${allowed.join(', ')}, not ${c.req.method}`,
          },
        },
        405,
      );
    }
    return c.json(
      { error: { status: 404, message: `no route ${c.req.method} ${c.req.path}` } },
      404,
    );
  });
  app.onError((error, c) => {
    if (error instanceof HttpError)
      return c.json({ error: { status: error.status, message: error.message } }, error.status);
    return c.json({ error: { status: 500, message: 'internal error' } }, 500);
  });
  return app;
}
