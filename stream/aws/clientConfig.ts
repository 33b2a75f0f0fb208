import { Agent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RetryStrategyV2 } from '@smithy/types';

/** What every AWS client of the project can be given. */
export interface ClientOptions {
  /** A local endpoint URL (dynalite, kinesalite, moto); AWS itself when absent. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Attempts per call, retries included: throttling and 5xx back off exponentially. */
  readonly maxAttempts?: number;
  /** Sockets kept open to the endpoint. */
  readonly maxSockets?: number;
  /** Replaces the standard retry strategy (tests use short backoffs). */
  readonly retryStrategy?: RetryStrategyV2;
}

/**
 * The configuration shared by the project's AWS clients. Against a local endpoint: fixed
 * dummy credentials and a keep-alive HTTP/1.1 handler (the Kinesis client would otherwise
 * speak HTTP/2, which kinesalite refuses). Against AWS: the usual credential chain. Either
 * way the SDK's standard retry mode retries throttling, server errors and timeouts with
 * exponential backoff and jitter, up to 8 attempts. Not the adaptive mode: its client-side
 * rate limiter, shared by every call of a client, starved the runtime's polling consumers
 * under sustained throttling (the chaos suite's `aws-faults` never settled at 1 % throttled
 * calls; in standard mode it converges at 5 %).
 */
export function clientConfig(options: ClientOptions) {
  // The SDK versions are pinned to ones that support Node.js 20 (see package.json), so the
  // SDK's notice that later versions will not is noise on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.retryStrategy
      ? { retryStrategy: options.retryStrategy }
      : { maxAttempts: options.maxAttempts ?? 8, retryMode: 'standard' }),
    ...(options.endpoint !== undefined
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
  };
}
