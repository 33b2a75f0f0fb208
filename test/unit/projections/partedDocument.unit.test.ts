import { describe, expect, it } from 'vitest';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { ProjectionError } from '../../../projections/ProjectionError.js';
import {
  deleteParted,
  partedDocs,
  readParted,
  readPartedMany,
  STRAY_PARTS_GRACE_MS,
  writeParted,
  writtenToken,
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

  it('reads no head when told what it replaces, and removes the parts of that head', async () => {
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

  it('deletes, at its next write, the parts a race or a crash left, once past the grace', async () => {
    // Prepare: at KEY, parts no head names: a write that stopped before its head an hour ago,
    // one still under way (a minute ago), and one of an earlier release (a token without a
    // time); a race an hour ago whose loser's parts stayed behind; and another document.
    const store = new InMemoryDocumentStore();
    const options = { field: 'rankings', perPart: 2 };
    const anHourAgo = Date.now() - 3_600_000;
    const crashed = partedDocs(KEY, doc(5, 'x'), { ...options, token: writtenToken(anHourAgo) });
    const underWay = partedDocs(KEY, doc(3, 'y'), {
      ...options,
      token: writtenToken(Date.now() - 60_000),
    });
    const earlier = partedDocs(KEY, doc(3, 'z'), { ...options, token: '1a2b3c4d' });
    await store.write(
      [...crashed, ...underWay, ...earlier].filter((d) => d.sk !== KEY.sk),
      [],
    );
    const loser = partedDocs(KEY, doc(5, 'l'), { ...options, token: writtenToken(anHourAgo) });
    await store.write(loser.slice(0, -1), []);
    // The head now at KEY, and another document, as an hour-old write left them.
    await store.write(
      partedDocs(KEY, doc(3, 'w'), { ...options, token: writtenToken(anHourAgo) }),
      [],
    );
    const other = { pk: KEY.pk, sk: 'current2' };
    await store.write(
      partedDocs(other, doc(3, 'o'), { ...options, token: writtenToken(anHourAgo) }),
      [],
    );
    const before = store.all().length;

    // Act
    await writeParted(store, KEY, doc(5, 'n'), options);

    // Assess: the crashed write's 3 parts, the loser's 3 and the replaced head's 2 are gone;
    // the write under way, the earlier release's parts and the other document are kept.
    expect(await readParted(store, KEY)).toEqual(doc(5, 'n'));
    expect(await readParted(store, other)).toEqual(doc(3, 'o'));
    expect(store.all().length).toBe(before - 3 - 3 - 2 + 3);
    const tokens = new Set(
      store
        .all()
        .filter((d) => d.sk.startsWith(`${KEY.sk}#part#`))
        .map((d) => d.sk.split('#')[2]),
    );
    expect(tokens.size).toBe(3);
    expect(tokens.has('1a2b3c4d')).toBe(true);
    expect(STRAY_PARTS_GRACE_MS).toBe(15 * 60_000);
  });

  it('looks for no stray parts at a key the caller says is new', async () => {
    const store = new InMemoryDocumentStore();
    let queries = 0;
    const query = store.query.bind(store);
    store.query = (pk, range) => {
      queries++;
      return query(pk, range);
    };

    await writeParted(store, KEY, doc(5), { field: 'rankings', perPart: 2, replacing: null });
    await writeParted(store, KEY, doc(5), { field: 'rankings', perPart: 2 });

    expect(queries).toBe(1);
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
