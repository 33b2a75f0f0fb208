import { fileURLToPath } from 'node:url';
import { handle } from 'hono/aws-lambda';
import { createApi } from '../../api/createApi.js';
import { awsQueryService } from '../../pipeline/aws/sagas.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';

/**
 * Lambda entry point of the query API (API Gateway HTTP API, payload format 2.0); the gateway
 * authorizes the write route with IAM.
 */
export const handler = handle(
  createApi(
    awsQueryService(process.env, dynamoClient()),
    { gateway: 'iam' },
    // The bundle carries the built console beside it (`./web`, copied after bundling).
    { consoleDir: fileURLToPath(new URL('./web/', import.meta.url)) },
  ),
);
