import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ClientOptions, clientConfig, forOwnServers } from './clientConfig.js';

export type DynamoClientOptions = ClientOptions;

/**
 * A DynamoDB client (see `clientConfig` for local endpoints and retries, `forOwnServers` for
 * this process's own dynalite).
 */
export function dynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  return forOwnServers(new DynamoDBClient(clientConfig(options)), options);
}
