import { createRoute, z } from '@hono/zod-openapi';
import {
  Consumers,
  DeadLetters,
  ErrorBody,
  GatewayErrorBody,
  Health,
  NoQuery,
  Notifications,
  OpenApiDocument,
  OptionalSeasonQuery,
  Rankings,
  RankingsQuery,
  RedriveBody,
  RedriveSummary,
  Saga,
  SagaIdPath,
  SagaListQuery,
  SagaSummaries,
  SagaTimeline,
  SeasonAsOfQuery,
  SeasonQuery,
  Seasons,
  Standings,
  StartSagaBody,
  StoreOverview,
  TeamDetail,
  TeamIdPath,
  TeamMatches,
  Teams,
  TeamWeekly,
  TeamWeeklyQuery,
} from './schemas.js';

/** The largest body a write route reads. */
export const MAX_BODY_BYTES = 4096;

/** Names of the security schemes in the document. */
export const BEARER = 'bearerToken';
export const SIGV4 = 'sigv4';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** What each error status means, unless a route says more precisely. */
const ERRORS = {
  400: 'A path parameter, query parameter or body field is missing, malformed, repeated or unknown',
  401: 'The local server only: the request has no `Authorization: Bearer <token>`',
  404: 'Not found',
  413: `The body is over ${MAX_BODY_BYTES} bytes`,
  500: 'An internal error; the answer carries no details',
  501: 'This deployment does not offer it',
} as const;

type ErrorStatus = keyof typeof ERRORS;

/**
 * The error answers of a route, each with what it means there (`meaning`, else the usual), plus
 * the two every route can give: 500, and API Gateway's own 429 on AWS.
 */
function errors(statuses: ErrorStatus[], meaning: Partial<Record<ErrorStatus, string>> = {}) {
  const answers: Record<number, ReturnType<typeof json>> = {};
  for (const status of statuses)
    answers[status] = json(ErrorBody, meaning[status] ?? ERRORS[status]);
  answers[429] = json(
    GatewayErrorBody,
    'Behind API Gateway on AWS only: throttled by the stage (100 requests/s, bursts of 200 by default)',
  );
  answers[500] = json(ErrorBody, ERRORS[500]);
  return answers;
}

/** Reads are open to anyone, locally and behind API Gateway. */
const OPEN: Record<string, string[]>[] = [];

export const getRankings = createRoute({
  method: 'get',
  path: '/rankings',
  operationId: 'getRankings',
  tags: ['rankings'],
  summary: "A season's RPI rankings",
  description:
    'The current rankings from the rankings cache (`source: "cache"`); with `as_of`, or before any saga ran, the latest published calculation counting games up to that day, from the rankings read model (`source: "read-model"`).',
  security: OPEN,
  request: { query: RankingsQuery },
  responses: {
    200: json(Rankings, 'The rankings'),
    ...errors([400, 404], { 404: 'No published rankings for the season (as of that day)' }),
  },
});

export const listSeasons = createRoute({
  method: 'get',
  path: '/seasons',
  operationId: 'listSeasons',
  tags: ['rankings'],
  summary: 'The seasons with rankings, and their calculations',
  description:
    'Each season with current rankings, newest first, with every calculation of it (any day, division and profile), newest first: the scopes `GET /rankings` can be asked for. A season a saga left failed (its compensation failed, its calculation still published but never cached) is listed too, as `GET /rankings` serves it from the read model.',
  security: OPEN,
  request: { query: NoQuery },
  responses: { 200: json(Seasons, 'The seasons'), ...errors([400]) },
});

export const getStandings = createRoute({
  method: 'get',
  path: '/standings',
  operationId: 'getStandings',
  tags: ['standings'],
  summary: 'The standings of a season by conference',
  description:
    "W-L-T, goals for and against, goal difference and points per team, grouped by conference, best first; as of a day when given (none before the season's first result). A season none of whose games has a result is a 404, as `GET /rankings` answers a season without published rankings.",
  security: OPEN,
  request: { query: SeasonAsOfQuery },
  responses: {
    200: json(Standings, 'Standings by conference'),
    ...errors([400, 404], { 404: 'No game of the season has a result' }),
  },
});

export const listTeams = createRoute({
  method: 'get',
  path: '/teams',
  operationId: 'listTeams',
  tags: ['teams'],
  summary: 'The team directory',
  security: OPEN,
  request: { query: NoQuery },
  responses: { 200: json(Teams, 'Every team'), ...errors([400]) },
});

export const getTeam = createRoute({
  method: 'get',
  path: '/teams/{id}',
  operationId: 'getTeam',
  tags: ['teams'],
  summary: 'One team',
  description:
    "With `season`, also its rank in every published unadjusted calculation of that season in the season's current profile and division (as of a day or not), in order of the days they count up to.",
  security: OPEN,
  request: { params: TeamIdPath, query: OptionalSeasonQuery },
  responses: {
    200: json(TeamDetail, 'The team'),
    ...errors([400, 404], { 404: 'No team with this id' }),
  },
});

