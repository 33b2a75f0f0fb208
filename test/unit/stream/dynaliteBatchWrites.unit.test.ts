import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchWritesTogether,
  dynaliteBatchWritePatches,
  dynalitesBatchWriteItem,
} from '../../../stream/local/dynaliteBatchWrites.js';
import { dynalitesDb } from '../../../stream/local/dynaliteKeys.js';
import { dependencyModule } from '../../../stream/local/modulePatches.js';
import { freshModule } from '../../support/freshModule.js';

const require = createRequire(import.meta.url);

type Item = Record<string, Record<string, unknown>>;
type Callback = (error: unknown, result?: unknown) => void;
interface Store {
  tableDb: { put(key: string, value: unknown, cb: (error?: unknown) => void): void };
  db: { iterator(): AsyncIterable<[string, unknown]> };
  getTable(name: string, cb: Callback): void;
}
type Action = (store: Store, data: object, cb: Callback) => void;
type Db = Parameters<typeof batchWritesTogether>[0] & { create(options: object): Store };

// dynalite's own modules: the oracle. Its action loaded anew, as it comes: this process may
// have replaced the one it keeps (an embedded dynalite started in it, `replacedInProcess`).
const db = require(dynalitesDb()) as Db;
const original = freshModule<Action>(dynalitesBatchWriteItem());
const putItem = require(dependencyModule('dynalite', './actions/putItem')) as Action;
const deleteItem = require(dependencyModule('dynalite', './actions/deleteItem')) as Action;
const together = batchWritesTogether(db) as unknown as Action;

/** A table of hash and range key only, and one with a global and a local index. */
const TABLES = [
  {
    TableName: 'plain',
    TableStatus: 'ACTIVE',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  },
  {
    TableName: 'indexed',
    TableStatus: 'ACTIVE',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'N' },
      { AttributeName: 'g', AttributeType: 'S' },
      { AttributeName: 'at', AttributeType: 'S' },
      { AttributeName: 'l', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'by-g',
        KeySchema: [
          { AttributeName: 'g', KeyType: 'HASH' },
          { AttributeName: 'at', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: 'by-l',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'l', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['doc'] },
      },
    ],
  },
];

async function newStore(): Promise<Store> {
  const store = db.create({});
  for (const table of TABLES)
    await new Promise<void>((resolve, reject) =>
      store.tableDb.put(table.TableName, structuredClone(table), (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  return store;
}

const run = (action: Action, store: Store, data: object) =>
  new Promise<{ error?: unknown; result?: unknown }>((resolve) =>
    action(store, structuredClone(data), (error, result) =>
      resolve(error ? { error: (error as { body?: unknown }).body ?? String(error) } : { result }),
    ),
  );

/** Every key and value the store holds: items, index entries, table descriptions. */
async function contents(store: Store): Promise<[string, unknown][]> {
  const all: [string, unknown][] = [];
  for await (const entry of store.db.iterator()) all.push(entry);
  return all;
}

// Small domains, so that items are written over, deleted, and moved between index keys.
const keyOf = fc.record({
  pk: fc.constantFrom('a', 'b', 'c').map((S) => ({ S })),
  sk: fc.integer({ min: 0, max: 3 }).map((n) => ({ N: String(n) })),
});
const itemOf = fc
  .tuple(
    keyOf,
    fc.record(
      {
        g: fc.constantFrom('x', 'y').map((S) => ({ S })),
        at: fc.constantFrom('1', '2').map((S) => ({ S })),
        l: fc.integer({ min: 0, max: 2 }).map((n) => ({ N: String(n) })),
        doc: fc.string({ maxLength: 3000 }).map((S) => ({ S })),
        other: fc.oneof(
          fc.boolean().map((BOOL) => ({ BOOL })),
          fc.integer().map((n) => ({ N: String(n) })),
          fc.constant({ NULL: true }),
        ),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([key, rest]) => ({ ...key, ...rest }) as Item);
const requestOf = fc.oneof(
  { weight: 40, arbitrary: itemOf.map((Item) => ({ PutRequest: { Item } })) },
  { weight: 12, arbitrary: keyOf.map((Key) => ({ DeleteRequest: { Key } })) },
  // What the checks refuse: a key of the wrong type, a key missing.
  {
    weight: 1,
    arbitrary: fc.constant({ PutRequest: { Item: { pk: { N: '1' }, sk: { N: '1' } } } }),
  },
  { weight: 1, arbitrary: fc.constant({ DeleteRequest: { Key: { pk: { S: 'a' } } } }) },
);
type WriteRequest = { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } };
const keyText = (r: WriteRequest) => {
  const k = r.PutRequest?.Item ?? r.DeleteRequest?.Key ?? {};
  return JSON.stringify([k.pk, k.sk]);
};
// A table's requests: mostly of distinct keys (dynalite refuses a batch naming a key twice).
const requestsOf = (maxLength: number) =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.uniqueArray(requestOf, { selector: keyText, minLength: 1, maxLength }),
    },
    { weight: 1, arbitrary: fc.array(requestOf, { minLength: 1, maxLength }) },
  );
const batchOf = fc.record(
  {
    RequestItems: fc
      .record({
        plain: fc.option(requestsOf(12), { freq: 4 }),
        indexed: fc.option(requestsOf(12), { freq: 4 }),
        // A table that does not exist, now and then.
        missing: fc
          .option(requestsOf(2), { freq: 1, nil: undefined })
          .chain((m) => fc.boolean().map((now) => (now ? undefined : m))),
      })
      .map((r) =>
        Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null && v !== undefined)),
      )
      .filter((r) => Object.keys(r).length > 0),
    ReturnConsumedCapacity: fc.constantFrom('TOTAL', 'INDEXES', 'NONE'),
  },
  { requiredKeys: ['RequestItems'] },
);

