const season = {
  name: 'season',
  in: 'query',
  required: true,
  schema: { type: 'string', pattern: '^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$' },
  example: '2026',
};
const asOf = {
  name: 'as_of',
  in: 'query',
  required: false,
  schema: { type: 'string', format: 'date' },
  description: 'YYYY-MM-DD',
};
const division = {
  name: 'division',
  in: 'query',
  required: false,
  schema: { type: 'string', pattern: '^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$' },
  description: 'a calculation counting only games between teams of this division of the directory',
};
const profile = {
  name: 'profile',
  in: 'query',
  required: false,
  schema: { type: 'string' },
  description: 'the RPI profile of the calculation (default ncaa-soccer-2024)',
};
const teamId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', minLength: 1, maxLength: 200 },
};
const error = {
  description: 'An error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};
const json = (schema: object, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** The OpenAPI 3.1 document of the query API, served at `/openapi.json`. */
export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'matchstream query API',
    version: '1',
    description:
      'Read models of matchstream: RPI rankings, standings, teams, matches, sagas and pipeline health.',
  },
  paths: {
    '/rankings': {
      get: {
        summary:
          'The RPI rankings of a season: its current ones, or with as_of, division or profile the calculation of exactly that scope, from the rankings cache (source "cache") or else the rankings read model (source "read-model")',
        parameters: [season, asOf, division, profile],
        responses: {
          200: json({ $ref: '#/components/schemas/Calculation' }, 'The calculation'),
          400: error,
          404: error,
        },
      },
    },
    '/standings': {
      get: {
        summary: 'The standings of a season by conference (W-L-T, goals), as of a day if given',
        parameters: [season, asOf],
        responses: { 200: json({ type: 'object' }, 'Standings by conference'), 400: error },
      },
    },
    '/teams': {
      get: { summary: 'Every team', responses: { 200: json({ type: 'object' }, 'The teams') } },
    },
    '/teams/{id}': {
      get: {
        summary: 'One team; with `season`, its rank history in that season',
        parameters: [teamId, { ...season, required: false }],
        responses: { 200: json({ type: 'object' }, 'The team'), 400: error, 404: error },
      },
    },
    '/teams/{id}/matches': {
      get: {
        summary: "A team's matches, of one season if given",
        parameters: [teamId, { ...season, required: false }],
        responses: { 200: json({ type: 'object' }, 'The matches'), 400: error, 404: error },
      },
    },
    '/sagas': {
      post: {
        summary: 'Start an RPI calculation saga for a season',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['season'],
                properties: {
                  type: {
                    type: 'string',
                    enum: ['rpi', 'rpi_calculation', 'rpi-calculation'],
                    default: 'rpi',
                  },
                  season: season.schema,
                  as_of: { type: 'string', format: 'date' },
                  profile: { type: 'string' },
                  division: { type: 'string' },
                },
              },
              example: { season: '2026' },
            },
          },
        },
        responses: {
          202: json(
            {
              type: 'object',
              properties: {
                saga_id: { type: 'string' },
                saga_type: { type: 'string', enum: ['rpi_calculation'] },
                status: { type: 'string' },
                data: { type: 'object' },
                steps: { type: 'array' },
              },
            },
            'Started: the saga as GET /sagas/{id} shows it; follow it at the Location header',
          ),
          400: error,
          413: error,
          501: error,
        },
      },
    },
    '/notifications': {
      get: {
        summary: 'Changes of top-25 places per published calculation, oldest first',
        parameters: [season],
        responses: { 200: json({ type: 'object' }, 'The notifications'), 400: error },
      },
    },
    '/sagas/{id}': {
      get: {
        summary: 'A saga: status, data and steps',
        parameters: [{ ...teamId, description: 'saga id' }],
        responses: { 200: json({ type: 'object' }, 'The saga'), 400: error, 404: error },
      },
    },
    '/health': {
      get: {
        summary: 'Consumer lag, dead letters and event counts',
        responses: { 200: json({ type: 'object' }, 'Health') },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { 200: json({ type: 'object' }, 'OpenAPI') } },
    },
  },
  components: {
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['status', 'message'],
            properties: { status: { type: 'integer' }, message: { type: 'string' } },
          },
        },
      },
      Calculation: {
        type: 'object',
        properties: {
          calculation_id: { type: 'string' },
          season: { type: 'string' },
          as_of: { type: ['string', 'null'] },
          profile: { type: 'string' },
          status: { type: 'string', enum: ['calculated', 'published', 'retracted'] },
          published_at: { type: ['string', 'null'] },
          rankings: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                rank: { type: ['integer', 'null'] },
                team: { type: 'string' },
                wp: { type: ['number', 'null'] },
                owp: { type: ['number', 'null'] },
                oowp: { type: ['number', 'null'] },
                rpi: { type: ['number', 'null'] },
              },
            },
          },
        },
      },
    },
  },
} as const;
