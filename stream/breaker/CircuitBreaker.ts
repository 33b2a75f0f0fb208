import { randomUUID } from 'node:crypto';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IBreaker,
  type IHalfOpenAfterBackoffContext,
  IsolatedCircuitError,
  SamplingBreaker,
} from 'cockatiel';
import { isRetryableError } from '../aws/backoff.js';
import { StoreError } from '../StoreError.js';
import type { BreakerStateStore, SharedBreakerState } from './BreakerStateStore.js';
import { DependencyUnavailable } from './DependencyUnavailable.js';

/** A breaker's state as it is shown: the library's isolated state counts as open. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** When a breaker opens and for how long. */
export interface BreakerSettings {
  /** The share of failed calls in the window that opens it (0 to 1, exclusive). @default 0.5 */
  readonly failureRatio: number;
  /** The window the share is taken over, ms. @default 30000 */
  readonly windowMs: number;
  /** The fewest calls in the window that can open it (a few failures of a quiet caller do not). @default 5 */
  readonly minimumCalls: number;
  /**
   * Failures in a row that open it whatever the window says: a busy caller's successes just
   * before an outage would otherwise keep it closed while its work runs out of attempts. It
   * must open before the work does: a bus event is dead-lettered after 3 attempts (as Lambda's
   * asynchronous invocation gives up after 3), a consumer's record after 4 locally. Each
   * failure counted here is a call that failed after the SDK's own retries. @default 2
   */
  readonly consecutiveFailures: number;
  /** Open this long before the first trial, ms; doubled after each failed trial. @default 5000 */
  readonly halfOpenAfterMs: number;
  /** The longest it stays open before a trial, ms. @default 300000 */
  readonly maxHalfOpenAfterMs: number;
  /** How often it looks at the state the caller's other instances share, ms. @default 1000 */
  readonly syncMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  failureRatio: 0.5,
  windowMs: 30_000,
  minimumCalls: 5,
  consecutiveFailures: 2,
  halfOpenAfterMs: 5_000,
  maxHalfOpenAfterMs: 300_000,
  syncMs: 1_000,
};

/** What a breaker did, since its instance started (metrics, `/health`, `status`). */
export interface BreakerFigures {
  /** Times it opened (its own failures, or a trial that failed). */
  opened: number;
  /** Trials made half-open. */
  half_open_trials: number;
  /** Times a trial closed it. */
  closed: number;
  /** Calls it held back while open (each a unit of work kept for later). */
  held: number;
  /** Time spent open, ms (the current stretch included). */
  open_ms: number;
}

/** A breaker as `/health` and `matchstream status` show it. */
export interface BreakerSnapshot extends BreakerFigures {
  /** `<handler or consumer>/<dependency>`. */
  readonly name: string;
  readonly state: BreakerStateName;
  /** When it opened (ISO 8601), while it is open or half-open. */
  readonly opened_at?: string;
  /** When it lets a trial through (ISO 8601), while it is open. */
  readonly half_open_at?: string;
  /** The failure that opened it. */
  readonly reason?: string;
}

/** What a breaker tells about its transitions (for metrics and logs). */
export type BreakerTransition =
  | {
      readonly kind: 'opened';
      readonly name: string;
      readonly reason: string;
      readonly shared: boolean;
    }
  /** A trial failed: open again, for longer. */
  | { readonly kind: 'reopened'; readonly name: string; readonly reason: string }
  | { readonly kind: 'half-open'; readonly name: string }
  | {
      readonly kind: 'closed';
      readonly name: string;
      readonly openMs: number;
      readonly shared: boolean;
    };

export interface CircuitBreakerOptions {
  readonly settings?: Partial<BreakerSettings>;
  /** The state every instance of the caller shares (a table item); none: this instance alone. */
  readonly shared?: BreakerStateStore;
  /** This instance, in the shared state (who opened or closed it). @default a random id */
  readonly instance?: string;
  readonly onTransition?: (transition: BreakerTransition) => void;
  /** The shared state could not be read or written: the breaker goes on alone meanwhile. */
  readonly onError?: (error: Error) => void;
  /** The clock. @default Date.now */
  readonly now?: () => number;
}

