import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { documentStoreContract } from '../../contract/documentStoreContract.js';

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let store: DynamoDocumentStore;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
  store = await DynamoDocumentStore.open(client, 'docs');
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

documentStoreContract('DynamoDB on dynalite', () => store);

describe('DynamoDocumentStore', () => {
  it('refuses a document too large even gzipped, naming it', async () => {
    const random = Array.from({ length: 60_000 }, (_, i) => `${i}-${Math.random().toString(36)}`);

    await expect(store.write([{ pk: 'x', sk: 'huge', doc: { random } }], [])).rejects.toThrow(
      /document x\/huge of docs takes \d+ bytes gzipped; the limit is 399360/,
    );
  });
});
