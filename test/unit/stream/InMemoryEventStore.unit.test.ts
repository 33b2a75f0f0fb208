import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { eventStoreContract } from '../../contract/eventStoreContract.js';
import { registry } from '../../support/registry.js';

eventStoreContract('in memory', () => {
  const store = new InMemoryEventStore(registry);
  return {
    store,
    plant: async (commit) => {
      // The in-memory store keeps commits as they come; plant through its private map.
      const streams = (store as unknown as { streams: Map<string, unknown[]> }).streams;
      streams.set(commit.aggregate_id, [...(streams.get(commit.aggregate_id) ?? []), commit]);
    },
  };
});
