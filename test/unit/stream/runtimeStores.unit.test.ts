import { InMemoryBusArchive } from '../../../stream/buses/BusArchive.js';
import { InMemoryCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import { InMemoryReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import { busArchiveContract } from '../../contract/busArchiveContract.js';
import { checkpointStoreContract } from '../../contract/checkpointStoreContract.js';
import { deadLetterQueueContract } from '../../contract/deadLetterQueueContract.js';
import { positionStoreContract } from '../../contract/positionStoreContract.js';
import { replayCheckpointsContract } from '../../contract/replayCheckpointsContract.js';

// In process memory, every writer of a consumer is the one instance the process holds.
positionStoreContract('in memory', () => {
  const byConsumer = new Map<string, InMemoryPositionStore>();
  return {
    open(consumer) {
      const store = byConsumer.get(consumer) ?? new InMemoryPositionStore();
      byConsumer.set(consumer, store);
      return store;
    },
  };
});

checkpointStoreContract('in memory', () => {
  const store = new InMemoryCheckpointStore();
  return { open: () => store };
});

replayCheckpointsContract('in memory', () => {
  const checkpoints = new InMemoryReplayCheckpoints();
  return { open: () => checkpoints };
});

deadLetterQueueContract('in memory', () => {
  const queue = new InMemoryDeadLetterQueue();
  return { open: () => queue };
});

busArchiveContract('in memory', () => {
  const archive = new InMemoryBusArchive();
  return { open: () => archive };
});
