import type { BusEntry, BusPublisher, PublishResult } from './BusPublisher.js';
import type { Domain } from './domains.js';
import type { LocalEventBus } from './LocalEventBus.js';

/** Publishes on the in-process buses, one per domain. */
export class LocalBusPublisher implements BusPublisher {
  constructor(private readonly buses: Readonly<Record<Domain, LocalEventBus>>) {}

  async publish(entries: readonly BusEntry[]): Promise<PublishResult> {
    const byDomain = new Map<Domain, BusEntry[]>();
    for (const entry of entries)
      byDomain.set(entry.domain, [...(byDomain.get(entry.domain) ?? []), entry]);
    for (const [domain, list] of byDomain) {
      const bus = this.buses[domain];
      await bus.put(list.map((entry) => bus.busEvent(entry)));
    }
    // Target failures are the bus's to retry and dead-letter; the bus itself always accepts.
    return { published: entries.length, deadLettered: 0 };
  }
}
