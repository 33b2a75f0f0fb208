import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ClientOptions, clientConfig } from './clientConfig.js';

export type DynamoClientOptions = ClientOptions;

/** A DynamoDB client (see `clientConfig` for local endpoints and retries). */
export function dynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(clientConfig(options));
}