/**
 * Whether a dependency's error says it is unavailable, rather than that the call was wrong:
 * throttling, a 5xx, a dropped connection, or writes still unprocessed after their retries.
 * A refused condition, a validation error or a missing table are the caller's, and leave the
 * breaker as it is.
 */
export function isOutage(error: unknown): boolean {
  if (error instanceof StoreError) return error.code === 'STORE_UNAVAILABLE';
  return isRetryableError(error);
}

/** The wait before trial `attempt` (1 for the first opening): doubled each time, capped. */
export function halfOpenDelay(settings: BreakerSettings, attempt: number): number {
  return Math.min(
    settings.maxHalfOpenAfterMs,
    settings.halfOpenAfterMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)),
  );
}

/**
 * Opens when either of two of the library's breakers would: the failure share over a window,
 * or failures in a row. Both see every call, and both states travel in `toJSON`.
 */
class EitherBreaker implements IBreaker {
  constructor(
    private readonly sampling: IBreaker,
    private readonly consecutive: IBreaker,
  ) {}

  get state(): unknown {
    return { sampling: this.sampling.state, consecutive: this.consecutive.state };
  }

  set state(value: unknown) {
    const both = value as { sampling?: unknown; consecutive?: unknown } | undefined;
    if (both?.sampling !== undefined) this.sampling.state = both.sampling;
    if (both?.consecutive !== undefined) this.consecutive.state = both.consecutive;
  }

  success(state: CircuitState): void {
    this.sampling.success(state);
    this.consecutive.success(state);
  }

  failure(state: CircuitState): boolean {
    const byShare = this.sampling.failure(state);
    const inARow = this.consecutive.failure(state);
    return byShare || inARow;
  }
}

/** The library's view of the state it serialises (`toJSON`): enough to find when it opened. */
interface PolicyJson {
  readonly ownState: {
    readonly value: CircuitState;
    readonly openedAt?: number;
    readonly attemptNo?: number;
  };
}

/**
 * A circuit breaker around one dependency of one handler or consumer, on cockatiel's
 * `circuitBreaker` with a sampling breaker: when more than `failureRatio` of the calls in the
 * last `windowMs` failed with an outage (see `isOutage`; at least `minimumCalls` of them), it
 * opens; the call that opened it and every call after fail with `DependencyUnavailable`
 * (those after at once, without being made), which tells the caller to hold
 * the work (never to drop it or dead-letter it). After `halfOpenDelay` one call is let through
 * as a trial: its success closes the breaker, its failure opens it again for twice as long.
 *
 * With `shared`, the instances of one caller share the state: an instance that opens or closes
 * it writes the state down, and the others read it at most every `syncMs`, so one instance's
 * discovery protects the rest (each adopts the opening, with its trial time, and each then makes
 * its own trial). The library's `toJSON`/`initialState` carry the state across.
 */
export class CircuitBreaker {
  private policy: CircuitBreakerPolicy;
  private readonly settings: BreakerSettings;
  private readonly instance: string;
  private readonly now: () => number;
  private readonly figures: BreakerFigures = {
    opened: 0,
    half_open_trials: 0,
    closed: 0,
    held: 0,
    open_ms: 0,
  };
  /** When the current open stretch began (local clock), if it is open. */
  private openSince: number | undefined;
  private reason: string | undefined;
  private syncedAt = Number.NEGATIVE_INFINITY;
  /** The shared state this instance last wrote or adopted (its `updated_at`). */
  private sharedSeen = 0;
  private writing: Promise<void> = Promise.resolve();
  /** Set while a state taken from the shared item is installed: no echo back to it. */
  private adopting = false;

