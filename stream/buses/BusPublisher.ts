import type { EventEnvelope } from '../EventEnvelope.js';
import { type Domain, domainOf, sourceOf } from './domains.js';

/**
 * An event too large for a bus entry, as it travels: its envelope without its data, which
 * stays where every event is, in the event store (`deliveredEnvelope` reads it there).
 */
export type ClaimCheck = Omit<EventEnvelope, 'data'> & {
  readonly claim_check: true;
  readonly replayed?: true;
};

/** An event to publish on a domain bus. */
export interface BusEntry {
  readonly domain: Domain;
  readonly source: string;
  readonly detailType: string;
  /**
   * The envelope, data at the latest schema version (`replayed: true` when replayed); for an
   * event too large for a bus, a claim check of it (see `fitted`).
   */
  readonly detail: (EventEnvelope & { readonly replayed?: true }) | ClaimCheck;
  readonly time: string;
}

export interface PublishResult {
  readonly published: number;
  /** Entries that could not be published after retries; the publisher dead-lettered them. */
  readonly deadLettered: number;
}

/** Publishes events on the domain buses (EventBridge on AWS, in-process buses locally). */
export interface BusPublisher {
  publish(entries: readonly BusEntry[]): Promise<PublishResult>;
}

/**
 * An event as published: on its domain's bus, `Source` `matchstream.<domain>`, `DetailType`
 * the event type, `Detail` the envelope. Replayed events say so in `detail.replayed`, so
 * handlers can tell them apart.
 */
export function busEntryOf(event: EventEnvelope, options: { replayed?: boolean } = {}): BusEntry {
  const domain = domainOf(event.event_type);
  return {
    domain,
    source: sourceOf(domain),
    detailType: event.event_type,
    detail: options.replayed ? { ...event, replayed: true } : event,
    time: event.timestamp,
  };
}
