import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { StoreError } from '../StoreError.js';
import { backoffDelay, type ReliableOptions, sendInBatches, sleep } from './backoff.js';

type Item = Record<string, AttributeValue>;

/** One write of a batch: an item to put, or the key of an item to delete. */
export type BatchWrite = { readonly put: Item } | { readonly delete: Item };

const MAX_WRITES = 25;
const MAX_GETS = 100;
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * BatchWriteItem that loses nothing: calls of at most 25 writes, every entry DynamoDB returns
 * in `UnprocessedItems` retried with backoff, and a `StoreError` if some still are not written
 * (the caller's batch then fails and is retried, never half-dropped). The writes must have
 * distinct keys (`keyNames` names the key attributes).
 */
export async function batchWriteReliably(
  client: DynamoDBClient,
  table: string,
  writes: readonly BatchWrite[],
  keyNames: readonly string[],
  options: ReliableOptions & { readonly lanes?: number } = {},
): Promise<void> {
  if (writes.length === 0) return;
  // Distinct keys: no write depends on another, so calls go out on parallel lanes.
  const failures = await Promise.all(
    lanes(writes, MAX_WRITES, options.lanes ?? LANES).map((lane) =>
      writeLane(client, table, lane, keyNames, options),
    ),
  );
  const failed = failures.flat();
  if (failed.length > 0) {
    const first = failed[0];
    throw new StoreError(
      'STORE_UNAVAILABLE',
      `${failed.length} of ${writes.length} writes to ${table} failed after retries: ${first?.errorCode}: ${first?.errorMessage}`,
      { table },
    );
  }
}

/**
 * At least the bytes a write takes in a BatchWriteItem request, without serializing it: the
 * item (or key) in DynamoDB's JSON wire format, as UTF-8, and its `PutRequest`/`DeleteRequest`
 * wrapping. The request is limited to 16 MB "over the network", where an item can take more
 * than the 400 KB it may take stored (API Reference, BatchWriteItem). A string's code unit
 * takes at most 6 bytes there (escaped as `\uXXXX`; any other way, 1 to 3), so a string
 * counts 6 bytes a code unit; bytes go as base64. Measuring the JSON of every item instead
 * was 5 % of the main thread's CPU in `matchstream start` (bench/README.md, "dynalite's
 * batches written together, and where the CPU goes"), and counted a binary value as the JSON
 * of a byte array, several times its base64.
 */
export function requestBytesBound(item: Item): number {
  return WRAPPING + mapBound(item);
}

/** `{"DeleteRequest":{"Key":` ... `}}`, the longer of the two wrappings, and a comma. */
const WRAPPING = 27;
/** `{"NULL":` ... `}`: a value's type and braces, for the longest type names. */
const TYPED = 9;

const stringBound = (s: string): number => 6 * s.length + 2;
const base64Bound = (bytes: Uint8Array): number => 4 * Math.ceil(bytes.byteLength / 3) + 2;

function mapBound(map: Record<string, AttributeValue>): number {
  let bytes = 2;
  for (const name in map) bytes += stringBound(name) + 2 + valueBound(map[name] as AttributeValue);
  return bytes;
}

function valueBound(value: AttributeValue): number {
  if (value.S !== undefined) return TYPED + stringBound(value.S);
  if (value.N !== undefined) return TYPED + stringBound(value.N);
  if (value.B !== undefined) return TYPED + base64Bound(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return TYPED + 5;
  if (value.SS !== undefined) return listBound(value.SS, stringBound);
  if (value.NS !== undefined) return listBound(value.NS, stringBound);
  if (value.BS !== undefined) return listBound(value.BS, base64Bound);
  if (value.L !== undefined) return listBound(value.L, valueBound);
  if (value.M !== undefined) return TYPED + mapBound(value.M);
  // A type this does not know: its JSON, 6 bytes a code unit.
  return TYPED + 6 * JSON.stringify(value).length;
}

function listBound<T>(values: readonly T[], bound: (value: T) => number): number {
  let bytes = TYPED + 2;
  for (const value of values) bytes += bound(value) + 1;
  return bytes;
}

const ACKED = { ack: true } as const;

/** Calls in flight at once for one batch write or read. */
const LANES = 4;

/** Splits `entries` into at most `count` contiguous lanes of whole calls of `perCall`. */
function lanes<T>(entries: readonly T[], perCall: number, count: number): (readonly T[])[] {
  const calls = Math.ceil(entries.length / perCall);
  const per = Math.ceil(calls / Math.max(1, Math.min(count, calls))) * perCall;
  const out: (readonly T[])[] = [];
  for (let i = 0; i < entries.length; i += per) out.push(entries.slice(i, i + per));
  return out;
}

async function writeLane(
  client: DynamoDBClient,
  table: string,
  writes: readonly BatchWrite[],
  keyNames: readonly string[],
  options: ReliableOptions,
): Promise<readonly { errorCode: string; errorMessage: string }[]> {
  const keyOf = (item: Item) => keyNames.map((k) => JSON.stringify(item[k])).join('\u0000');
  const delivery = await sendInBatches(
    writes,
    {
      maxEntries: MAX_WRITES,
      maxBytes: MAX_REQUEST_BYTES,
      size: (w) => requestBytesBound('put' in w ? w.put : w.delete),
      refuse: () => undefined,
      async send(batch, signal) {
        const requests: WriteRequest[] = batch.map((w) =>
          'put' in w ? { PutRequest: { Item: w.put } } : { DeleteRequest: { Key: w.delete } },
        );
        const output = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: requests } }),
          // No options without a signal: a client that resolves its stack once
          // (`forOwnServers`) resolves it again for a call with options.
          signal ? { abortSignal: signal } : undefined,
        );
        const unprocessed = new Set(
          (output.UnprocessedItems?.[table] ?? []).map((r) =>
            keyOf((r.PutRequest?.Item ?? r.DeleteRequest?.Key ?? {}) as Item),
          ),
        );
        // Nearly always nothing is left: no key to compare then.
        if (unprocessed.size === 0) return batch.map(() => ACKED);
        return batch.map((w) =>
          unprocessed.has(keyOf('put' in w ? w.put : w.delete))
            ? {
                errorCode: 'Unprocessed',
                errorMessage: 'left in UnprocessedItems',
                retryable: true,
              }
            : { ack: true },
        );
      },
    },
    { maxAttempts: 10, ...options },
  );
  return delivery.failed.map(({ entry, errorCode, errorMessage }) => ({
    entry,
    errorCode,
    errorMessage,
  }));
}

