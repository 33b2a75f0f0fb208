import { describe, expect, it } from 'vitest';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { keyString, type StoredDoc } from '../../projections/Projection.js';

let n = 0;
const partition = () => `p${process.pid}-${++n}`;

/** The document store contract, run against every adapter. */
export function documentStoreContract(name: string, setup: () => DocumentStore): void {
  describe(`DocumentStore contract: ${name}`, () => {
    it('writes, reads back by key, and deletes', async () => {
      const store = setup();
      const pk = partition();
      await store.write(
        [
          { pk, sk: 'a', doc: { v: 1 } },
          { pk, sk: 'b', doc: { v: 2, nested: { list: [1, 'x', null] } } },
        ],
        [],
      );
      await store.write([{ pk, sk: 'a', doc: { v: 3 } }], [{ pk, sk: 'b' }]);

      const found = await store.getMany([
        { pk, sk: 'a' },
        { pk, sk: 'b' },
        { pk, sk: 'c' },
      ]);

      expect([...found.keys()]).toEqual([keyString({ pk, sk: 'a' })]);
      expect(found.get(keyString({ pk, sk: 'a' }))).toEqual({ v: 3 });
    });

    it('writes one object under several keys, and keeps what was written when the object changes after', async () => {
      const store = setup();
      const pk = partition();
      const shared: { v: number; list: (number | string)[] } = { v: 1, list: [1, 'x'] };
      const other = { v: 2 };
      await store.write(
        [
          { pk, sk: 'a', doc: shared },
          { pk, sk: 'b', doc: other },
          { pk, sk: 'c', doc: shared },
        ],
        [],
      );

      shared.v = 9;
      shared.list.push('changed after');

      expect(await store.query(pk)).toEqual([
        { pk, sk: 'a', doc: { v: 1, list: [1, 'x'] } },
        { pk, sk: 'b', doc: { v: 2 } },
        { pk, sk: 'c', doc: { v: 1, list: [1, 'x'] } },
      ]);
    });

    it('keeps a mark beside a document: a query gives it, a write without one drops it', async () => {
      const store = setup();
      const pk = partition();
      await store.write(
        [
          { pk, sk: 'a', doc: { v: 1 }, mark: 'm1' },
          { pk, sk: 'b', doc: { v: 2 } },
        ],
        [],
      );
      const marked = await store.query(pk);
      await store.write([{ pk, sk: 'a', doc: { v: 3 } }], []);

      expect(marked).toEqual([
        { pk, sk: 'a', doc: { v: 1 }, mark: 'm1' },
        { pk, sk: 'b', doc: { v: 2 } },
      ]);
      expect(await store.query(pk)).toEqual([
        { pk, sk: 'a', doc: { v: 3 } },
        { pk, sk: 'b', doc: { v: 2 } },
      ]);
      expect((await store.getMany([{ pk, sk: 'a' }])).get(keyString({ pk, sk: 'a' }))).toEqual({
        v: 3,
      });
    });

    it('queries a partition in sort-key order, by prefix or range', async () => {
      const store = setup();
      const pk = partition();
      await store.write(
        ['2026-09-03#x', '2026-09-01#y', '2026-10-01#z', 'other'].map((sk) => ({
          pk,
          sk,
          doc: { sk },
        })),
        [],
      );

      expect((await store.query(pk)).map((d) => d.sk)).toEqual([
        '2026-09-01#y',
        '2026-09-03#x',
        '2026-10-01#z',
        'other',
      ]);
      expect((await store.query(pk, { prefix: '2026-09' })).map((d) => d.sk)).toEqual([
        '2026-09-01#y',
        '2026-09-03#x',
      ]);
      expect(
        (await store.query(pk, { from: '2026-09-02', to: '2026-10-02' })).map((d) => d.sk),
      ).toEqual(['2026-09-03#x', '2026-10-01#z']);
      expect(await store.query(partition())).toEqual([]);
    });

    it('reads a partition a page at a time, the pages together being the query', async () => {
      const store = setup();
      const pk = partition();
      // 40 documents of 40 KB: more than one 1 MB page of DynamoDB's Query.
      const text = 'x'.repeat(40_000);
      await store.write(
        Array.from({ length: 40 }, (_, i) => ({
          pk,
          sk: `s${String(i).padStart(2, '0')}`,
          doc: { i, text },
        })),
        [],
      );
      const pages: StoredDoc[][] = [];
      for await (const page of store.queryPages(pk, { prefix: 's' })) pages.push(page);

      expect(pages.flat()).toEqual(await store.query(pk, { prefix: 's' }));
      expect(pages.flat().map((d) => (d.doc as { i: number }).i)).toEqual(
        Array.from({ length: 40 }, (_, i) => i),
      );
      const empty: StoredDoc[][] = [];
      for await (const page of store.queryPages(partition())) empty.push(page);
      expect(empty.flat()).toEqual([]);
    });

    it('handles batches larger than one call, and large documents', async () => {
      const store = setup();
      const pk = partition();
      const many = Array.from({ length: 130 }, (_, i) => ({
        pk,
        sk: String(i).padStart(3, '0'),
        doc: { i },
      }));
      const big = {
        pk,
        sk: 'big',
        doc: {
          rows: Array.from({ length: 3000 }, (_, i) => ({
            team: `Team number ${i}`,
            rpi: i / 3000,
          })),
        },
      };

      await store.write([...many, big], []);
      const found = await store.getMany(many.map(({ pk: p, sk }) => ({ pk: p, sk })));

      expect(found.size).toBe(130);
      expect((await store.query(pk)).length).toBe(131);
      expect((await store.getMany([big])).get(keyString(big))).toEqual(big.doc);
    });

    it('sets and removes the entries of shared items, each writer its own', async () => {
      const store = setup();
      const pk = partition();
      const item = { pk, sk: '2026' };
      await store.update([{ ...item, set: { 'match:1': { v: 1 }, 'match:2': { v: 2 } } }]);
      // Another writer's entries of the same item stay: only the names given change.
      await store.update([
        { ...item, set: { 'match:3': { v: 3, list: [1, 'x', null] } }, remove: ['match:1'] },
        { pk, sk: '2027', set: { 'match:9': { v: 9 } } },
      ]);
      await store.update([{ ...item, set: { 'match:2': { v: 20 } }, remove: ['match:gone'] }]);

      const found = await store.getMany([item, { pk, sk: '2027' }, { pk, sk: '2028' }]);
      expect(found.get(keyString(item))).toEqual({
        'match:2': { v: 20 },
        'match:3': { v: 3, list: [1, 'x', null] },
      });
      expect(found.get(keyString({ pk, sk: '2027' }))).toEqual({ 'match:9': { v: 9 } });
      expect(found.has(keyString({ pk, sk: '2028' }))).toBe(false);
      expect((await store.query(pk)).map((d) => [d.sk, Object.keys(d.doc).sort()])).toEqual([
        ['2026', ['match:2', 'match:3']],
        ['2027', ['match:9']],
      ]);
    });

    it('updates an item with more entries than one call takes, and leaves it empty when all go', async () => {
      const store = setup();
      const pk = partition();
      const names = Array.from({ length: 250 }, (_, i) => `stream:${String(i).padStart(3, '0')}`);
      await store.update([
        { pk, sk: 'many', set: Object.fromEntries(names.map((n, i) => [n, { i }])) },
      ]);
      const written = (await store.getMany([{ pk, sk: 'many' }])).get(
        keyString({ pk, sk: 'many' }),
      );
      expect(Object.keys(written ?? {}).sort()).toEqual(names);
      expect((written as Record<string, unknown>)['stream:249']).toEqual({ i: 249 });

      await store.update([{ pk, sk: 'many', remove: names }]);
      expect(
        (await store.getMany([{ pk, sk: 'many' }])).get(keyString({ pk, sk: 'many' })),
      ).toEqual({});
    });
  });
}
