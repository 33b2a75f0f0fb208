/** Stable codes of `StoreError`. */
export type StoreErrorCode =
  | 'CONCURRENCY'
  | 'ITEM_TOO_LARGE'
  | 'INVALID_APPEND'
  | 'STORE_UNAVAILABLE'
  | 'CORRUPT_ITEM'
  | 'CORRUPT_ARCHIVE'
  /** An export DynamoDB would refuse, or did: its window, point-in-time recovery, the table. */
  | 'EXPORT_REFUSED'
  /** An export DynamoDB began and reported FAILED. */
  | 'EXPORT_FAILED'
  /** An export DynamoDB reported COMPLETED whose manifests are not in the bucket. */
  | 'EXPORT_INCOMPLETE'
  /** An append to a stream of a closed season that was expired from the table. */
  | 'STREAM_EXPIRED'
  /** An expiry refused: the season is not closed, or no verified export holds its commits. */
  | 'EXPIRY_REFUSED';

/** What a `StoreError` is about. */
export interface StoreErrorContext {
  readonly aggregateId?: string;
  readonly sequence?: number;
  readonly table?: string;
}

/** An event store operation that failed, with a stable `code` and the ids needed to act. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly context: StoreErrorContext;

  constructor(
    code: StoreErrorCode,
    message: string,
    context: StoreErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
    this.context = context;
  }
}

/**
 * An append whose expected version is not the stream's version: somebody else appended
 * first (or the caller's view is stale). Read again, decide again, retry.
 */
export class ConcurrencyError extends StoreError {
  readonly aggregateId: string;
  readonly expected: number;
  readonly actual: number;

  constructor(aggregateId: string, expected: number, actual: number) {
    super(
      'CONCURRENCY',
      `stream ${aggregateId} is at version ${actual}, not the expected ${expected}`,
      { aggregateId, sequence: expected + 1 },
    );
    this.name = 'ConcurrencyError';
    this.aggregateId = aggregateId;
    this.expected = expected;
    this.actual = actual;
  }
}
