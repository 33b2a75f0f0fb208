import * as dynamodb from '@aws-sdk/client-dynamodb';
import { type DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import type { Transport } from './clientConfig.js';
import {
  bytes,
  type DirectJsonService,
  type DirectOptions,
  exceptionsOf,
  sendJsonDirectly,
  withBase64,
} from './directJson.js';

export { sendsDirectly, sendThroughSdk } from './directJson.js';

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

/** DynamoDB's JSON protocol, for `sendJsonDirectly`. */
const DYNAMODB: DirectJsonService = {
  contentType: 'application/x-amz-json-1.0',
  targetPrefix: 'DynamoDB_20120810',
  operations: DIRECT,
  exceptions: exceptionsOf(dynamodb, DynamoDBServiceException),
  ServiceException: DynamoDBServiceException,
  request: (_, input) => withBase64(input),
  answer: (_, body) => withBytes(body) as Record<string, unknown>,
};

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
  options: DirectOptions = {},
): DynamoDBClient {
  return sendJsonDirectly(client, transport, DYNAMODB, options);
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
