import { describe, expect, it } from 'vitest';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { keyString } from '../../projections/Projection.js';

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
  });
}
