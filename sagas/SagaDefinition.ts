/** How often and how patiently an action (or a compensation) is tried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Wait before the second attempt; each further wait doubles. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** What a step's action is given. */
export interface StepContext<D> {
  readonly sagaId: string;
  readonly data: D;
  /** The outputs of the steps completed before, by step name. */
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly attempt: number;
  /** Aborted when the attempt times out. */
  readonly signal: AbortSignal;
}

/** What a compensation is given: the step's output when it completed, undefined when it failed. */
export interface CompensationContext<D> {
  readonly sagaId: string;
  readonly data: D;
  readonly output: unknown;
  readonly attempt: number;
  readonly signal: AbortSignal;
}

/**
 * One step of a saga. The action and the compensation must be idempotent, keyed by the saga
 * id and step (deterministic ids, conditional writes): a redelivered event or a restarted
 * coordinator may run either again, and it must change nothing the second time. A
 * compensation must also cope with a step that failed half-way or did nothing.
 */
export interface SagaStep<D> {
  readonly name: string;
  readonly action: (context: StepContext<D>) => Promise<unknown>;
  readonly compensation: {
    readonly name: string;
    readonly run: (context: CompensationContext<D>) => Promise<void>;
  };
  /** An attempt that takes longer fails as timed out. */
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
}

/** A saga: steps run in order; when one fails for good, what ran is compensated in reverse. */
export interface SagaDefinition<D> {
  readonly type: string;
  readonly steps: readonly SagaStep<D>[];
  /** Retries of compensations (they keep trying longer than steps). */
  readonly compensationRetry: RetryPolicy;
  /** A time before which the first step must not start (debounced requests), if any. */
  readonly notBefore?: (data: D) => string | undefined;
  /**
   * A later time (ms since the epoch) its first step must not start before, looked up when
   * the saga is about to begin: what came in while it waited may push its start on (debounced
   * requests that keep arriving), if any.
   */
  readonly deferredUntil?: (sagaId: string, data: D) => Promise<number | undefined>;
  /**
   * A saga that must have ended before this one's first step starts, if any: calculations of
   * one season run one at a time, the later one counting what changed meanwhile.
   */
  readonly after?: (data: D) => string | undefined;
  /** Reads a saga's data back from the JSON it was started with. */
  readonly parseData: (json: unknown) => D;
}

/** The wait before attempt `attempt + 1` after attempt `attempt` failed. */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}
