import { Agent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type {
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RequestHandler,
  RequestSigner,
  RetryStrategyV2,
} from '@smithy/types';

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
  /**
   * Sends requests to `endpoint` without computing a signature (`UNSIGNED`): for the servers
   * the embedded runtime runs in this process, which check that a request carries a
   * signature's headers and never the signature. Ignored without an endpoint.
   * @default false
   */
  readonly unsigned?: boolean;
  /**
   * Hands each request to a server of this process without HTTP (a server thread's messages:
   * `serverThreadAt` in `stream/local/serverThread.ts`) instead of a socket. Ignored without an
   * endpoint.
   */
  readonly transport?: Transport;
}

/** How long a request to a local endpoint may wait for its answer, over HTTP or not. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Where the SDK finds the region, as error hints say it: `AWS_REGION`, else the profile's
 * `region` in the shared config file (see `clientConfig`).
 */
export const REGION_SOURCES =
  'AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config';

/** A request as a server's HTTP listener would have read it. */
export interface TransportRequest {
  readonly method: string;
  /** The path and the query. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

/** What the server answered. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

/** A way to a server of this process other than HTTP over a socket. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/**
 * The SDK's request handler over a `Transport`: what a request to a server thread of this
 * process costs without the socket, the HTTP framing and the connection pool on either side
 * (bench/README, "The embedded store on a thread of its own, and requests to it as messages").
 */
export class TransportHandler implements RequestHandler<HttpRequest, HttpResponse> {
  constructor(
    private readonly transport: Transport,
    /** As over HTTP: an answer not there by then fails the attempt (`TimeoutError`, retried). */
    private readonly requestTimeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  async handle(
    request: HttpRequest,
    options: HttpHandlerOptions = {},
  ): Promise<{ response: HttpResponse }> {
    const abortSignal = options.abortSignal as AbortSignal | undefined;
    if (abortSignal?.aborted) throw abortError();
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {}))
      for (const v of Array.isArray(value) ? value : [value]) if (v != null) query.append(name, v);
    const search = query.toString();
    const body: unknown = request.body ?? '';
    if (typeof body !== 'string' && !(body instanceof Uint8Array))
      throw new Error(`a request body of ${typeof body} cannot be handed to a server thread`);
    const answer = await answeredInTime(
      this.transport({
        method: request.method,
        url: `${request.path}${search ? `?${search}` : ''}`,
        headers: request.headers,
        body,
      }),
      abortSignal,
      options.requestTimeout ?? this.requestTimeoutMs,
    );
    return {
      response: {
        statusCode: answer.status,
        headers: answer.headers,
        body: typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body,
      },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** The transport belongs to the server, not to the client: nothing to close. */
  destroy(): void {}
}

/** The error an aborted request rejects with, as the SDK's HTTP handler's. */
export function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

/**
 * A server thread's answer, unless `signal` aborts first (`AbortError`) or none comes within
 * `timeoutMs` (`TimeoutError`, which the SDK retries), as over HTTP.
 */
export async function answeredInTime(
  answer: Promise<TransportResponse>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<TransportResponse> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      answer,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              Object.assign(new Error(`no answer from the server thread in ${timeoutMs} ms`), {
                name: 'TimeoutError',
              }),
            ),
          timeoutMs,
        );
        onAbort = () => reject(abortError());
        signal?.addEventListener?.('abort', onAbort);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener?.('abort', onAbort);
  }
}

/**
 * A signer for the embedded runtime's own servers (dynalite, kinesalite on 127.0.0.1): the
 * headers of a SigV4 signature (`X-Amz-Date`, and an `Authorization` with a credential scope,
 * the signed headers and a signature), without the hashing and HMACs that would sign a
 * request nobody verifies. Those took 14 % of the CPU of a request to dynalite (bench/README,
 * "The whole pipeline at volume").
 */
export const UNSIGNED: RequestSigner = {
  sign: async (request: HttpRequest) => {
    Object.assign(request.headers, unsignedHeaders());
    return request;
  },
};

