import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { type KinesisStreamRecord, lambdaRecords } from '../../../stream/consumer/kinesisEvent.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { ChangeRelay } from '../../../stream/local/ChangeRelay.js';
import { changeSourceContract } from '../../contract/changeSourceContract.js';
import { markPending } from '../../support/changeCapture.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { registry } from '../../support/registry.js';

/** Records a Lambda batch holds at most here (as a mapping's BatchSize would say). */
const BATCH_SIZE = 7;

// Kinesis on moto, read as Lambda's event source mapping reads a stream: shard by shard with
// GetRecords from the last record handed over, each batch in the shape of the Lambda event.
// moto has no Kinesis Data Streams for DynamoDB, so the change relay captures its table.
describe.runIf(motoAvailable())('moto_server', () => {
  let moto: Moto;
  let dynamo: DynamoDBClient;
  let kinesis: KinesisClient;
  let sources = 0;

  beforeAll(async () => {
    moto = await startMoto();
    dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    kinesis = kinesisClient({ endpoint: moto.endpoint, maxAttempts: 3 });
  });

  afterAll(async () => {
    dynamo?.destroy();
    kinesis?.destroy();
    await moto?.stop();
  });

  changeSourceContract(
    'Kinesis on moto_server, read with GetRecords as Lambda hands it over',
    async () => {
      const n = ++sources;
      const table = `events-${n}`;
      const streamName = `changes-${n}`;
      await ensureEventsTable(dynamo, table, { relayIndex: true });
      await ensureStream(kinesis, streamName, 4);
      const { StreamDescriptionSummary } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: streamName }),
      );
      const streamArn = StreamDescriptionSummary?.StreamARN ?? '';
      const relay = new ChangeRelay({ dynamo, table, kinesis, streamName });
      const store = new DynamoEventStore({ client: dynamo, table, registry, relayMarker: true });
      // The mapping's checkpoints: the last record handed over, per shard.
      const checkpoints = new Map<string, string>();
      return {
        store,
        table,
        async consume() {
          await relay.drain();
          const batches: KinesisStreamRecord[][] = [];
          const { Shards = [] } = await kinesis.send(
            new ListShardsCommand({ StreamName: streamName }),
          );
          for (const { ShardId: shardId = '' } of Shards) {
            const after = checkpoints.get(shardId);
            let { ShardIterator: iterator } = await kinesis.send(
              new GetShardIteratorCommand({
                StreamName: streamName,
                ShardId: shardId,
                ...(after
                  ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
                  : { ShardIteratorType: 'TRIM_HORIZON' }),
              }),
            );
            while (iterator) {
              const page = await kinesis.send(
                new GetRecordsCommand({ ShardIterator: iterator, Limit: BATCH_SIZE }),
              );
              const records = page.Records ?? [];
              if (records.length === 0) break;
              batches.push(lambdaRecords(records, shardId, streamArn, 'us-east-1'));
              checkpoints.set(shardId, records.at(-1)?.SequenceNumber ?? '');
              iterator = page.NextShardIterator;
            }
          }
          return batches;
        },
        captureAgain: (aggregateId, sequence) => markPending(dynamo, table, aggregateId, sequence),
      };
    },
  );
});
