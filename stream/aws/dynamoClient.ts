import { Agent } from 'node:http';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface DynamoClientOptions {
  /** A DynamoDB endpoint URL (dynalite, moto, DynamoDB Local); AWS itself when absent. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Attempts per call, retries included: throttling and 5xx back off exponentially. */
  readonly maxAttempts?: number;
  /** Sockets kept open to the endpoint. */
  readonly maxSockets?: number;
  /** Replaces the adaptive retry strategy (tests use short backoffs). */
  readonly retryStrategy?: DynamoDBClientConfig['retryStrategy'];
}

/**
 * A DynamoDB client. Against a local endpoint it uses fixed dummy credentials and a
 * keep-alive HTTP/1.1 agent; against AWS, the usual credential chain. Either way the SDK's
 * adaptive retry mode backs off on throttling and server errors.
 */
export function dynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  // The SDK versions are pinned to ones that support Node.js 20 (see package.json), so the
  // SDK's notice that later versions will not is noise on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const local = options.endpoint !== undefined;
  return new DynamoDBClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.retryStrategy
      ? { retryStrategy: options.retryStrategy }
      : { maxAttempts: options.maxAttempts ?? 8, retryMode: 'adaptive' }),
    ...(local
      ? {
          endpoint: options.endpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          requestHandler: new NodeHttpHandler({
            httpAgent: new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 }),
            connectionTimeout: 5_000,
            requestTimeout: 30_000,
          }),
        }
      : {}),
  });
}
