import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bigIntSequences,
  kinesaliteSequencePatches,
  kinesalitesDb,
} from '../../../stream/local/kinesaliteSequences.js';
import { freshModule } from '../../support/freshModule.js';

type Fields = Record<string, unknown>;
interface Db {
  parseSequence(seq: unknown): Fields;
  stringifySequence(fields: Fields): string;
  partitionKeyToHashKey(key: string): { comparedTo(other: string | number): number | null };
}

/** A copy of kinesalite's `db` module of its own (the cached one stays as it is). */
const freshDb = () => freshModule<Db>(kinesalitesDb());

const theirs = freshDb();
const ours = freshDb();
bigIntSequences(ours);

/** What a call gives, or the message it throws. */
function outcome<T>(call: () => T): { value: T } | { error: string } {
  try {
    return { value: call() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

// Times from 2000 to the year 2400 in ms (kinesalite refuses creations past about 2477).
const time = fc.integer({ min: 946_684_800_000, max: 13_569_465_600_000 });
const byte = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
const hexOf = (length: number) =>
  fc
    .array(fc.integer({ min: 0, max: 15 }), { minLength: length, maxLength: length })
    .map((ds) => ds.map((d) => d.toString(16)).join(''));

const version2 = fc.record({
  shardCreateTime: time,
  shardIx: fc.integer({ min: 0, max: 2_000 }),
  seqIx: fc.oneof(
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
  ),
  seqTime: fc.option(time, { nil: undefined }),
  byte1: fc.option(byte, { nil: undefined }),
  version: fc.constantFrom(undefined, null, 2),
});
const version1 = fc.record({
  shardCreateTime: time,
  shardIx: fc.integer({ min: 0, max: 2_000 }),
  seqIx: fc.integer({ min: 0, max: 255 }),
  seqTime: time,
  byte1: byte,
  seqRand: hexOf(14),
  version: fc.constant(1),
});
const version0 = fc.record({
  shardCreateTime: time,
  shardIx: fc.integer({ min: 0, max: 0xffff }),
  byte1: byte,
  seqRand: hexOf(16),
  version: fc.constant(0),
});

describe("kinesalite's sequence numbers in BigInt", () => {
  it('builds the numbers kinesalite builds, and parses them back to the same fields', () => {
    fc.assert(
      fc.property(fc.oneof(version2, version1, version0), (fields) => {
        const number = ours.stringifySequence({ ...fields });
        expect(number).toBe(theirs.stringifySequence({ ...fields }));
        expect(number).toMatch(/^\d+$/);
        expect(outcome(() => ours.parseSequence(number))).toEqual(
          outcome(() => theirs.parseSequence(number)),
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('parses any string as kinesalite does, errors included', () => {
    const decimal = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 190n }).map(String),
      fc.bigInt({ min: 2n ** 185n, max: 2n ** 185n + 2n ** 184n }).map(String),
      fc.bigInt({ min: 0n, max: 2n ** 130n }).map(String),
    );
    const other = fc.constantFrom('', 'abc', '12.5', '-7', ' 42', '1e30', '0x1f', 42 as unknown);
    fc.assert(
      fc.property(fc.oneof(decimal, other), (seq) => {
        expect(outcome(() => ours.parseSequence(seq))).toEqual(
          outcome(() => theirs.parseSequence(seq)),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('refuses what kinesalite refuses: a version it does not know, a date too large, an index too high', () => {
    const cases = [
      // version 3 in the last digit
      BigInt(`0x2${'0'.repeat(45)}3`).toString(),
      // a creation past kinesalite's limit
      BigInt(`0x2${'f'.repeat(9)}0${'0'.repeat(16)}00${'0'.repeat(9)}${'0'.repeat(8)}2`).toString(),
      // a sequence index whose first digit is over 7
      BigInt(`0x2${'0'.repeat(9)}0${'8'.repeat(16)}00${'0'.repeat(9)}${'0'.repeat(8)}2`).toString(),
    ];
    for (const seq of cases) {
      const expected = outcome(() => theirs.parseSequence(seq));
      expect(expected).toHaveProperty('error');
      expect(outcome(() => ours.parseSequence(seq))).toEqual(expected);
    }
  });

  it('builds what BigInt cannot as kinesalite does', () => {
    const fields = { shardCreateTime: 1_700_000_000_000, shardIx: 1, seqIx: '1.5' };
    expect(ours.stringifySequence({ ...fields })).toBe(theirs.stringifySequence({ ...fields }));
  });

  it('places a partition key in the shard kinesalite places it in', () => {
    // Four shards' ranges, as CreateStream makes them (2^128 split evenly), and their ends.
    const quarter = 2n ** 126n;
    const bounds = [0n, quarter - 1n, quarter, 2n * quarter, 3n * quarter - 1n, 4n * quarter - 1n]
      .map(String)
      .concat(['0', '340282366920938463463374607431768211455']);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.constantFrom(...bounds), (key, bound) => {
        expect(ours.partitionKeyToHashKey(key).comparedTo(bound)).toBe(
          theirs.partitionKeyToHashKey(key).comparedTo(bound),
        );
      }),
      { numRuns: 2_000 },
    );
    expect(ours.partitionKeyToHashKey('x').comparedTo(0)).toBe(1);
    // The key's own hash, the one value equal to it.
    const own = BigInt(`0x${createHash('md5').update('x', 'utf8').digest('hex')}`);
    for (const bound of [own - 1n, own, own + 1n].map(String))
      expect(ours.partitionKeyToHashKey('x').comparedTo(bound)).toBe(
        theirs.partitionKeyToHashKey('x').comparedTo(bound),
      );
    expect(ours.partitionKeyToHashKey('x').comparedTo(String(own))).toBe(0);
  });

  it('runs from its source text, as a server thread runs it, once per module', () => {
    const db = freshDb();
    const [patch] = kinesaliteSequencePatches();
    expect(patch?.module).toBe(kinesalitesDb());
    const apply = new Function(`return (${patch?.source})`)() as (db: Db) => void;
    apply(db);
    const patched = db.parseSequence;
    apply(db);
    expect(db.parseSequence).toBe(patched);
    const fields = {
      shardCreateTime: 1_700_000_000_000,
      shardIx: 3,
      seqIx: 17,
      seqTime: 1_700_000_005_000,
    };
    const number = db.stringifySequence({ ...fields });
    expect(number).toBe(theirs.stringifySequence({ ...fields }));
    expect(db.parseSequence(number)).toEqual(theirs.parseSequence(number));
  });
});
