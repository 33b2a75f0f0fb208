import { readModelsHandler } from '../../pipeline/aws/consumers.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { observed } from './observed.js';

/** Lambda entry point of the read-models consumer. */
export const { handler } = observed(process.env.CONSUMER ?? 'read-models', (observer) =>
  readModelsHandler(process.env, dynamoClient(), observer),
);
