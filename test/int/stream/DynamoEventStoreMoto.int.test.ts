import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { eventStoreContract } from '../../contract/eventStoreContract.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { registry } from '../../support/registry.js';

// The same contract against moto_server, the slower reference that behaves like AWS.
describe.runIf(motoAvailable())('moto_server', () => {
  let moto: Moto;
  let client: DynamoDBClient;
  let store: DynamoEventStore;

  beforeAll(async () => {
    moto = await startMoto();
    client = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    await ensureEventsTable(client, 'events');
    store = new DynamoEventStore({ client, table: 'events', registry });
  });

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  eventStoreContract('DynamoDB on moto_server', () => ({
    store,
    plant: async (commit) => {
      await client.send(new PutItemCommand({ TableName: 'events', Item: toItem(commit) }));
    },
  }));
});
