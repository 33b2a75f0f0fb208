import * as dynamodb from '@aws-sdk/client-dynamodb';
import { type DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  abortError,
  answeredInTime,
  REQUEST_TIMEOUT_MS,
  type Transport,
  type TransportResponse,
  unsignedHeaders,
} from './clientConfig.js';

/**
 * The operations handed over directly: those on items, whose input and output are JSON but
 * for the bytes of binary attributes (`B`, `BS`).
 */
const DIRECT = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchGetItem',
  'BatchWriteItem',
  'Query',
  'Scan',
]);

/** The exceptions of the DynamoDB client by name, as its deserializer would build them. */
type ExceptionClass = new (
  options: { message: string; $metadata: object } & Record<string, unknown>,
) => DynamoDBServiceException;

const EXCEPTIONS = new Map<string, ExceptionClass>(
  Object.entries(dynamodb).flatMap(([name, value]) =>
    typeof value === 'function' &&
    value !== DynamoDBServiceException &&
    value.prototype instanceof DynamoDBServiceException
      ? [[name, value as unknown as ExceptionClass]]
      : [],
  ),
);

/** Answers the SDK's own path takes over: it retries them with backoff. */
const RETRIED = /Throttl|LimitExceeded|ProvisionedThroughputExceeded|RequestLimitExceeded/;

const NAME = 'directToOwnServer';

/**
 * A DynamoDB client of this process's own dynalite (a server thread: `transport`) hands the
 * requests on items to it as the JSON the server reads, and builds the output from the JSON it
 * answers, without the SDK's serializer, endpoint resolution, retry, signing and deserializer,
 * which took about 60 % of the sending thread's time per request (37 µs a conditional put
 * instead of 99: bench/README.md, "Less work for the embedded dynalite per request, and the
 * relay handed its commits"). It runs where the SDK's serializer would, so every middleware of
 * the earlier step (`initialize`: the project's counters, tests' faults) still sees each call,
 * and none of a later step does (`sendThroughSdk` takes it off a client that needs one). The
 * output is the SDK's: bytes as `Uint8Array`, `$metadata`; an error answer is the client's
 * own exception class (`ConditionalCheckFailedException`...). Throttling, a server
 * error, a request the server does not answer in 30 s, or one it cannot be given take the SDK's
 * path instead, with its retries; other operations (tables, TTL) always do.
 */
export function sendDirectly(
  client: DynamoDBClient,
  transport: Transport,
  options: {
    /** How long an answer may take before the SDK's path retries the request. @default 30000 */
    readonly answerTimeoutMs?: number;
  } = {},
): DynamoDBClient {
  const timeoutMs = options.answerTimeoutMs ?? REQUEST_TIMEOUT_MS;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = context.commandName?.replace(/Command$/, '');
      if (operation === undefined || !DIRECT.has(operation)) return next(args);
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
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': `DynamoDB_20120810.${operation}`,
              ...unsignedHeaders(),
            },
            body: JSON.stringify(withBase64(args.input)),
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
      const body = (text === '' ? {} : withBytes(JSON.parse(text))) as Record<string, unknown>;
      const requestId = answer.headers['x-amzn-requestid'];
      const $metadata = {
        httpStatusCode: answer.status,
        ...(requestId === undefined ? {} : { requestId }),
        attempts: 1,
        totalRetryDelay: 0,
      };
      if (answer.status < 300)
        return {
          output: { $metadata, ...body } as unknown as dynamodb.ServiceOutputTypes,
          response: answer,
        };
      const { __type, message, Message, ...rest } = body;
      const name =
        String(__type ?? '')
          .split('#')
          .pop() || `Http${answer.status}`;
      if (answer.status >= 500 || RETRIED.test(name)) return next(args);
      const said = String(message ?? Message ?? name);
      const Exception = EXCEPTIONS.get(name);
      throw Exception
        ? new Exception({ message: said, $metadata, ...rest })
        : new DynamoDBServiceException({ name, $fault: 'client', message: said, $metadata });
    },
    { step: 'serialize', priority: 'high', name: NAME, override: true },
  );
  return client;
}

/**
 * Takes `sendDirectly` off a client: every request goes through the SDK's whole stack again,
 * where a middleware of a later step than `initialize` sees it (the chaos suite's faults,
 * which are modelled inside the SDK's retries, as AWS's are).
 */
export function sendThroughSdk<C extends { middlewareStack: { remove(name: string): boolean } }>(
  client: C,
): C {
  client.middlewareStack.remove(NAME);
  return client;
}

/** Whether `sendDirectly` was applied to this client. */
export function sendsDirectly(client: DynamoDBClient): boolean {
  return client.middlewareStack.identify().some((entry) => entry.startsWith(`${NAME} `));
}

/**
 * The input with its bytes as base64, as the JSON protocol writes a blob: the same object
 * where nothing under it is bytes, a copy of the way down to each where something is. (A
 * walk in JavaScript, then the plain JSON.stringify: with a replacer and a reviver, which
 * JSON.stringify and JSON.parse call for every value, the middleware's own time in a CPU
 * profile of `matchstream start` was half as long again.)
 */
function withBase64(node: unknown): unknown {
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

/**
 * The parsed answer with each binary attribute's base64 as bytes, as the SDK gives them,
 * changed in place. An attribute value is the only object with a single member `B` (a
 * string) or `BS` (strings): a map's members are attribute values, never strings.
 */
function withBytes(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = withBytes(node[i]);
    return node;
  }
  const record = node as Record<string, unknown>;
  let members = 0;
  for (const key in record) {
    members++;
    record[key] = withBytes(record[key]);
  }
  if (members === 1) {
    if (typeof record.B === 'string') record.B = bytes(record.B);
    else if (Array.isArray(record.BS) && record.BS.every((b) => typeof b === 'string'))
      record.BS = record.BS.map((b: string) => bytes(b));
  }
  return record;
}

function bytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
