import { SQSClient } from '@aws-sdk/client-sqs';
import { type ClientOptions, clientConfig } from './clientConfig.js';

/** An SQS client (see `clientConfig` for local endpoints and retries). */
export function sqsClient(options: ClientOptions = {}): SQSClient {
  return new SQSClient(clientConfig(options));
}
