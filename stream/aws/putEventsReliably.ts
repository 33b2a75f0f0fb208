import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { type ReliableOptions, sendInBatches } from './backoff.js';

export type { ReliableOptions } from './backoff.js';

export interface FailedEntry {
  readonly entry: PutEventsRequestEntry;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface PutEventsResult {
  readonly sent: { entry: PutEventsRequestEntry; eventId: string }[];
  readonly failed: FailedEntry[];
  /** The most attempts any entry took (0 when nothing was sent). */
  readonly attempts: number;
}

/**
 * PutEvents limits: 10 entries a request (API reference, PutEvents `Entries`), and 256 KB of
 * entries a request as `entrySize` counts them (User Guide, "Calculating Amazon EventBridge
 * PutEvents event entry size").
 */
export const PUT_EVENTS_LIMITS = { maxEntries: 10, maxRequestBytes: 262_144 } as const;

export interface PutEventsOptions extends ReliableOptions {
  /** Entry bytes (`entrySize`) in one request. @default 256 KB */
  readonly maxRequestBytes?: number;
}

// The API reference (PutEventsResultEntry) names these retryable; every other code is not.
const RETRYABLE_ENTRY_ERRORS = new Set(['ThrottlingException', 'InternalFailure']);

/**
 * An entry's size as EventBridge counts it: 14 bytes for `Time` if given, plus the UTF-8
 * bytes of `Source`, `DetailType`, `Detail` if given, and each of `Resources`.
 * `EventBusName` and `TraceHeader` do not count.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = 0;
  if (entry.Time != null) size += 14;
  size += utf8(entry.Source) + utf8(entry.DetailType);
  if (entry.Detail != null) size += utf8(entry.Detail);
  for (const resource of entry.Resources ?? []) if (resource != null) size += utf8(resource);
  return size;
}

/**
 * EventBridge PutEvents that loses nothing: every entry comes back once, in input order, in
 * `sent` (with its event id) or in `failed` (too large, failed for good, or still throttled
 * after `maxAttempts`). Only throttled and internally failed entries are retried, with backoff.
 *
 * @example
 * const { failed } = await putEventsReliably(client, entries);
 * for (const f of failed) await deadLetter(f);
 */
export async function putEventsReliably(
  client: EventBridgeClient,
  entries: readonly PutEventsRequestEntry[],
  options: PutEventsOptions = {},
): Promise<PutEventsResult> {
  const maxRequestBytes = options.maxRequestBytes ?? PUT_EVENTS_LIMITS.maxRequestBytes;
  const delivery = await sendInBatches(
    entries,
    {
      maxEntries: PUT_EVENTS_LIMITS.maxEntries,
      maxBytes: maxRequestBytes,
      size: entrySize,
      refuse(entry) {
        const size = entrySize(entry);
        return size > maxRequestBytes
          ? {
              errorCode: 'EntryTooLarge',
              errorMessage: `the entry is ${size} bytes, over the ${maxRequestBytes}-byte limit`,
            }
          : undefined;
      },
      async send(batch, signal) {
        const output = await client.send(
          new PutEventsCommand({ Entries: [...batch] }),
          // No options without a signal: a client that resolves its stack once
          // (`forOwnServers`) resolves it again for a call with options.
          signal ? { abortSignal: signal } : undefined,
        );
        // The per-entry results decide: an entry without an event id was not put on the
        // bus, whatever FailedEntryCount says.
        const results = output.Entries ?? [];
        return batch.map((_, i) => {
          const r = results[i];
          if (r?.ErrorCode)
            return {
              errorCode: r.ErrorCode,
              errorMessage: r.ErrorMessage ?? '',
              retryable: RETRYABLE_ENTRY_ERRORS.has(r.ErrorCode),
            };
          if (r?.EventId) return { ack: r.EventId };
          return {
            errorCode: 'MissingResult',
            errorMessage: `the response had no result for this entry (FailedEntryCount ${output.FailedEntryCount})`,
            retryable: true,
          };
        });
      },
    },
    options,
  );
  return {
    sent: delivery.sent.map(({ entry, ack }) => ({ entry, eventId: ack })),
    failed: delivery.failed.map(({ entry, errorCode, errorMessage }) => ({
      entry,
      errorCode,
      errorMessage,
    })),
    attempts: delivery.attempts,
  };
}

function utf8(text: string | undefined): number {
  return text == null ? 0 : Buffer.byteLength(text, 'utf8');
}
