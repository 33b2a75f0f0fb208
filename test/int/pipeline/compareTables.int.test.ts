import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTables } from '../../../pipeline/compareTables.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import type { StoredDoc } from '../../../projections/Projection.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';

let server: EmbeddedDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  server = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: server.endpoint });
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

/** 3,000 documents of about 400 B: several 1 MB scan pages over the four segments. */
const documents = (): StoredDoc[] =>
  Array.from({ length: 3_000 }, (_, i) => ({
    pk: `team-${i % 97}`,
    sk: `match-${String(i).padStart(5, '0')}`,
    doc: { home: i % 5, away: i % 3, notes: 'x'.repeat(360), nested: { i, list: [i, i + 1] } },
  }));

let tables = 0;
/** Two tables holding `documents`, the second changed by `change`. */
async function generations(change: (rebuilt: DynamoDocumentStore) => Promise<void>) {
  tables++;
  const live = await DynamoDocumentStore.open(client, `compare-live-${tables}`);
  const rebuilt = await DynamoDocumentStore.open(client, `compare-rebuilt-${tables}`);
  await live.write(documents(), []);
  await rebuilt.write(documents(), []);
  await change(rebuilt);
  return { live, rebuilt };
}

/** Five missing, three changed (one only in its keys' order: the same), seven extra. */
const differing = async (rebuilt: DynamoDocumentStore) => {
  const all = documents();
  await rebuilt.write(
    [
      ...[10, 20, 30].map((i) => ({ ...(all[i] as StoredDoc), doc: { changed: i } })),
      { ...(all[40] as StoredDoc), doc: { nested: { list: [40, 41], i: 40 }, ...otherKeys(40) } },
      ...Array.from({ length: 7 }, (_, i) => ({ pk: 'extra', sk: `e${i}`, doc: { i } })),
    ],
    [100, 200, 300, 400, 2_999].map((i) => ({ pk: all[i]?.pk ?? '', sk: all[i]?.sk ?? '' })),
  );
};
const otherKeys = (i: number) => ({ notes: 'x'.repeat(360), away: i % 3, home: i % 5 });

describe('comparing two generations of a read model', () => {
  it('finds nothing between two tables holding the same documents', async () => {
    const { live, rebuilt } = await generations(async () => {});

    expect(await compareTables(live, rebuilt)).toEqual({ count: 0, differences: [] });
  });

  it('names every document missing from the rebuilt table, extra in it or changed, not the order of keys', async () => {
    // Prepare
    const { live, rebuilt } = await generations(differing);

    // Act
    const { count, differences } = await compareTables(live, rebuilt);

    // Assess
    expect(count).toBe(15);
    const byKind = (kind: string) =>
      differences
        .filter((d) => d.kind === kind)
        .map((d) => d.sk)
        .sort();
    expect(byKind('missing')).toEqual(
      ['match-00100', 'match-00200', 'match-00300', 'match-00400', 'match-02999'].sort(),
    );
    expect(byKind('changed')).toEqual(['match-00010', 'match-00020', 'match-00030']);
    expect(byKind('extra')).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
  });

  it('counts them all and names only the first it is asked to keep', async () => {
    const { live, rebuilt } = await generations(differing);

    const { count, differences } = await compareTables(live, rebuilt, { keep: 4 });

    expect(count).toBe(15);
    expect(differences).toHaveLength(4);
  });

  it('looks up in the live table the rebuilt documents its key filter took for live ones', async () => {
    // Prepare: a filter that holds every key, as false positives would.
    const { live, rebuilt } = await generations(differing);
    const everything = { add: () => {}, mayHold: () => true };

    // Act
    const { count, differences } = await compareTables(live, rebuilt, { keys: everything });

    // Assess: the extras found by lookup, none twice.
    expect(count).toBe(15);
    expect(
      differences
        .filter((d) => d.kind === 'extra')
        .map((d) => d.sk)
        .sort(),
    ).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
  });
});