/** The headers `UNSIGNED` gives a request: a signature's, without the signature. */
export function unsignedHeaders(): { 'x-amz-date': string; authorization: string } {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  return {
    'x-amz-date': date,
    authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/local/local/aws4_request, SignedHeaders=host;x-amz-date, Signature=unsigned`,
  };
}

/**
 * What a request to this process's own servers does without: the SDK's user agent (built and
 * escaped for each request, for AWS's own statistics), its recursion detection (a trace header
 * inside Lambda) and its logger (none is given). Together they took about 30 % of the sending
 * thread's time per request to dynalite (bench/README, "Lean clients for the embedded servers").
 */
export const NOT_FOR_OWN_SERVERS = [
  'getUserAgentMiddleware',
  'recursionDetectionMiddleware',
  'loggerMiddleware',
] as const;

/** What of an SDK client `forOwnServers` changes. */
interface OwnServersClient {
  readonly config: { cacheMiddleware?: boolean };
  readonly middlewareStack: { remove(name: string): boolean };
}

/**
 * Takes `NOT_FOR_OWN_SERVERS` out of a client of this process's own servers (`unsigned` with an
 * `endpoint`), and has it resolve its middleware stack once (`resolveStackOnce`); any other
 * client is left as it is.
 */
export function forOwnServers<C extends OwnServersClient>(client: C, options: ClientOptions): C {
  if (options.unsigned && options.endpoint !== undefined) {
    for (const name of NOT_FOR_OWN_SERVERS) client.middlewareStack.remove(name);
    resolveStackOnce(client);
  }
  return client;
}

/** The methods that change a middleware stack (`use` adds through `add`). */
const STACK_CHANGES = ['add', 'addRelativeTo', 'remove', 'removeByTag', 'use'] as const;

/**
 * The SDK resolves a client's middleware stack (every middleware sorted by step, priority and
 * relation) again on each call: in a CPU profile of `matchstream start` (1,000 teams) that took
 * 0.75 s of the main thread's 7.1 (bench/README.md, "Fewer CPU cycles for the embedded
 * pipeline"). With the client's `cacheMiddleware` it resolves it once per command class, for
 * calls without options, and never sees a change made to the stack after that. Here every
 * change of the client's stack (a test's fault, the benches' counters, `sendThroughSdk`) drops
 * what was resolved, so the next call resolves the stack as it is then.
 */
export function resolveStackOnce(client: OwnServersClient): void {
  const stack = client.middlewareStack as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  for (const name of STACK_CHANGES) {
    const change = stack[name];
    if (typeof change !== 'function') continue;
    stack[name] = function (this: unknown, ...args: unknown[]) {
      // The SDK's own cache of resolved stacks (`Client.handlers`, cleared by `destroy` too).
      delete (client as { handlers?: unknown }).handlers;
      return change.apply(this, args);
    };
  }
  client.config.cacheMiddleware = true;
}

/**
 * The configuration shared by the project's AWS clients. Against a local endpoint: fixed
 * dummy credentials and a keep-alive HTTP/1.1 handler (the Kinesis client would otherwise
 * speak HTTP/2, which kinesalite refuses), or the `transport` given. Against AWS: the usual
 * credential chain. Either way the SDK's standard retry mode retries throttling, server
 * errors and timeouts with exponential backoff and jitter, up to 8 attempts. Not the adaptive
 * mode: its client-side rate limiter, shared by every call of a client, starved the runtime's
 * polling consumers under sustained throttling (the chaos suite's `aws-faults` never settled
 * at 1 % throttled calls; in standard mode it converges at 5 %).
 */
export function clientConfig(options: ClientOptions) {
  // The SDK versions are pinned to ones that support Node.js 20 (see package.json), so the
  // SDK's notice that later versions will not is noise on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // AWS_REGION set to nothing names no region (the SDK would take "" for one).
  if (process.env.AWS_REGION === '') delete process.env.AWS_REGION;
  // Against AWS the SDK finds the region as it finds credentials: AWS_REGION, else the
  // profile's `region` in the shared config file; it picks none of its own ("Set the AWS
  // Region", AWS SDK for JavaScript v3 developer guide). A local endpoint takes any.
  const region =
    options.region ??
    (options.endpoint !== undefined ? (process.env.AWS_REGION ?? 'us-east-1') : undefined);
  return {
    ...(region !== undefined ? { region } : {}),
    ...(options.retryStrategy
      ? { retryStrategy: options.retryStrategy }
      : { maxAttempts: options.maxAttempts ?? 8, retryMode: 'standard' }),
    ...(options.endpoint !== undefined
      ? {
          endpoint: options.endpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          ...(options.unsigned ? { signer: UNSIGNED } : {}),
          requestHandler: options.transport
            ? new TransportHandler(options.transport)
            : new NodeHttpHandler({
                httpAgent: new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 }),
                connectionTimeout: 5_000,
                requestTimeout: REQUEST_TIMEOUT_MS,
              }),
        }
      : {}),
  };
}

/**
 * How the SDK's waiters poll a table or stream just created (seconds, as they take them): at
 * once, then from 5 ms, doubling with jitter, up to 2 s, for at most 5 minutes. The embedded
 * servers and moto have it active within a poll or two; AWS takes seconds to tens of seconds.
 */
export const UNTIL_ACTIVE = { minDelay: 0.005, maxDelay: 2, maxWaitTime: 300 } as const;
