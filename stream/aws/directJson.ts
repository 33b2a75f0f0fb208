import type {
  MetadataBearer,
  MiddlewareStack,
  ResponseMetadata,
  SerializeMiddleware,
} from '@smithy/types';
import {
  abortError,
  answeredInTime,
  REQUEST_TIMEOUT_MS,
  type Transport,
  type TransportResponse,
  unsignedHeaders,
} from './clientConfig.js';

/** An exception class of an SDK client, as its deserializer would build it. */
type ExceptionClass = new (
  options: { message: string; $metadata: ResponseMetadata } & Record<string, unknown>,
) => Error;

/** A client's base exception class: the one for an error its model does not name. */
type BaseExceptionClass = new (options: {
  name: string;
  $fault: 'client' | 'server';
  message: string;
  $metadata: ResponseMetadata;
}) => Error;

/**
 * The exceptions of an SDK client by name (`ConditionalCheckFailedException`...): every class
 * its module exports that extends its base exception class.
 */
export function exceptionsOf(
  module: Record<string, unknown>,
  base: BaseExceptionClass,
): ReadonlyMap<string, ExceptionClass> {
  return new Map(
    Object.entries(module).flatMap(([name, value]) =>
      typeof value === 'function' && value !== base && value.prototype instanceof base
        ? [[name, value as unknown as ExceptionClass]]
        : [],
    ),
  );
}

/** What a service speaking AWS's JSON protocol needs for its requests to go directly. */
export interface DirectJsonService {
  /** `application/x-amz-json-1.0` (DynamoDB), `-1.1` (Kinesis). */
  readonly contentType: string;
  /** The `x-amz-target` before the operation's name: `DynamoDB_20120810`. */
  readonly targetPrefix: string;
  /** The operations handed over directly; any other takes the SDK's path. */
  readonly operations: ReadonlySet<string>;
  /** The client's exceptions by name (`exceptionsOf`). */
  readonly exceptions: ReadonlyMap<string, ExceptionClass>;
  /** The client's base exception class, for an error not among `exceptions`. */
  readonly ServiceException: BaseExceptionClass;
  /** The input as the JSON the server reads, not changing the input itself. */
  request(operation: string, input: object): unknown;
  /** The parsed answer (an error's too) as the SDK's output gives it, changed in place. */
  answer(operation: string, body: Record<string, unknown>): Record<string, unknown>;
}

/** Answers the SDK's own path takes over: it retries them with backoff. */
const RETRIED = /Throttl|LimitExceeded|ProvisionedThroughputExceeded|RequestLimitExceeded/;

/** The middleware's name, the same on every client: `sendThroughSdk` takes it off any. */
const NAME = 'directToOwnServer';

/** How a client hands its requests over directly. */
export interface DirectOptions {
  /** How long an answer may take before the SDK's path retries the request. @default 30000 */
  readonly answerTimeoutMs?: number;
}

/** What of an SDK client the middleware needs. */
interface StackOf {
  readonly middlewareStack: object;
}

/**
 * Hands the `service`'s `operations` of a client of this process's own server (a server thread:
 * `transport`) to it as the JSON the server reads, and builds the output from the JSON it
 * answers, without the SDK's serializer, endpoint resolution, retry, signing and deserializer
 * (`sendDirectly` of `directDynamo.ts` and of `directKinesis.ts`, which say what it saved). It
 * runs where the SDK's serializer would (step `serialize`), so every middleware of the earlier
 * step (`initialize`: the project's counters, tests' faults) still sees each call, and none of a
 * later step does (`sendThroughSdk` takes it off a client that needs one). The output is the
 * SDK's, with a `$metadata` of one attempt; an error answer is the client's own exception class.
 * Throttling, a server error, a request the server does not answer in time (`answerTimeoutMs`), or one it
 * cannot be given take the SDK's path instead, with its retries.
 */
