import {
  type OutgoingMessage,
  SEND_MESSAGE_LIMITS,
  type SendMessagesResult,
} from '../../stream/aws/sendMessagesReliably.js';
import { type DependencyUnavailable, heldBy } from '../../stream/breaker/DependencyUnavailable.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';

/** One message of a Lambda SQS event, as the function receives it (the fields used here). */
export interface InboxRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

/** The Lambda SQS event. */
export interface InboxEvent {
  readonly Records: readonly InboxRecord[];
}

/** The partial batch response: the messages SQS must keep (the others are deleted). */
export interface InboxResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

export interface InboxObserver {
  /** A bus event the handler failed on (SQS delivers it again, up to the receive count). */
  failed?(record: InboxRecord, error: unknown): void;
  /** Events put back on the queue to wait out an open breaker. */
  held?(held: DependencyUnavailable, requeued: number): void;
}

export interface InboxOptions {
  /** Puts messages back on the handler's own queue (`sendMessagesReliably` on `INBOX_URL`). */
  readonly requeue: (messages: readonly OutgoingMessage[]) => Promise<SendMessagesResult>;
  readonly observer?: InboxObserver;
  /** @default Date.now */
  readonly now?: () => number;
  /** Events of a batch handled at once. @default the whole batch */
  readonly concurrency?: number;
}

/**
 * A bus handler behind its SQS queue (the rule's target): each message is an EventBridge event.
 * The events of a batch are handled at once, as the local bus hands a handler the events it
 * routes together: a standard queue (`BusHandler`'s inbox) keeps no order anyway (SQS Developer
 * Guide, "Amazon SQS standard queues": best-effort ordering), and a handler's reads for the
 * events it is handed together go as one request (the match handler's versions of the matches
 * and its look at the season's saga, the metadata handler's teams).
 *
 * A failed event is reported alone (SQS delivers it again and, after the queue's receive
 * count, moves it to the dead-letter queue). When a breaker is open, each event it held and
 * every event not begun yet are sent back to the queue, delayed until the breaker's trial (at
 * most SQS's 15 minutes), and deleted here: a hold costs no receive, so an outage of any
 * length moves nothing to the dead letters. What cannot be sent back is reported instead, and
 * SQS keeps it.
 */
export function inboxHandler(
  handle: (event: BusEvent) => Promise<void>,
  options: InboxOptions,
): (event: InboxEvent) => Promise<InboxResponse> {
  const now = options.now ?? Date.now;
  return async (event) => {
    const records = event.Records ?? [];
    /** What became of each record: absent, not begun (a hold came first). */
    const outcomes: ({ ok: true } | { ok: false; error: unknown })[] = [];
    /** The hold with the latest trial, once a handle was held (other lanes begin no more). */
    const holding: { by: DependencyUnavailable | undefined } = { by: undefined };
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < records.length && !holding.by; i = next++) {
        try {
          await handle(parseBody(records[i] as InboxRecord));
          outcomes[i] = { ok: true };
        } catch (error) {
          outcomes[i] = { ok: false, error };
          holding.by = later(holding.by, heldBy(error));
        }
      }
    };
    const lanes = Math.max(1, Math.min(options.concurrency ?? records.length, records.length));
    await Promise.all(Array.from({ length: lanes }, lane));

    const kept = new Set<InboxRecord>();
    const waiting: InboxRecord[] = [];
    records.forEach((record, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) return;
      if (outcome === undefined || heldBy(outcome.error)) {
        waiting.push(record);
        return;
      }
      options.observer?.failed?.(record, outcome.error);
      kept.add(record);
    });
    const hold = holding.by;
    if (hold && waiting.length > 0) {
      const delaySeconds = Math.min(
        SEND_MESSAGE_LIMITS.maxDelaySeconds,
        Math.max(1, Math.ceil((hold.retryAt - now()) / 1000)),
      );
      const messages = waiting.map((r) => ({ body: r.body, delaySeconds }));
      const { failed } = await options.requeue(messages);
      // What was not sent back is reported instead: SQS keeps it, as for a failure.
      const notSent = new Set(failed.map((f) => f.message));
      messages.forEach((m, k) => {
        if (notSent.has(m)) kept.add(waiting[k] as InboxRecord);
      });
      options.observer?.held?.(hold, waiting.length - failed.length);
    }
    return {
      batchItemFailures: records
        .filter((r) => kept.has(r))
        .map((r) => ({ itemIdentifier: r.messageId })),
    };
  };
}

/** Of two holds, the one whose trial comes later. */
function later(
  a: DependencyUnavailable | undefined,
  b: DependencyUnavailable | undefined,
): DependencyUnavailable | undefined {
  if (!a || !b) return a ?? b;
  return b.retryAt > a.retryAt ? b : a;
}

/** The EventBridge event a message carries; throws naming the message when it is not one. */
export function parseBody(record: InboxRecord): BusEvent {
  let value: unknown;
  try {
    value = JSON.parse(record.body);
  } catch (error) {
    throw new Error(
      `message ${record.messageId}: the body is not JSON (${error instanceof Error ? error.message : error})`,
    );
  }
  if (typeof value !== 'object' || value === null || !('detail' in value))
    throw new Error(
      `message ${record.messageId}: the body is not an EventBridge event (no detail)`,
    );
  return value as BusEvent;
}

/**
 * Where a message's bus event is, for a log line: the message, and the event's id, type and
 * stream (`aggregate id@sequence`) as its envelope or claim check names them, without its
 * data. Only what the body holds: nothing for a body that is not an EventBridge event.
 */
export function inboxRecordContext(record: InboxRecord): Record<string, string> {
  const context: Record<string, string> = { messageId: record.messageId };
  let detail: unknown;
  try {
    detail = (JSON.parse(record.body) as { detail?: unknown }).detail;
  } catch {
    return context;
  }
  if (typeof detail !== 'object' || detail === null) return context;
  const { event_id, event_type, aggregate_id, sequence } = detail as Record<string, unknown>;
  if (typeof event_id === 'string') context.eventId = event_id;
  if (typeof event_type === 'string') context.eventType = event_type;
  if (typeof aggregate_id === 'string')
    context.stream = typeof sequence === 'number' ? `${aggregate_id}@${sequence}` : aggregate_id;
  return context;
}