export const listTeamMatches = createRoute({
  method: 'get',
  path: '/teams/{id}/matches',
  operationId: 'listTeamMatches',
  tags: ['teams'],
  summary: "A team's matches",
  description: 'Results, corrections and cancellations, of one season when given.',
  security: OPEN,
  request: { params: TeamIdPath, query: OptionalSeasonQuery },
  responses: {
    200: json(TeamMatches, 'The matches'),
    ...errors([400, 404], { 404: 'No team with this id' }),
  },
});

export const getTeamWeekly = createRoute({
  method: 'get',
  path: '/teams/{id}/weekly',
  operationId: 'getTeamWeekly',
  tags: ['teams'],
  summary: "A team's RPI and rank week by week, and its opponents' part in its schedule",
  description:
    "Computed when asked from the matches read model: the RPI of the season as of each week's end (Sunday), and each opponent's part in the team's OWP over the whole season. With the season's current profile and division unless `profile` or `division` is given (then the default profile unless given).",
  security: OPEN,
  request: { params: TeamIdPath, query: TeamWeeklyQuery },
  responses: {
    200: json(TeamWeekly, 'The weeks and opponents'),
    ...errors([400, 404], {
      404: 'No team with this id, or the team is not in the `division` given (the message says which it is in)',
    }),
  },
});

export const startSaga = createRoute({
  method: 'post',
  path: '/sagas',
  operationId: 'startSaga',
  tags: ['sagas'],
  summary: 'Start an RPI calculation saga',
  description:
    'Starts a saga that collects the matches, calculates the RPI, publishes it and updates the rankings cache; follow it at `Location`. The body is read as JSON whatever its content type (so `curl -d` works), up to 4096 bytes. Needs, on the local server, its token as `Authorization: Bearer <token>`; behind API Gateway on AWS, a request signed with SigV4 by an IAM principal allowed `execute-api:Invoke` on this route.',
  security: [{ [BEARER]: [] }, { [SIGV4]: [] }],
  request: {
    query: NoQuery,
    body: { required: true, content: { 'application/json': { schema: StartSagaBody } } },
  },
  responses: {
    202: {
      ...json(Saga, 'Started: the saga as at GET /sagas/{id}'),
      headers: z.object({
        Location: z.string().openapi({ description: 'Where to follow it: /sagas/{id}' }),
      }),
    },
    ...errors([400, 401, 413, 501], { 501: 'This deployment cannot start sagas' }),
    403: json(
      z.union([ErrorBody, GatewayErrorBody]),
      'The local server: the token is not its own. Behind API Gateway: the request is not signed by an allowed IAM principal (API Gateway answers `{"message": ...}` itself), or reached the function without an IAM identity.',
    ),
  },
});

export const getSaga = createRoute({
  method: 'get',
  path: '/sagas/{id}',
  operationId: 'getSaga',
  tags: ['sagas'],
  summary: 'A saga: status, data and steps',
  security: OPEN,
  request: { params: SagaIdPath, query: NoQuery },
  responses: {
    200: json(Saga, 'The saga'),
    ...errors([400, 404], { 404: 'No saga with this id' }),
  },
});

export const listSagas = createRoute({
  method: 'get',
  path: '/sagas',
  operationId: 'listSagas',
  tags: ['sagas'],
  summary: 'The sagas, newest first',
  security: OPEN,
  request: { query: SagaListQuery },
  responses: { 200: json(SagaSummaries, 'The sagas'), ...errors([400]) },
});

export const getSagaTimeline = createRoute({
  method: 'get',
  path: '/sagas/{id}/timeline',
  operationId: 'getSagaTimeline',
  tags: ['sagas'],
  summary: "A saga's timeline: each attempt of each step and compensation",
  description:
    "From the saga's stream in the event store: when each attempt started and ended, and how (completed, failed, timed out, held by an open circuit breaker), with its error.",
  security: OPEN,
  request: { params: SagaIdPath, query: NoQuery },
  responses: {
    200: json(SagaTimeline, 'The timeline'),
    ...errors([400, 404, 501], {
      404: 'No saga with this id',
      501: 'This deployment shows no timelines',
    }),
  },
});

export const listNotifications = createRoute({
  method: 'get',
  path: '/notifications',
  operationId: 'listNotifications',
  tags: ['rankings'],
  summary: 'Changes of top-25 places, oldest first',
  description:
    'Per published calculation, each team whose top-25 place changed (`entered`, `rank-changed`, `left`), and each retraction. A season no calculation of which was ever published is a 404, as at `GET /rankings`.',
  security: OPEN,
  request: { query: SeasonQuery },
  responses: {
    200: json(Notifications, 'The notifications'),
    ...errors([400, 404, 501], {
      404: 'No calculation of the season was ever published',
      501: 'This deployment keeps no notifications',
    }),
  },
});