  constructor(
    readonly name: string,
    private readonly options: CircuitBreakerOptions = {},
  ) {
    this.settings = { ...DEFAULT_BREAKER_SETTINGS, ...options.settings };
    const { failureRatio, windowMs, minimumCalls, consecutiveFailures } = this.settings;
    if (!(consecutiveFailures >= 1))
      throw new RangeError(`breaker ${name}: consecutiveFailures must be at least 1`);
    if (!(failureRatio > 0 && failureRatio < 1))
      throw new RangeError(
        `breaker ${name}: failureRatio must be between 0 and 1, got ${failureRatio}`,
      );
    if (!(windowMs >= 1000))
      throw new RangeError(`breaker ${name}: windowMs must be at least 1000`);
    if (!(minimumCalls >= 1))
      throw new RangeError(`breaker ${name}: minimumCalls must be at least 1`);
    this.instance = options.instance ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.policy = this.makePolicy();
  }

  /**
   * Runs `call` through the breaker. Throws `DependencyUnavailable` without calling while the
   * breaker is open (or while another call is its trial); otherwise what `call` throws.
   */
  async execute<T>(call: () => Promise<T>): Promise<T> {
    await this.sync();
    try {
      return await this.policy.execute(() => call());
    } catch (error) {
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
        this.figures.held++;
        throw new DependencyUnavailable(this.name, this.retryAt() ?? this.now(), this.reason);
      }
      // The failure that opened it, or a trial's that opened it again: held like the calls
      // refused after it, else a trial made during a long outage would spend an attempt of
      // the work it carried each time.
      if (isOutage(error) && this.state === 'open') {
        this.figures.held++;
        throw new DependencyUnavailable(this.name, this.retryAt() ?? this.now(), this.reason, {
          cause: error,
        });
      }
      throw error;
    }
  }

  get state(): BreakerStateName {
    switch (this.policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** When a trial may be made (ms since the epoch), while it is open; else undefined. */
  retryAt(): number | undefined {
    const own = (this.policy.toJSON() as PolicyJson).ownState;
    if (own.value !== CircuitState.Open) return undefined;
    // A half-open breaker serialises as open since 0: its trial is under way now.
    if (!own.openedAt) return this.now();
    return own.openedAt + halfOpenDelay(this.settings, own.attemptNo ?? 1);
  }

  snapshot(): BreakerSnapshot {
    const json = (this.policy.toJSON() as PolicyJson).ownState;
    const retryAt = this.retryAt();
    return {
      name: this.name,
      state: this.state,
      ...this.figures,
      open_ms:
        this.figures.open_ms + (this.openSince === undefined ? 0 : this.now() - this.openSince),
      ...(this.state !== 'closed' && json.openedAt
        ? { opened_at: new Date(json.openedAt).toISOString() }
        : {}),
      ...(this.state === 'open' && retryAt !== undefined
        ? { half_open_at: new Date(retryAt).toISOString() }
        : {}),
      ...(this.state !== 'closed' && this.reason ? { reason: this.reason } : {}),
    };
  }

  /** Resolves once the shared state written so far is stored (for tests and shutdown). */
  flushed(): Promise<void> {
    return this.writing;
  }

  private makePolicy(initialState?: unknown): CircuitBreakerPolicy {
    const { windowMs, minimumCalls, failureRatio, consecutiveFailures } = this.settings;
    const delays: IBackoffFactory<IHalfOpenAfterBackoffContext> = {
      next: (context) => this.backoff(context.attempt),
    };
    const policy = circuitBreaker(handleWhen(isOutage), {
      breaker: new EitherBreaker(
        new SamplingBreaker({
          threshold: failureRatio,
          duration: windowMs,
          minimumRps: minimumCalls / (windowMs / 1000),
        }),
        new ConsecutiveBreaker(consecutiveFailures),
      ),
      halfOpenAfter: delays,
      ...(initialState === undefined ? {} : { initialState }),
    });
    policy.onBreak((reason) => {
      const why =
        'error' in reason
          ? reason.error.message
          : 'isolated' in reason
            ? 'held open'
            : 'a call failed';
      this.opened(why);
    });
    policy.onHalfOpen(() => {
      this.figures.half_open_trials++;
      this.options.onTransition?.({ kind: 'half-open', name: this.name });
    });
    policy.onReset(() => this.closedAgain(false));
    return policy;
  }

  private backoff(attempt: number): IBackoff<IHalfOpenAfterBackoffContext> {
    return {
      duration: halfOpenDelay(this.settings, attempt),
      next: (context) => this.backoff(context.attempt),
    };
  }

  private opened(reason: string): void {
    const shared = this.adopting;
    this.reason = reason;
    if (this.openSince === undefined) {
      this.openSince = this.now();
      this.figures.opened++;
      this.options.onTransition?.({ kind: 'opened', name: this.name, reason, shared });
    } else this.options.onTransition?.({ kind: 'reopened', name: this.name, reason });
    if (!shared) this.publish();
  }

  private closedAgain(shared: boolean): void {
    const openMs = this.openSince === undefined ? 0 : this.now() - this.openSince;
    this.figures.open_ms += openMs;
    this.openSince = undefined;
    this.reason = undefined;
    this.figures.closed++;
    this.options.onTransition?.({ kind: 'closed', name: this.name, openMs, shared });
    if (!shared) this.publish();
  }

  /** Writes this instance's state for the others (in order; a failure is reported, not thrown). */
  private publish(): void {
    const store = this.options.shared;
    if (!store) return;
    const json = this.policy.toJSON() as PolicyJson;
    const now = this.now();
    const retryAt = this.retryAt();
    const state: SharedBreakerState = {
      breaker: this.name,
      state: json.ownState.value === CircuitState.Closed ? 'closed' : 'open',
      ...(json.ownState.openedAt ? { opened_at: json.ownState.openedAt } : {}),
      ...(retryAt !== undefined ? { half_open_at: retryAt } : {}),
      ...(this.reason ? { reason: this.reason } : {}),
      policy: JSON.stringify(json),
      updated_at: now,
      by: this.instance,
    };
    this.sharedSeen = Math.max(this.sharedSeen, now);
    this.writing = this.writing.then(() => store.put(state)).catch((error) => this.report(error));
  }

  /** Adopts what another instance found out since this one last looked (at most every `syncMs`). */
  private async sync(): Promise<void> {
    const store = this.options.shared;
    if (!store) return;
    const now = this.now();
    if (now - this.syncedAt < this.settings.syncMs) return;
    this.syncedAt = now;
    let shared: SharedBreakerState | undefined;
    try {
      shared = await store.get(this.name);
    } catch (error) {
      this.report(error);
      return;
    }
    if (!shared || shared.updated_at <= this.sharedSeen || shared.by === this.instance) return;
    this.sharedSeen = shared.updated_at;
    const local = this.state;
    if (shared.state === 'open' && local === 'closed') {
      // Opened elsewhere: open here too, with the same trial time.
      if ((shared.half_open_at ?? 0) <= now) return; // its trial is due: let the next call be it
      this.install(shared.policy, shared.reason ?? 'opened by another instance');
    } else if (shared.state === 'closed' && local === 'open') {
      this.install(shared.policy);
    }
  }

  private install(policyJson: string, reason?: string): void {
    let initial: PolicyJson;
    try {
      initial = JSON.parse(policyJson) as PolicyJson;
    } catch (error) {
      this.report(error);
      return;
    }
    this.adopting = true;
    try {
      const wasOpen = this.state !== 'closed';
      this.policy = this.makePolicy(initial);
      if (initial.ownState.value === CircuitState.Closed) {
        if (wasOpen) this.closedAgain(true);
      } else this.opened(reason ?? 'opened by another instance');
    } finally {
      this.adopting = false;
    }
  }

  private report(error: unknown): void {
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }
}
