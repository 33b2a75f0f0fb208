import { SQSClient } from '@aws-sdk/client-sqs';
import { type ClientOptions, clientConfig } from './clientConfig.js';

/**
 * An SQS client (see `clientConfig` for local endpoints and retries). Where an endpoint is set
 * for it by the environment (`AWS_ENDPOINT_URL_SQS` or `AWS_ENDPOINT_URL`, as against moto or
 * LocalStack), calls go there even with a queue URL of another host: the SDK otherwise sends a
 * call to its `QueueUrl`'s host, and an emulator's CloudFormation names queues by AWS's.
 */
export function sqsClient(options: ClientOptions = {}): SQSClient {
  const configured = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  return new SQSClient({
    ...clientConfig(options),
    ...(options.endpoint === undefined && configured ? { useQueueUrlAsEndpoint: false } : {}),
  });
}