export const getLive = createRoute({
  method: 'get',
  path: '/live',
  operationId: 'getLiveChanges',
  tags: ['rankings'],
  summary: 'Changes of rankings as they happen (server-sent events)',
  description:
    "A `text/event-stream` that stays open: first `event: ready`, then an `event: calculation` whose data is a JSON `RankingsChange` each time a season's rankings change (a calculation became current: `cached`; or was retracted: `retracted`), and a comment line every 15 s to keep the connection. The local server offers it; behind API Gateway it answers 501: poll `GET /rankings` instead.",
  security: OPEN,
  request: { query: NoQuery },
  responses: {
    200: {
      description: 'The stream',
      content: {
        'text/event-stream': {
          schema: z.string().openapi({
            description:
              'Server-sent events: `event: calculation` with `data: {"season","calculation_id","change","at"}`',
            example:
              'event: calculation\ndata: {"season":"2026","calculation_id":"c1","change":"cached","at":"2026-10-01T12:00:00.000Z"}\n\n',
          }),
        },
      },
    },
    ...errors([400, 501], { 501: 'This deployment has no live stream (AWS): poll GET /rankings' }),
  },
});

export const getStore = createRoute({
  method: 'get',
  path: '/store',
  operationId: 'getStoreOverview',
  tags: ['operations'],
  summary: 'The event store: events applied by type and day, size, schemas and their versions',
  description:
    'The events by type and day are those the read models have applied (the `pipeline-stats` read model), not a count of the store: fewer while the read models catch up or when they gave up on an event. `size` is what the table (or the data folder) reports.',
  security: OPEN,
  request: { query: NoQuery },
  responses: { 200: json(StoreOverview, 'The store'), ...errors([400]) },
});

export const getConsumers = createRoute({
  method: 'get',
  path: '/consumers',
  operationId: 'getConsumers',
  tags: ['operations'],
  summary: "The consumers' lag over the last minutes, and the read models' generations",
  security: OPEN,
  request: { query: NoQuery },
  responses: { 200: json(Consumers, 'The consumers and generations'), ...errors([400]) },
});

export const listDeadLetters = createRoute({
  method: 'get',
  path: '/dead-letters',
  operationId: 'listDeadLetters',
  tags: ['operations'],
  summary: 'The dead letters: who gave up on which events, why, how many times',
  description:
    'Every letter of the dead-letter table and the failure records, a failure kept in both as one letter; without what it kept (`matchstream dead-letters show` prints that). Locally, `notes` names each object of the data folder in `failures/` that is no invocation record, left out. On AWS the dead-letter queues are counted from their attributes, not read (`queues`), and only the newest failure records are read (`notes` says so); `redrive` tells whether this API redrives them or which command does.',
  security: OPEN,
  request: { query: NoQuery },
  responses: {
    200: json(DeadLetters, 'The letters'),
    ...errors([400, 501], { 501: 'This deployment lists no dead letters here' }),
  },
});

export const redriveDeadLetters = createRoute({
  method: 'post',
  path: '/dead-letters/redrive',
  operationId: 'redriveDeadLetters',
  tags: ['operations'],
  summary: 'Redrive dead letters through the code that failed',
  description:
    "Re-applies each letter's events through the consumer or handler that gave up, oldest first: what goes through is removed, what fails again is kept with the new reason. Needs the local server's token as `Authorization: Bearer <token>`; the body is read as JSON whatever its content type.",
  security: [{ [BEARER]: [] }],
  request: {
    query: NoQuery,
    body: { required: true, content: { 'application/json': { schema: RedriveBody } } },
  },
  responses: {
    200: json(RedriveSummary, 'What the redrive did'),
    ...errors([400, 401, 404, 413, 501], {
      404: 'An id names no letter: nothing was redriven',
      413: 'The body is over 256 KiB',
      501: 'This deployment redrives no letters here',
    }),
    403: json(ErrorBody, "The token is not the server's"),
  },
});

export const getHealth = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'Consumer lag, dead letters, events applied and saga metrics',
  description:
    'The events by type and day are those the read models have applied (the `pipeline-stats` read model), as at `GET /store`.',
  security: OPEN,
  request: { query: NoQuery },
  responses: { 200: json(Health, 'Health'), ...errors([400]) },
});

export const getOpenApi = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  tags: ['operations'],
  summary: 'This document',
  security: OPEN,
  request: { query: NoQuery },
  responses: { 200: json(OpenApiDocument, 'The OpenAPI 3.1 document'), ...errors([400]) },
});

/** Every route of the query API, in the document's order. */
export const ROUTES = [
  getRankings,
  listSeasons,
  getStandings,
  listTeams,
  getTeam,
  listTeamMatches,
  getTeamWeekly,
  startSaga,
  listSagas,
  getSaga,
  getSagaTimeline,
  listNotifications,
  getLive,
  getStore,
  getConsumers,
  listDeadLetters,
  redriveDeadLetters,
  getHealth,
  getOpenApi,
] as const;
