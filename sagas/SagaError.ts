/** Stable codes of `SagaError`. */
export type SagaErrorCode =
  /** The calculation would count no game: there is nothing to rate. */
  | 'NOTHING_TO_COUNT'
  /** What the saga was asked to compute cannot be (e.g. a variant without the data it needs). */
  | 'INVALID_REQUEST'
  /** A step found what it needs missing (a snapshot, an unpublished calculation). */
  | 'MISSING_INPUT'
  /** Writers kept moving a stream under this one: worth another try later. */
  | 'CONTENDED'
  /** A saga names a type or a step its definition does not have (a release that dropped it). */
  | 'UNKNOWN_DEFINITION'
  /** A saga did not reach its end in the time given. */
  | 'NOT_FINISHED'
  /** A read model has not applied a change the step must see yet: worth another try later. */
  | 'READ_MODEL_BEHIND';

/** What a `SagaError` is about. */
export interface SagaErrorContext {
  readonly sagaId?: string;
  readonly step?: string;
  readonly season?: string;
  /** The stream of a change the step waits for, and the change's sequence in it. */
  readonly aggregateId?: string;
  readonly sequence?: number;
}

/**
 * A step that failed for a reason it can name, with a stable `code`. `retryable: false` says
 * another attempt would fail the same way (the data, not the moment, is the cause): the
 * coordinator then fails the step at once and compensates, instead of retrying it.
 */
export class SagaError extends Error {
  readonly code: SagaErrorCode;
  readonly retryable: boolean;
  readonly context: SagaErrorContext;

  constructor(
    code: SagaErrorCode,
    message: string,
    options: { retryable: boolean; context?: SagaErrorContext; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SagaError';
    this.code = code;
    this.retryable = options.retryable;
    this.context = options.context ?? {};
  }
}

/** Whether another attempt after this error could succeed. */
export function worthRetrying(error: unknown): boolean {
  return !(error instanceof SagaError) || error.retryable;
}
