import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dynaliteKeyPatches,
  dynalitesDb,
  keysOfSeenPartitions,
} from '../../../stream/local/dynaliteKeys.js';
import { freshModule } from '../../support/freshModule.js';

type Item = Record<string, Record<string, unknown>>;
interface Table {
  KeySchema: { AttributeName: string; KeyType: string }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
}
interface Db {
  createKey(item: Item, table: Table, keySchema?: Table['KeySchema']): string;
}

/** A copy of dynalite's `db` module of its own (the cached one stays as it is). */
const freshDb = () => freshModule<Db>(dynalitesDb());

const theirs = freshDb();
const ours = freshDb();
keysOfSeenPartitions(ours as unknown as Parameters<typeof keysOfSeenPartitions>[0]);

const TYPES = ['S', 'N', 'B'] as const;
type KeyType = (typeof TYPES)[number];

function valueArb(type: KeyType): fc.Arbitrary<string> {
  if (type === 'S') return fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' });
  if (type === 'N')
    return fc.oneof(
      fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
      fc
        .double({ noNaN: true, noDefaultInfinity: true, min: -1e20, max: 1e20 })
        .map((d) => String(d)),
    );
  return fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .map((b) => Buffer.from(b).toString('base64'));
}

function table(hash: KeyType, range?: KeyType): Table {
  return {
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      ...(range ? [{ AttributeName: 'sk', KeyType: 'RANGE' }] : []),
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: hash },
      ...(range ? [{ AttributeName: 'sk', AttributeType: range }] : []),
      { AttributeName: 'gk', AttributeType: 'S' },
    ],
  };
}

describe("dynalite's keys, the partition's part kept", () => {
  it('are the keys dynalite builds, for every key type, with and without a sort key', () => {
    const cases = fc
      .tuple(fc.constantFrom(...TYPES), fc.option(fc.constantFrom(...TYPES), { nil: undefined }))
      .chain(([hash, range]) =>
        fc.record({
          table: fc.constant(table(hash, range)),
          hash: fc.constant(hash),
          range: fc.constant(range),
          // A few values, so partitions come back (what the patch keeps).
          pks: fc.array(valueArb(hash), { minLength: 1, maxLength: 4 }),
          sks: fc.array(range ? valueArb(range) : fc.constant(''), { minLength: 1, maxLength: 4 }),
          picks: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 20 }),
        }),
      );
    fc.assert(
      fc.property(cases, (c) => {
        for (const [i, j] of c.picks) {
          const item: Item = {
            pk: { [c.hash]: c.pks[i % c.pks.length] },
            ...(c.range ? { sk: { [c.range]: c.sks[j % c.sks.length] } } : {}),
            other: { S: 'x' },
          };
          expect(ours.createKey(item, c.table)).toBe(theirs.createKey(item, c.table));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('takes the key schema given (an index) as dynalite does', () => {
    const t = table('S', 'N');
    const index = [{ AttributeName: 'gk', KeyType: 'HASH' }];
    const item: Item = { pk: { S: 'a' }, sk: { N: '1' }, gk: { S: 'pending' } };
    for (let i = 0; i < 3; i++)
      expect(ours.createKey(item, t, index)).toBe(theirs.createKey(item, t, index));
    // The same value under another type is another partition.
    const asNumber: Item = { pk: { N: '1' } };
    const asString: Item = { pk: { S: '1' } };
    expect(ours.createKey(asString, table('S'))).toBe(theirs.createKey(asString, table('S')));
    expect(ours.createKey(asNumber, table('N'))).toBe(theirs.createKey(asNumber, table('N')));
    expect(ours.createKey(asNumber, table('N'))).not.toBe(ours.createKey(asString, table('S')));
  });

  it('keeps building right past the partitions it keeps', () => {
    const t = table('S', 'S');
    for (let i = 0; i < 10_010; i += 1_000) {
      const item: Item = { pk: { S: `team#${i}` }, sk: { S: '-' } };
      expect(ours.createKey(item, t)).toBe(theirs.createKey(item, t));
    }
    for (let i = 0; i < 10_010; i++) ours.createKey({ pk: { S: `p${i}` } }, table('S'));
    const item: Item = { pk: { S: 'p3' } };
    expect(ours.createKey(item, table('S'))).toBe(theirs.createKey(item, table('S')));
  });

  it('runs from its source text, as a server thread runs it, once per module', () => {
    const db = freshDb();
    const [patch] = dynaliteKeyPatches();
    expect(patch?.module).toBe(dynalitesDb());
    const apply = new Function(`return (${patch?.source})`)() as (db: Db) => void;
    apply(db);
    const patched = db.createKey;
    apply(db);
    expect(db.createKey).toBe(patched);
    const item: Item = { pk: { S: 'match#1' }, sk: { S: '-' } };
    expect(db.createKey(item, table('S', 'S'))).toBe(theirs.createKey(item, table('S', 'S')));
  });
});
