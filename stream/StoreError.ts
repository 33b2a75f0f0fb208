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

/**
 * The local server a store runs on has ended in this process: its thread stopped, because its
 * disk is full or a file of its folder could not be written or read. No request to it can
 * succeed again before the command runs again, so what meets one stops instead of trying the
 * next item. On AWS no store stops this way.
 */
export class StoreStoppedError extends Error {
  /** What stopped, as messages name it ("the tables' store"). */
  readonly store: string;
  /** Why, in the server's words, when it said. */
  readonly reason: string | undefined;

  constructor(store: string, reason: string | undefined) {
    super(reason === undefined ? `${store} has stopped` : `${store} stopped: ${reason}`);
    this.name = 'StoreStoppedError';
    this.store = store;
    this.reason = reason;
  }
}

/** The `StoreStoppedError` behind an error (itself or a cause of it), if one is. */
export function storeStopped(error: unknown): StoreStoppedError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++)
    if (e instanceof StoreStoppedError) return e;
  return undefined;
}
