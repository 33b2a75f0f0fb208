import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareSegment,
  compareTables,
  type SegmentComparison,
  segmentComparison,
} from '../../../pipeline/compareTables.js';
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

/** 3,000 documents of about 400 B: 1.2 MB, so two 1 MB scan pages for a segment of one. */
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
});

describe('comparing two generations segment by segment, over many calls', () => {
  /**
   * Every segment's pass run to its end, a call at a time (`until` already past: one page a
   * call), as the rebuild's map on AWS runs them; the extras pass only when the rebuilt table
   * holds more than the live documents found in it, as its verify step decides.
   */
  const compareInCalls = async (
    stores: { live: DynamoDocumentStore; rebuilt: DynamoDocumentStore },
    segments: number,
    keep = 100,
  ) => {
    const tables = { live: stores.live.table, rebuilt: stores.rebuilt.table };
    const runPass = async (pass: SegmentComparison['pass']) => {
      const out: SegmentComparison[] = [];
      for (let segment = 0; segment < segments; segment++) {
        let work = segmentComparison(pass, tables, segment, segments, keep);
        while (!work.done) {
          const input = structuredClone(work);
          work = await compareSegment(input, stores, 0);
          // A call repeated (a retried iteration) does the same again.
          if (!work.done) expect(await compareSegment(input, stores, 0)).toEqual(work);
        }
        out.push(work);
      }
      return out;
    };
    const live = await runPass('live');
    const counted = await runPass('count');
    const found = live.reduce((n, p) => n + p.found, 0);
    const held = counted.reduce((n, p) => n + p.scanned, 0);
    const extras = held === found ? [] : await runPass('extras');
    const parts = [...live, ...extras];
    return {
      count: parts.reduce((n, p) => n + p.count, 0),
      differences: parts.flatMap((p) => p.differences),
      calls: [...live, ...counted, ...extras].map((p) => p.calls),
      extrasPass: extras.length > 0,
      held,
      found,
    };
  };

  it('finds what comparing whole tables finds, a page a call, going on from where each call stopped', async () => {
    // Prepare
    const stores = await generations(differing);

    // Act: one segment (two pages: two calls each pass), and three.
    const one = await compareInCalls(stores, 1);
    const three = await compareInCalls(stores, 3);

    // Assess
    const whole = await compareTables(stores.live, stores.rebuilt);
    const kinds = (differences: readonly { kind: string; sk: string }[]) =>
      differences.map((d) => `${d.kind} ${d.sk}`).sort();
    for (const result of [one, three]) {
      expect(result.count).toBe(15);
      expect(kinds(result.differences)).toEqual(kinds(whole.differences));
      expect(result.extrasPass).toBe(true);
      expect(result.held - result.found).toBe(7);
    }
    expect(one.calls).toEqual([2, 2, 2]);
  });

  it('needs no extras pass when the rebuilt table holds nothing the live one does not', async () => {
    const stores = await generations(async (rebuilt) => {
      const [doc] = documents();
      await rebuilt.write([{ ...(doc as StoredDoc), doc: { changed: true } }], []);
    });

    const result = await compareInCalls(stores, 2);

    expect(result).toMatchObject({ count: 1, extrasPass: false, held: 3_000, found: 3_000 });
    expect(result.differences).toEqual([{ pk: 'team-0', sk: 'match-00000', kind: 'changed' }]);
  });

  it('names at most what each segment keeps, and counts the rest', async () => {
    const stores = await generations(differing);

    const result = await compareInCalls(stores, 1, 2);

    expect(result.count).toBe(15);
    expect(result.differences).toHaveLength(4);
  });

  it('goes on past a page while its time lasts', async () => {
    const stores = await generations(async () => {});
    const tables = { live: stores.live.table, rebuilt: stores.rebuilt.table };

    const work = await compareSegment(
      segmentComparison('live', tables, 0, 1, 10),
      stores,
      Date.now() + 60_000,
    );

    expect(work).toMatchObject({ done: true, calls: 1, scanned: 3_000, found: 3_000, count: 0 });
  });
});
