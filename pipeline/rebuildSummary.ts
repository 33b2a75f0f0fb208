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
