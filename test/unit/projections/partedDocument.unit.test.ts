import { describe, expect, it } from 'vitest';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { ProjectionError } from '../../../projections/ProjectionError.js';
import {
  deleteParted,
  partedDocs,
  readParted,
  readPartedMany,
  writeParted,
} from '../../../projections/partedDocument.js';

const KEY = { pk: 'season#2026', sk: 'current' };
const doc = (n: number, label = 'a') => ({
  season: '2026',
  label,
  rankings: Array.from({ length: n }, (_, i) => ({ rank: i + 1, team: `${label}-${i}` })),
});

describe('partedDocument', () => {
  it('keeps a document whole while its list fits one part, as earlier releases stored it', async () => {
    // Prepare
    const store = new InMemoryDocumentStore();

    // Act
    await writeParted(store, KEY, doc(3), { field: 'rankings', perPart: 3 });

    // Assess
    expect(store.all()).toEqual([{ ...KEY, doc: doc(3) }]);
    expect(await readParted(store, KEY)).toEqual(doc(3));
  });

  it('splits a long list into parts written before their head, and reads it back whole', async () => {
    const items = partedDocs(KEY, doc(7), { field: 'rankings', perPart: 3, token: 't' });

    expect(items.map((i) => i.sk)).toEqual([
      'current#part#t#00000',
      'current#part#t#00001',
      'current#part#t#00002',
      'current',
    ]);
    expect(items.at(-1)?.doc).not.toHaveProperty('rankings');

    const store = new InMemoryDocumentStore();
    await store.write(items, []);
    expect(await readParted(store, KEY)).toEqual(doc(7));
  });

  it('carries an expiry to the head and every part', () => {
    const items = partedDocs(KEY, doc(5), { field: 'rankings', perPart: 2, expiresAt: 1_900_000 });

    expect(items).toHaveLength(4);
    expect(items.every((i) => i.expires_at === 1_900_000)).toBe(true);
  });

  it('replaces a parted document and removes the parts it replaced, whatever the sizes', async () => {
    const store = new InMemoryDocumentStore();
    const options = { field: 'rankings', perPart: 2 };

    await writeParted(store, KEY, doc(5, 'a'), options);
    expect(store.all()).toHaveLength(4);
    await writeParted(store, KEY, doc(9, 'b'), options);
    expect(store.all()).toHaveLength(6);
    expect(await readParted(store, KEY)).toEqual(doc(9, 'b'));
    await writeParted(store, KEY, doc(1, 'c'), options);
    expect(store.all()).toEqual([{ ...KEY, doc: doc(1, 'c') }]);
  });

  it('reads nothing when told what it replaces, and removes the parts of that head', async () => {
    const store = new InMemoryDocumentStore();
    const options = { field: 'rankings', perPart: 2 };
    await writeParted(store, KEY, doc(5, 'a'), options);
    const head = (await store.getMany([KEY])).get(`${KEY.pk}\u0000${KEY.sk}`) ?? null;
    let reads = 0;
    const getMany = store.getMany.bind(store);
    store.getMany = (keys) => {
      reads++;
      return getMany(keys);
    };

    await writeParted(store, KEY, doc(7, 'b'), { ...options, replacing: head });
    await writeParted(store, { pk: KEY.pk, sk: 'new' }, doc(3, 'n'), {
      ...options,
      replacing: null,
    });

    expect(reads).toBe(0);
    // 'b' in 4 parts and its head, 'n' in 2 and its head: none of 'a' left.
    expect(store.all()).toHaveLength(8);
    expect(await readParted(store, KEY)).toEqual(doc(7, 'b'));
  });

  it('deletes the head and its parts, and leaves other documents alone', async () => {
    const store = new InMemoryDocumentStore();
    const other = { pk: KEY.pk, sk: 'other' };
    await writeParted(store, KEY, doc(5), { field: 'rankings', perPart: 2 });
    await writeParted(store, other, doc(5, 'o'), { field: 'rankings', perPart: 2 });

    await deleteParted(store, KEY);

    expect(await readParted(store, KEY)).toBeUndefined();
    expect(await readParted(store, other)).toEqual(doc(5, 'o'));
    expect(store.all().every((d) => d.sk.startsWith('other'))).toBe(true);
  });

  it('reads many documents at once, parted, whole and absent', async () => {
    const store = new InMemoryDocumentStore();
    const whole = { pk: 'x', sk: 'whole' };
    await writeParted(store, KEY, doc(5), { field: 'rankings', perPart: 2 });
    await writeParted(store, whole, doc(1), { field: 'rankings', perPart: 2 });

    const found = await readPartedMany(store, [KEY, whole, { pk: 'x', sk: 'absent' }]);

    expect([...found.keys()].sort()).toEqual([`${KEY.pk}\u0000${KEY.sk}`, 'x\u0000whole']);
    expect(found.get(`${KEY.pk}\u0000${KEY.sk}`)).toEqual(doc(5));
  });

  it('reads a head again while its parts are on their way', async () => {
    const store = new InMemoryDocumentStore();
    const items = partedDocs(KEY, doc(5), { field: 'rankings', perPart: 2, token: 't' });
    // The head first, as parallel writes may land it.
    await store.write(items.slice(-1), []);
    setTimeout(() => void store.write(items.slice(0, -1), []), 20);

    expect(await readParted(store, KEY)).toEqual(doc(5));
  });

  it('refuses a head whose parts stay missing, naming it', async () => {
    const store = new InMemoryDocumentStore();
    const items = partedDocs(KEY, doc(5), { field: 'rankings', perPart: 2, token: 't' });
    await store.write(items.slice(1), []);

    const read = readParted(store, KEY);

    await expect(read).rejects.toBeInstanceOf(ProjectionError);
    await expect(read).rejects.toThrow(
      /document season#2026\/current names parts that are not there \(1 missing, read 4 times\)/,
    );
  });
});
