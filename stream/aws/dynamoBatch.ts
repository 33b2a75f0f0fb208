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
      size: (w) => JSON.stringify('put' in w ? w.put : w.delete).length,
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
  return delivery.failed;
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