describe("dynalite's batches written together", () => {
  it("compares with dynalite's own action, one item at a time", () => {
    expect(original.toString()).toContain('putItem.bind');
  });

  it('answers every batch as dynalite does and leaves the same keys and values', async () => {
    const outcomes = { written: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(batchOf, { minLength: 1, maxLength: 8 }), async (batches) => {
        const [theirs, ours] = [await newStore(), await newStore()];
        for (const batch of batches) {
          const expected = await run(original, theirs, batch);
          const got = await run(together, ours, batch);
          expect(got).toEqual(expected);
          outcomes[expected.error ? 'refused' : 'written']++;
          expect(await contents(ours)).toEqual(await contents(theirs));
        }
      }),
      { numRuns: 300 },
    );
    // Both kinds, each often.
    expect(outcomes.written).toBeGreaterThan(400);
    expect(outcomes.refused).toBeGreaterThan(200);
  });

  it('writes valid batches of every size over the same items as dynalite', async () => {
    const valid = fc
      .record({
        plain: fc.uniqueArray(itemOf, { selector: (i) => `${i.pk?.S}/${i.sk?.N}`, maxLength: 25 }),
        indexed: fc.uniqueArray(
          fc.oneof(
            itemOf.map((Item) => ({ put: Item })),
            keyOf.map((Key) => ({ del: Key as Item })),
          ),
          {
            selector: (r) => {
              const k = 'put' in r ? r.put : r.del;
              return `${k.pk?.S}/${k.sk?.N}`;
            },
            minLength: 1,
            maxLength: 25,
          },
        ),
      })
      .map(({ plain, indexed }) => ({
        RequestItems: {
          ...(plain.length > 0 ? { plain: plain.map((Item) => ({ PutRequest: { Item } })) } : {}),
          indexed: indexed.map((r) =>
            'put' in r ? { PutRequest: { Item: r.put } } : { DeleteRequest: { Key: r.del } },
          ),
        },
      }));
    await fc.assert(
      fc.asyncProperty(fc.array(valid, { minLength: 1, maxLength: 6 }), async (batches) => {
        const [theirs, ours] = [await newStore(), await newStore()];
        for (const batch of batches) {
          expect(await run(together, ours, batch)).toEqual(await run(original, theirs, batch));
        }
        expect(await contents(ours)).toEqual(await contents(theirs));
      }),
      { numRuns: 200 },
    );
  });

  // Batches that waited on each other would never end: the time limit is the failure.
  it('ends every batch and single write that overlap, in any order of tables, with indexes that match the items', {
    timeout: 15_000,
  }, async () => {
    const store = await newStore();
    const key = (pk: string, sk: number) => ({ pk: { S: pk }, sk: { N: String(sk) } });
    const item = (pk: string, sk: number, n: number) => ({
      ...key(pk, sk),
      g: { S: n % 2 ? 'x' : 'y' },
      at: { S: String(n) },
      l: { N: String(n % 3) },
    });
    const work: Promise<{ error?: unknown }>[] = [];
    for (let n = 0; n < 60; n++) {
      const keys = [0, 1, 2, 3].map((k) => (k + n) % 4);
      // Tables named in both orders, keys overlapping between the batches.
      const requestItems =
        n % 2
          ? {
              plain: keys.map((k) => ({ PutRequest: { Item: item('a', k, n) } })),
              indexed: keys.map((k) => ({ PutRequest: { Item: item('a', k, n) } })),
            }
          : {
              indexed: keys.map((k) =>
                k === 0
                  ? { DeleteRequest: { Key: key('a', k) } }
                  : { PutRequest: { Item: item('a', k, n) } },
              ),
              plain: keys.map((k) => ({ PutRequest: { Item: item('a', k, n) } })),
            };
      work.push(run(together, store, { RequestItems: requestItems }));
      work.push(run(putItem, store, { TableName: 'indexed', Item: item('a', n % 4, 1000 + n) }));
      if (n % 5 === 0)
        work.push(run(deleteItem, store, { TableName: 'indexed', Key: key('a', (n + 1) % 4) }));
    }
    const results = await Promise.all(work);
    expect(results.filter((r) => r.error)).toEqual([]);
    // Each item's index entries, and no others.
    const all = await contents(store);
    const items = all.filter(([k]) => k.startsWith('item-indexed~')).map(([, v]) => v as Item);
    const [table] = TABLES.filter((t) => t.TableName === 'indexed');
    const expected: [string, unknown][] = [];
    for (const i of items)
      for (const [type, indexes] of [
        ['global', table?.GlobalSecondaryIndexes ?? []],
        ['local', table?.LocalSecondaryIndexes ?? []],
      ] as const)
        for (const put of db.getIndexActions(indexes, undefined, i, table as never).puts)
          expected.push([`index-${type}~indexed~${put.index}~${put.key}`, put.item]);
    const entries = all.filter(([k]) => k.startsWith('index-'));
    const sorted = (list: [string, unknown][]) =>
      [...list].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    expect(sorted(entries)).toEqual(sorted(expected));
  });

  it('answers a write that failed once every batch of the request has settled, and lets go of its keys', async () => {
    const store = await newStore();
    const events: string[] = [];
    type Batch = (operations: unknown[], cb: (error?: unknown) => void) => void;
    const plain = (store as unknown as { getItemDb(name: string): { batch: Batch } }).getItemDb(
      'plain',
    );
    const indexed = (store as unknown as { getItemDb(name: string): { batch: Batch } }).getItemDb(
      'indexed',
    );
    const [batch, plainBatch] = [indexed.batch, plain.batch];
    plain.batch = (_operations, cb) => setImmediate(() => cb(new Error('the disk is full')));
    indexed.batch = (operations, cb) =>
      setTimeout(
        () =>
          batch(operations, (error) => {
            events.push('indexed written');
            cb(error);
          }),
        20,
      );
    const key = { pk: { S: 'a' }, sk: { N: '1' } };

    const answer = await run(together, store, {
      RequestItems: {
        plain: [{ PutRequest: { Item: key } }],
        indexed: [{ PutRequest: { Item: key } }],
      },
    }).then((a) => {
      events.push('answered');
      return a;
    });
    plain.batch = plainBatch;
    const after = await run(putItem, store, { TableName: 'plain', Item: key });

    expect(answer.error).toBe('Error: the disk is full');
    expect(events).toEqual(['indexed written', 'answered']);
    expect(after.error).toBeUndefined();
  });

  it('runs from its source text, as a server thread runs it, and names the module it replaces', async () => {
    const [patch] = dynaliteBatchWritePatches();
    expect(patch?.module).toBe(dynalitesDb());
    expect(patch?.replaces).toBe(dynalitesBatchWriteItem());
    const fromSource = (new Function(`return (${patch?.source})`)() as (d: Db) => Action)(db);
    const batch = {
      RequestItems: {
        indexed: [
          {
            PutRequest: { Item: { pk: { S: 'a' }, sk: { N: '1' }, g: { S: 'x' }, at: { S: '1' } } },
          },
        ],
      },
      ReturnConsumedCapacity: 'INDEXES',
    };
    const [theirs, ours] = [await newStore(), await newStore()];
    expect(await run(fromSource, ours, batch)).toEqual(await run(original, theirs, batch));
    expect(await contents(ours)).toEqual(await contents(theirs));
  });
});