/**
 * BatchGetItem that reads every key: calls of at most 100 keys, `UnprocessedKeys` retried with
 * backoff; the items found, by the JSON of their key. Throws a `StoreError` if DynamoDB keeps
 * some keys unprocessed.
 */
export async function batchGetReliably(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  keyNames: readonly string[],
  options: ReliableOptions & { readonly consistent?: boolean } = {},
): Promise<Map<string, Item>> {
  const keyOf = (item: Item) => keyNames.map((k) => JSON.stringify(item[k])).join('\u0000');
  const found = new Map<string, Item>();
  const maxAttempts = options.maxAttempts ?? 10;
  const chunks: Item[][] = [];
  for (let start = 0; start < keys.length; start += MAX_GETS)
    chunks.push(keys.slice(start, start + MAX_GETS));
  let next = 0;
  const lane = async () => {
    for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) await readChunk(chunk);
  };
  const readChunk = async (keys: Item[]) => {
    let pending: Item[] = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) {
        throw new StoreError(
          'STORE_UNAVAILABLE',
          `${pending.length} keys of ${table} stayed unprocessed`,
          { table },
        );
      }
      if (attempt > 1)
        await (options.sleep ?? sleep)(
          backoffDelay(attempt - 1, options.baseDelayMs ?? 50, options.maxDelayMs ?? 2000),
        );
      const output = await client.send(
        new BatchGetItemCommand({
          RequestItems: { [table]: { Keys: pending, ConsistentRead: options.consistent ?? true } },
        }),
      );
      for (const item of output.Responses?.[table] ?? []) found.set(keyOf(item), item);
      pending = (output.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
    }
  };
  await Promise.all(Array.from({ length: Math.min(LANES, chunks.length) }, lane));
  return found;
}
