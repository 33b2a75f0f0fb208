import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { eventStoreContract } from '../../contract/eventStoreContract.js';
import { registry } from '../../support/registry.js';

let dynamo: EmbeddedDynamo;
let store: DynamoEventStore;
const client = () => dynamoClient({ endpoint: dynamo.endpoint });
let shared: ReturnType<typeof client>;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  shared = client();
  await ensureEventsTable(shared, 'events');
  store = new DynamoEventStore({ client: shared, table: 'events', registry });
});

afterAll(async () => {
  shared.destroy();
  await dynamo.stop();
});

eventStoreContract('DynamoDB on dynalite', () => ({
  store,
  plant: async (commit) => {
    await shared.send(new PutItemCommand({ TableName: 'events', Item: toItem(commit) }));
  },
}));
