import { OpenAPIHono } from '@hono/zod-openapi';
import { BEARER, ROUTES, SIGV4 } from './routes.js';
import { OpenApiDocument } from './schemas.js';

/**
 * The OpenAPI 3.1 document of the query API, generated from the routes and schemas the API
 * validates and answers with (`routes.ts`, `schemas.ts`); served at `/openapi.json`.
 */
function generate() {
  // Only the registry of this app is used: the document needs no handler.
  const app = new OpenAPIHono();
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', BEARER, {
    type: 'http',
    scheme: 'bearer',
    description:
      'The local server (`matchstream serve`): its token, written readable by its user only to `<data folder>/api-token` (or taken from `MATCHSTREAM_API_TOKEN`).',
  });
  // API Gateway's own way of naming IAM authorization in OpenAPI: an apiKey scheme on the
  // Authorization header marked with the reserved auth type `awsSigv4`.
  registry.registerComponent('securitySchemes', SIGV4, {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    'x-amazon-apigateway-authtype': 'awsSigv4',
    description:
      'Behind API Gateway on AWS: a request signed with AWS Signature Version 4 (service `execute-api`) by an IAM principal allowed `execute-api:Invoke` on the route.',
  });
  for (const route of ROUTES) registry.registerPath(route);
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'matchstream query API',
      version: '1',
      description:
        'Read models of matchstream: RPI rankings, standings, teams, matches, sagas and pipeline health. Errors answer `{"error": {"status", "message"}}`; reads are open, `POST /sagas` needs authorization.',
    },
    servers: [
      {
        url: 'http://127.0.0.1:{port}',
        description: 'The local server (`matchstream serve`)',
        variables: { port: { default: '8080', description: 'serve --port' } },
      },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'The API Gateway HTTP API of a deployed stack',
        variables: {
          apiId: { default: 'api-id', description: 'The HTTP API id (a stack output)' },
          region: { default: 'us-east-1', description: 'The AWS Region of the stack' },
        },
      },
    ],
    tags: [
      { name: 'rankings', description: 'RPI rankings and the changes of top-25 places' },
      { name: 'standings', description: 'W-L-T standings by conference' },
      { name: 'teams', description: 'The team directory and the matches of a team' },
      { name: 'sagas', description: 'RPI calculation sagas: start one, follow it' },
      { name: 'operations', description: 'Health of the pipeline, and this document' },
    ],
  });
}

/** The document, checked against its own description (a drift fails at load, in every test). */
export const OPENAPI = OpenApiDocument.parse(generate());
