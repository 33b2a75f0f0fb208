import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { DynamoBusArchive } from '../../../stream/buses/BusArchive.js';
import { DynamoCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { DynamoDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import { DynamoPositionStore } from '../../../stream/consumer/DynamoPositionStore.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureRuntimeTables } from '../../../stream/local/localTables.js';
import { DynamoReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import { busArchiveContract } from '../../contract/busArchiveContract.js';
import { checkpointStoreContract } from '../../contract/checkpointStoreContract.js';
import { deadLetterQueueContract } from '../../contract/deadLetterQueueContract.js';
import { positionStoreContract } from '../../contract/positionStoreContract.js';
import { replayCheckpointsContract } from '../../contract/replayCheckpointsContract.js';

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
  await ensureRuntimeTables(client);
  await DynamoReplayCheckpoints.open(client);
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

positionStoreContract('DynamoDB on dynalite', () => ({
  open: (consumer) => new DynamoPositionStore(client, consumer),
}));

checkpointStoreContract('DynamoDB on dynalite', () => ({
  open: () => new DynamoCheckpointStore(client),
}));

replayCheckpointsContract('DynamoDB on dynalite', () => ({
  open: () => new DynamoReplayCheckpoints(client),
}));

deadLetterQueueContract('DynamoDB on dynalite', () => ({
  open: () => new DynamoDeadLetterQueue(client),
}));

busArchiveContract('DynamoDB on dynalite', () => ({
  open: () => new DynamoBusArchive(client),
}));
