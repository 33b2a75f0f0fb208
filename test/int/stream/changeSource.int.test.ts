import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { InMemoryCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import type { KinesisStreamRecord } from '../../../stream/consumer/kinesisEvent.js';
import type { Commit } from '../../../stream/eventStore/Commit.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { ChangeRelay } from '../../../stream/local/ChangeRelay.js';
import { EventSourceMapping } from '../../../stream/local/EventSourceMapping.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { changeSourceContract } from '../../contract/changeSourceContract.js';
import { markPending } from '../../support/changeCapture.js';
import { registry } from '../../support/registry.js';

let dynamoServer: EmbeddedDynamo;
let kinesisServer: EmbeddedKinesis;
let dynamo: DynamoDBClient;
let kinesis: KinesisClient;
let sources = 0;

beforeAll(async () => {
  dynamoServer = await startEmbeddedDynamo();
  kinesisServer = await startEmbeddedKinesis();
  dynamo = dynamoClient({ endpoint: dynamoServer.endpoint });
  kinesis = kinesisClient({ endpoint: kinesisServer.endpoint });
});

afterAll(async () => {
  dynamo?.destroy();
  kinesis?.destroy();
  await kinesisServer?.stop();
  await dynamoServer?.stop();
});

// The embedded default: the table on dynalite, the change relay to kinesalite, and the local
// event source mapping handing the records to the consumer (batches of 7 over 3 lanes a shard,
// so that batching and lanes are in play). Run twice: the relay reading what is pending from
// the index, and the relay handed each commit by the store, as the embedded runtime does.
for (const handed of [false, true])
  changeSourceContract(
    handed
      ? 'the change relay handed each commit by the store, kinesalite and the local event source mapping'
      : 'the change relay, kinesalite and the local event source mapping',
    async () => {
      const n = ++sources;
      const table = `events-${n}`;
      const streamName = `changes-${n}`;
      await ensureEventsTable(dynamo, table, { relayIndex: true });
      await ensureStream(kinesis, streamName, 4);
      const relay = new ChangeRelay({ dynamo, table, kinesis, streamName });
      const store = new DynamoEventStore({
        client: dynamo,
        table,
        registry,
        relayMarker: true,
        ...(handed ? { onCommit: (commit: Commit) => relay.notify(commit) } : {}),
      });
      const checkpoints = new InMemoryCheckpointStore();
      return {
        store,
        table,
        async consume() {
          await relay.drain();
          const batches: KinesisStreamRecord[][] = [];
          const mapping = new EventSourceMapping({
            consumer: 'contract',
            kinesis,
            streamName,
            handler: async (event) => {
              batches.push([...event.Records]);
              return { batchItemFailures: [] };
            },
            checkpoints,
            deadLetters: new InMemoryDeadLetterQueue(),
            batchSize: 7,
            parallelizationFactor: 3,
            pollIntervalMs: 20,
          });
          await mapping.start();
          await mapping.waitUntilIdle();
          await mapping.stop();
          return batches;
        },
        captureAgain: (aggregateId, sequence) => markPending(dynamo, table, aggregateId, sequence),
      };
    },
  );
