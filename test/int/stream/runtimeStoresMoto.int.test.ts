import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { DynamoBusArchive } from '../../../stream/buses/BusArchive.js';
import { DynamoCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { DynamoDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import { DynamoPositionStore } from '../../../stream/consumer/DynamoPositionStore.js';
import { ensureRuntimeTables } from '../../../stream/local/localTables.js';
import { DynamoReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import { busArchiveContract } from '../../contract/busArchiveContract.js';
import { checkpointStoreContract } from '../../contract/checkpointStoreContract.js';
import { deadLetterQueueContract } from '../../contract/deadLetterQueueContract.js';
import { positionStoreContract } from '../../contract/positionStoreContract.js';
import { replayCheckpointsContract } from '../../contract/replayCheckpointsContract.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';

// The same contracts against moto_server's DynamoDB, the slower reference that behaves like AWS.
describe.runIf(motoAvailable())('moto_server', () => {
  let moto: Moto;
  let client: DynamoDBClient;

  beforeAll(async () => {
    moto = await startMoto();
    client = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    await ensureRuntimeTables(client);
    await DynamoReplayCheckpoints.open(client);
  });

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  positionStoreContract('DynamoDB on moto_server', () => ({
    open: (consumer) => new DynamoPositionStore(client, consumer),
  }));

  checkpointStoreContract('DynamoDB on moto_server', () => ({
    open: () => new DynamoCheckpointStore(client),
  }));

  replayCheckpointsContract('DynamoDB on moto_server', () => ({
    open: () => new DynamoReplayCheckpoints(client),
  }));
  deadLetterQueueContract('DynamoDB on moto_server', () => ({
    open: () => new DynamoDeadLetterQueue(client),
  }));

  busArchiveContract('DynamoDB on moto_server', () => ({
    open: () => new DynamoBusArchive(client),
  }));
});
