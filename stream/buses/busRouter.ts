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

/**
 * The first events the bus router keeps no position for (`SequencerOptions.skipFirstPositions`):
 * a result's `MatchRecorded` and a team's `TeamRegistered`, nearly every stream of a season,
 * each of which otherwise cost the router a position read and write. Such an event delivered
 * again is published again, as is the first event of a stream whose next event comes (read
 * from the store, published before it). EventBridge delivers at least once anyway, and the
 * handlers take a repeat of these: the team directory ignores a registration it holds, and a
 * result asks for its season's recalculation, which a pending one absorbs (a repeat arriving
 * after its season was recalculated starts a calculation of the same results). Saga and
 * calculation streams, which hold many events each, keep their positions.
 */
export const routedWithoutPosition = (first: EventEnvelope): boolean =>
  first.event_type === 'MatchRecorded' || first.event_type === 'TeamRegistered';
