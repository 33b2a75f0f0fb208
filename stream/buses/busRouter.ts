import type { EventEnvelope } from '../EventEnvelope.js';
import { type BusPublisher, busEntryOf } from './BusPublisher.js';

/** Counts of what the router published, per domain bus. */
export type RouterCounts = Record<string, number>;

/**
 * The bus router consumer's effect: each event, at the latest schema version, published on
 * its domain's bus. Entries the bus refuses after retries are dead-lettered by the publisher,
 * so the stream moves on.
 */
export function busRouter(publisher: BusPublisher, counts: RouterCounts = {}) {
  return async (events: readonly EventEnvelope[]): Promise<void> => {
    const entries = events.map((e) => busEntryOf(e));
    await publisher.publish(entries);
    for (const entry of entries) counts[entry.domain] = (counts[entry.domain] ?? 0) + 1;
  };
}
