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
  it('reads a partition over 1 MB in more than one page', async () => {
    const text = 'y'.repeat(40_000);
    await store.write(
      Array.from({ length: 40 }, (_, i) => ({ pk: 'paged', sk: String(i), doc: { text } })),
      [],
    );
    const sizes: number[] = [];
    for await (const page of store.queryPages('paged')) sizes.push(page.length);

    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('refuses a document too large even gzipped, naming it', async () => {
    const random = Array.from({ length: 60_000 }, (_, i) => `${i}-${Math.random().toString(36)}`);

    await expect(store.write([{ pk: 'x', sk: 'huge', doc: { random } }], [])).rejects.toThrow(
      /document x\/huge of docs takes \d+ bytes gzipped; the limit is 399360/,
    );
  });

  it('refuses entries that would take a shared item past 400 KB, naming the item', async () => {
    const entry = (i: number) => ({ [`stream:${i}`]: { text: 'x'.repeat(60_000) } });

    await store.update([{ pk: 'x', sk: 'shared', set: { ...entry(1), ...entry(2) } }]);
    await expect(
      store.update([
        { pk: 'x', sk: 'shared', set: Object.assign({}, ...[3, 4, 5, 6, 7, 8].map(entry)) },
      ]),
    ).rejects.toThrow(/item x\/shared of docs would pass DynamoDB's 400 KB item limit/);
  });
});
