import { isDeepStrictEqual } from 'node:util';
import type { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import { KeyFilter } from '../projections/KeyFilter.js';
import { keyString, type StoredDoc } from '../projections/Projection.js';
import type { DocumentDifference } from './rebuildSummary.js';

/** Two generations compared: how many documents differ, and the first of them by name. */
export interface TableComparison {
  /** Documents not the same in both: `missing` from the rebuilt one, `extra` in it, `changed`. */
  readonly count: number;
  /** The first `keep` of them, in the order found; the rest are counted, not named. */
  readonly differences: readonly DocumentDifference[];
}

/** Differences a comparison names (and a rebuild on AWS reads again for lag); more are counted. */
export const KEPT_DIFFERENCES = 1_000;

/** Segments of each table scanned at once, each page looked up in the other table. */
const COMPARE_SEGMENTS = 4;

/**
 * Every document that is not the same in both tables (compared as JSON values: the order of
 * keys does not matter), in memory that does not grow with the tables: each page of the live
 * generation is looked up in the rebuilt one (`missing`, `changed`), its keys kept in a Bloom
 * filter (`KeyFilter`, 8 MB); then the rebuilt generation is scanned, and a key the filter
 * never held is `extra`. The rebuilt table's count less the live documents found in it says
 * how many are extra; when the filter's false positives (or documents deleted meanwhile) leave
 * that differing from the extras named, the rebuilt documents the filter may hold are looked
 * up in the live one as well. The live table is only scanned, as before.
 */
export async function compareTables(
  live: DynamoDocumentStore,
  rebuilt: DynamoDocumentStore,
  options: {
    readonly keep?: number;
    /** The set of live keys (default: a `KeyFilter`); a test's can make false positives. */
    readonly keys?: Pick<KeyFilter, 'add' | 'mayHold'>;
  } = {},
): Promise<TableComparison> {
  const keep = options.keep ?? KEPT_DIFFERENCES;
  const differences: DocumentDifference[] = [];
  let count = 0;
  const differ = (pk: string, sk: string, kind: DocumentDifference['kind']) => {
    count++;
    if (differences.length < keep) differences.push({ pk, sk, kind });
  };
  const liveKeys = options.keys ?? new KeyFilter();
  let found = 0;
  await eachSegment(live, async (page) => {
    for (const d of page) liveKeys.add(keyString(d));
    const other = await rebuilt.getMany(page);
    for (const d of page) {
      const doc = other.get(keyString(d));
      if (doc === undefined) differ(d.pk, d.sk, 'missing');
      else {
        found++;
        if (!sameDocument(d.doc, doc)) differ(d.pk, d.sk, 'changed');
      }
    }
  });
  let held = 0;
  let extrasNamed = 0;
  await eachSegment(rebuilt, async (page) => {
    held += page.length;
    for (const d of page)
      if (!liveKeys.mayHold(keyString(d))) {
        extrasNamed++;
        differ(d.pk, d.sk, 'extra');
      }
  });
  if (held - found !== extrasNamed) {
    // Extras the filter took for live keys: look the rebuilt documents it may hold up.
    await eachSegment(rebuilt, async (page) => {
      const maybe = page.filter((d) => liveKeys.mayHold(keyString(d)));
      if (maybe.length === 0) return;
      const other = await live.getMany(maybe);
      for (const d of maybe) if (!other.has(keyString(d))) differ(d.pk, d.sk, 'extra');
    });
  }
  return { count, differences };
}

/** Runs `each` on every page of a table, its segments scanned at once, one page each at a time. */
async function eachSegment(
  store: DynamoDocumentStore,
  each: (page: StoredDoc[]) => Promise<void>,
): Promise<void> {
  let failed = false;
  await Promise.all(
    Array.from({ length: COMPARE_SEGMENTS }, async (_, segment) => {
      try {
        for await (const page of store.scanSegment(segment, COMPARE_SEGMENTS)) {
          if (failed) return;
          await each(page);
        }
      } catch (error) {
        failed = true;
        throw error;
      }
    }),
  );
}

/**
 * Whether two documents are the same value, whatever the order of their keys (Node's deep
 * strict equality: no string is built per document, unlike comparing canonical JSON, which
 * took 12 % longer over 412,000 documents).
 */
export function sameDocument(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}
