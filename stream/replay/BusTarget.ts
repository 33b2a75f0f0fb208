import { type BusPublisher, busEntryOf } from '../buses/BusPublisher.js';
import type { Domain } from '../buses/domains.js';
import type { EventEnvelope } from '../EventEnvelope.js';
import type { ReplayTarget } from './replay.js';

/**
 * Replayed events onto the domain buses, each on its domain's bus (or only those of
 * `domains`), marked `replayed: true` so handlers can tell them from live events. Entries
 * the bus refuses after retries are dead-lettered by the publisher, never dropped.
 */
export class BusTarget implements ReplayTarget {
  readonly concurrent = true;
  readonly description: string;
  readonly stats = { published: 0, dead_lettered: 0, skipped: 0 };

  constructor(
    private readonly publisher: BusPublisher,
    private readonly domains?: readonly Domain[],
  ) {
    this.description = `buses ${domains ? domains.join(',') : 'all'}`;
  }

  async deliver(events: readonly EventEnvelope[]): Promise<void> {
    const entries = events
      .map((e) => busEntryOf(e, { replayed: true }))
      .filter((entry) => !this.domains || this.domains.includes(entry.domain));
    this.stats.skipped += events.length - entries.length;
    if (entries.length === 0) return;
    const result = await this.publisher.publish(entries);
    this.stats.published += result.published;
    this.stats.dead_lettered += result.deadLettered;
  }
}
