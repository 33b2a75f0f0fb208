import { InMemoryBusArchive } from '../../../stream/buses/BusArchive.js';
import { DOMAINS, type Domain } from '../../../stream/buses/domains.js';
import type { BusEvent } from '../../../stream/buses/eventPattern.js';
import { LocalBusPublisher } from '../../../stream/buses/LocalBusPublisher.js';
import { LocalEventBus } from '../../../stream/buses/LocalEventBus.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import { eventBusContract } from '../../contract/eventBusContract.js';

let rules = 0;

// The buses as the embedded runtime makes them: an archive, one dead-letter queue.
eventBusContract('local buses in process', async () => {
  const deadLetters = new InMemoryDeadLetterQueue();
  const archive = new InMemoryBusArchive();
  const buses = Object.fromEntries(
    DOMAINS.map((d) => [d, new LocalEventBus(`matchstream-${d}`, { deadLetters, archive })]),
  ) as Record<Domain, LocalEventBus>;
  return {
    publisher: new LocalBusPublisher(buses, deadLetters),
    async rule(domain, pattern) {
      const delivered: BusEvent[] = [];
      buses[domain].register({
        name: `rule-${++rules}`,
        pattern,
        handler: async (event) => {
          delivered.push(event);
        },
      });
      return { take: async () => delivered.splice(0) };
    },
    deadLetters: () => deadLetters.list(),
  };
});
