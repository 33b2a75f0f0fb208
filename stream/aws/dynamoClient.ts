import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ClientOptions, clientConfig, forOwnServers } from './clientConfig.js';
import { sendDirectly } from './directDynamo.js';

export type DynamoClientOptions = ClientOptions;

/**
 * A DynamoDB client (see `clientConfig` for local endpoints and retries, `forOwnServers` for
 * this process's own dynalite, `sendDirectly` for one on a server thread of this process).
 */
export function dynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  const client = forOwnServers(new DynamoDBClient(clientConfig(options)), options);
  return options.transport && options.endpoint !== undefined
    ? sendDirectly(client, options.transport)
    : client;
}
