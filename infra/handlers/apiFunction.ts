import { handle } from 'hono/aws-lambda';
import { createApi } from '../../projections/api/createApi.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { awsQueryService } from './sagas.js';

/**
 * Lambda entry point of the query API (API Gateway HTTP API, payload format 2.0); the gateway
 * authorizes the write route with IAM.
 */
export const handler = handle(
  createApi(awsQueryService(process.env, dynamoClient()), { gateway: 'iam' }),
);
