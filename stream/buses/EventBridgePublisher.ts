import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { isRetryableError } from '../aws/backoff.js';
import {
  type PutEventsResult,
  putEventsReliably,
  type ReliableOptions,
} from '../aws/putEventsReliably.js';
import type { CircuitBreaker } from '../breaker/CircuitBreaker.js';
import type { DeadLetterQueue } from '../consumer/DeadLetterQueue.js';
import type { BusEntry, BusPublisher, PublishResult } from './BusPublisher.js';
import { fitted } from './claimCheck.js';
import type { Domain } from './domains.js';

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  /** The bus name of each domain (see `busNames`). */
  readonly buses: Readonly<Record<Domain, string>>;
  /** Where entries go that EventBridge still refuses after the retries. */
  readonly deadLetters: DeadLetterQueue;
  readonly retry?: ReliableOptions;
  /**
   * The breaker around PutEvents. With it, a call where nothing went through and every entry
   * failed for an outage (throttled, failed inside EventBridge, unreachable) throws instead of
   * dead-lettering: the batch is held and retried, and the breaker counts the failure.
   */
  readonly breaker?: CircuitBreaker;
}

/** Every entry refused, each for an outage rather than for what it holds. */
function outage(result: PutEventsResult): Error | undefined {
  if (result.sent.length > 0 || result.failed.length === 0) return undefined;
  const kinds = result.failed.map((f) =>
    Object.assign(new Error(f.errorMessage), { name: f.errorCode, code: f.errorCode }),
  );
  if (!kinds.every(isRetryableError)) return undefined;
  const first = result.failed[0];
  return Object.assign(
    new Error(
      `PutEvents refused all ${result.failed.length} entries: ${first?.errorCode}: ${first?.errorMessage}`,
    ),
    { name: first?.errorCode ?? 'InternalFailure', $retryable: {} },
  );
}

/**
 * Publishes on EventBridge with PutEvents: at most 10 entries and 256 KB a call (an event
 * larger than an entry may be goes as a claim check, see `fitted`), every
 * failed entry (`FailedEntryCount`, `Entries[i].ErrorCode`) retried with backoff, and what
 * still fails dead-lettered with its error code. Nothing is dropped silently.
 */
export class EventBridgePublisher implements BusPublisher {
  constructor(private readonly options: EventBridgePublisherOptions) {}

  async publish(entries: readonly BusEntry[]): Promise<PublishResult> {
    // An event over the entry limit travels as a claim check.
    const requests: PutEventsRequestEntry[] = entries.map(
      (e) => fitted(e, this.options.buses[e.domain]).request,
    );
    const send = () => putEventsReliably(this.options.client, requests, this.options.retry);
    const breaker = this.options.breaker;
    const result = breaker
      ? await breaker.execute(async () => {
          const sent = await send();
          const down = outage(sent);
          if (down) throw down;
          return sent;
        })
      : await send();
    for (const failed of result.failed) {
      await this.options.deadLetters.send({
        consumer: `publish:${failed.entry.EventBusName ?? '?'}`,
        event: { ...failed.entry, Time: failed.entry.Time?.toISOString() },
        error: `${failed.errorCode}: ${failed.errorMessage}`,
        attempts: result.attempts,
        failed_at: new Date().toISOString(),
      });
    }
    return { published: result.sent.length, deadLettered: result.failed.length };
  }
}
