import type { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import { KeyFilter } from '../projections/KeyFilter.js';
import { type DocKey, keyString, type StoredDoc } from '../projections/Projection.js';

/**
 * The default memory budget of a rebuild's folded documents, in MB. Folding 100,000 events
 * of each main read model without a flush, the heap they held was 0.9 to 1.4 times the
 * estimate (bench/README.md, "Rebuilds folding pages"), so 64 MB keeps what a rebuild folds
 * under about 90 MB of heap (twice that while a flush writes and the next pages fold),
 * whatever the size of the store (a 1,000,000-event `matches` rebuild folded
 * whole would hold about 3 GB), while a flush still gathers 20,000 (`matches`) to 120,000
 * (`pipeline-stats`) events.
 */
export const DEFAULT_FLUSH_MB = 64;

/**
 * The most warm throughput (units a second) a rebuild on AWS may ask for its new table: a
 * bound against typing mistakes, far above DynamoDB's default table quota of 40,000.
 */
export const MOST_WARM_UNITS = 10_000_000;

/**
 * A rebuild through the archive reuses an export chain whose end is at most this old, and
 * adds an incremental export to one that is older: the stream holds what came after (the
 * catch-up reads it), so this only bounds how much of the stream the catch-up reads. DynamoDB's
 * incremental exports cover at least 15 minutes, so the local archive keeps to the same.
 */
export const FRESH_EXPORT_MS = 15 * 60_000;

/** A document that differs between two generations. */
export interface DocumentDifference {
  readonly pk: string;
  readonly sk: string;
  readonly kind: 'missing' | 'extra' | 'changed';
}

export interface RebuildSummary {
  readonly projection: string;
  /** Where the replay read the store: the table (`scan`) or the archive's export chain. */
  readonly source: 'scan' | 'archive';
  /** The exports read, oldest first (`archive` only). */
  readonly exports?: readonly string[];
  /** Streams a data file left for after its export's files, read from the store (`archive` only). */
  readonly deferred_streams?: number;
  /**
   * Streams of expired seasons read through the store after the chain's files (`archive`
   * only): those the files held are skipped by the positions.
   */
  readonly expired_streams?: number;
  readonly generation: number;
  readonly table: string;
  readonly previous_generation: number;
  /** The read model's version in the code, which built the new generation. */
  readonly projection_version: number;
  /** The version that built the active generation when the rebuild began. */
  readonly previous_version: number;
  /** True when an interrupted rebuild of this generation was continued. */
  readonly resumed: boolean;
  /** False when interrupted: run it again to continue. */
  readonly completed: boolean;
  readonly switched: boolean;
  /** Events of the types the read model reads, applied by the replay. */
  readonly events: number;
  /** Commits (stored items) the replay read. */
  readonly scanned: number;
  /** How long the replay took (the rest is the catch-up, the comparison and the switch). */
  readonly replay_seconds: number;
  /** Commits read per second by the replay. */
  readonly scanned_per_second: number;
  readonly seconds: number;
  readonly events_per_second: number;
  /**
   * Stored events the replay could not read (corrupt bytes, an unknown schema) and the later
   * events of their streams, held back as the live consumer holds them: each dead-lettered
   * under the consumer `rebuild:<read model>`, with why.
   */
  readonly unreadable: number;
  /** Times the replay wrote what it had folded (the documents, then the positions). */
  readonly flushes: number;
  /** The most the folded documents held between two flushes, in MB (estimated heap). */
  readonly peak_folded_mb: number;
  /** Events the new generation's consumer applied while catching up from the stream. */
  readonly caught_up: number;
  /** Documents that differ from the active generation (0 when identical; null: not compared). */
  readonly differences: number | null;
  readonly difference_samples: readonly DocumentDifference[];
  /**
   * True when the new generation differs from the active one although the same version of
   * the read model built both: a fault (a lost or corrupt document, in one generation or the
   * other), not a change of logic. The rebuild then does not switch; the new generation is
   * kept, fed and inactive, for a look and an explicit `projections activate` or `drop`.
   */
  readonly fault: boolean;
  /**
   * On AWS: the new generation's table's warm throughput, in read and write units a second
   * (at least the active generation's, and what the run asked for).
   */
  readonly warm_throughput?: { readonly reads: number; readonly writes: number };
}

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
  const named: DocKey[] = [];
  await eachSegment(rebuilt, async (page) => {
    held += page.length;
    for (const d of page) if (!liveKeys.mayHold(keyString(d))) named.push({ pk: d.pk, sk: d.sk });
  });
  for (const d of named) differ(d.pk, d.sk, 'extra');
  if (held - found !== named.length) {
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

/** Whether two documents are the same JSON value, whatever the order of their keys. */
export function sameDocument(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}
