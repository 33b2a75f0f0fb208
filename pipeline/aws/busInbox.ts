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
}

/**
 * A bus handler behind its SQS queue (the rule's target): each message is an EventBridge event,
 * handled in order. A failed event is reported alone (SQS delivers it again and, after the
 * queue's receive count, moves it to the dead-letter queue). When a breaker is open, the event
 * it held and every event after it in the batch are sent back to the queue, delayed until the
 * breaker's trial (at most SQS's 15 minutes), and deleted here: a hold costs no receive, so an
 * outage of any length moves nothing to the dead letters. What cannot be sent back is reported
 * instead, and SQS keeps it.
 */
export function inboxHandler(
  handle: (event: BusEvent) => Promise<void>,
  options: InboxOptions,
): (event: InboxEvent) => Promise<InboxResponse> {
  const now = options.now ?? Date.now;
  return async (event) => {
    const failures: { itemIdentifier: string }[] = [];
    const records = event.Records ?? [];
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as InboxRecord;
      try {
        await handle(parseBody(record));
      } catch (error) {
        const held = heldBy(error);
        if (!held) {
          options.observer?.failed?.(record, error);
          failures.push({ itemIdentifier: record.messageId });
          continue;
        }
        const waiting = records.slice(i);
        const delaySeconds = Math.min(
          SEND_MESSAGE_LIMITS.maxDelaySeconds,
          Math.max(1, Math.ceil((held.retryAt - now()) / 1000)),
        );
        const messages = waiting.map((r) => ({ body: r.body, delaySeconds }));
        const { failed } = await options.requeue(messages);
        // What was not sent back is reported instead: SQS keeps it, as for a failure.
        const notSent = new Set(failed.map((f) => f.message));
        messages.forEach((m, k) => {
          if (notSent.has(m))
            failures.push({ itemIdentifier: (waiting[k] as InboxRecord).messageId });
        });
        options.observer?.held?.(held, waiting.length - failed.length);
        break;
      }
    }
    return { batchItemFailures: failures };
  };
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