export function sendJsonDirectly<C extends StackOf>(
  client: C,
  transport: Transport,
  service: DirectJsonService,
  options: DirectOptions = {},
): C {
  const timeoutMs = options.answerTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const middleware: SerializeMiddleware<object, MetadataBearer> =
    (next, context) => async (args) => {
      const operation = context.commandName?.replace(/Command$/, '');
      if (operation === undefined || !service.operations.has(operation)) return next(args);
      const signal = (context as { __smithy_context?: { abortSignal?: AbortSignal } })
        .__smithy_context?.abortSignal;
      if (signal?.aborted) throw abortError();
      let answer: TransportResponse;
      try {
        answer = await answeredInTime(
          transport({
            method: 'POST',
            url: '/',
            headers: {
              'content-type': service.contentType,
              'x-amz-target': `${service.targetPrefix}.${operation}`,
              ...unsignedHeaders(),
            },
            body: JSON.stringify(service.request(operation, args.input)),
          }),
          signal,
          timeoutMs,
        );
      } catch (error) {
        if ((error as Error).name === 'AbortError') throw error;
        return next(args);
      }
      const text =
        typeof answer.body === 'string' ? answer.body : Buffer.from(answer.body).toString('utf8');
      const body =
        text === '' ? {} : service.answer(operation, JSON.parse(text) as Record<string, unknown>);
      const requestId = answer.headers['x-amzn-requestid'];
      const $metadata = {
        httpStatusCode: answer.status,
        ...(requestId === undefined ? {} : { requestId }),
        attempts: 1,
        totalRetryDelay: 0,
      };
      if (answer.status < 300)
        return { output: { $metadata, ...body } as MetadataBearer, response: answer };
      const { __type, message, Message, ...rest } = body;
      const name =
        String(__type ?? '')
          .split('#')
          .pop() || `Http${answer.status}`;
      if (answer.status >= 500 || RETRIED.test(name)) return next(args);
      const said = String(message ?? Message ?? name);
      const Exception = service.exceptions.get(name);
      throw Exception
        ? new Exception({ message: said, $metadata, ...rest })
        : new service.ServiceException({ name, $fault: 'client', message: said, $metadata });
    };
  (client.middlewareStack as MiddlewareStack<object, MetadataBearer>).add(middleware, {
    step: 'serialize',
    priority: 'high',
    name: NAME,
    override: true,
  });
  return client;
}

/**
 * Takes `sendDirectly` (DynamoDB's or Kinesis's) off a client: every request goes through the
 * SDK's whole stack again, where a middleware of a later step than `initialize` sees it (the
 * chaos suite's faults, which are modelled inside the SDK's retries, as AWS's are). Any other
 * client is left as it is.
 */
export function sendThroughSdk<C extends { middlewareStack: { remove(name: string): boolean } }>(
  client: C,
): C {
  client.middlewareStack.remove(NAME);
  return client;
}

/** Whether `sendDirectly` (DynamoDB's or Kinesis's) was applied to this client. */
export function sendsDirectly(client: {
  middlewareStack: { identify(): readonly string[] };
}): boolean {
  return client.middlewareStack.identify().some((entry) => entry.startsWith(`${NAME} `));
}

/**
 * The input with its bytes as base64, as the JSON protocol writes a blob: the same object
 * where nothing under it is bytes, a copy of the way down to each where something is. (A
 * walk in JavaScript, then the plain JSON.stringify: with a replacer and a reviver, which
 * JSON.stringify and JSON.parse call for every value, the middleware's own time in a CPU
 * profile of `matchstream start` was half as long again.)
 */
export function withBase64(node: unknown): unknown {
  if (node instanceof Uint8Array)
    return Buffer.from(node.buffer, node.byteOffset, node.byteLength).toString('base64');
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < node.length; i++) {
      const value: unknown = node[i];
      const encoded = withBase64(value);
      if (encoded === value) continue;
      copy ??= node.slice();
      copy[i] = encoded;
    }
    return copy ?? node;
  }
  const record = node as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const value = record[key];
    const encoded = withBase64(value);
    if (encoded === value) continue;
    copy ??= { ...record };
    copy[key] = encoded;
  }
  return copy ?? record;
}

/** A blob's base64 as the SDK reads it: a `Uint8Array` (no regex check of the text first). */
export function bytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
