import {
  type BreakerSnapshot,
  CircuitBreaker,
  type CircuitBreakerOptions,
} from './CircuitBreaker.js';

/** The dependencies a handler or consumer guards, each with a breaker of its own. */
export type Dependency =
  | 'read-model-tables'
  | 'rankings-cache'
  | 'team-directory'
  | 'saga-work'
  | 'notifications'
  | 'put-events';

/** The settings, shared store and hooks every breaker of the process gets. */
export type CircuitBreakersOptions = CircuitBreakerOptions;

/**
 * The breakers of one process, one per (handler or consumer, dependency), made on first use
 * with the same settings and shared store: what `/health` lists.
 */
export class CircuitBreakers {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly options: CircuitBreakersOptions = {}) {}

  /** The breaker of `owner` (a handler or consumer) around `dependency`. */
  get(owner: string, dependency: Dependency): CircuitBreaker {
    const name = `${owner}/${dependency}`;
    let breaker = this.breakers.get(name);
    if (!breaker) {
      breaker = new CircuitBreaker(name, this.options);
      this.breakers.set(name, breaker);
    }
    return breaker;
  }

  /** Every breaker made so far, by name. */
  snapshots(): BreakerSnapshot[] {
    return [...this.breakers.values()]
      .map((b) => b.snapshot())
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Resolves once every shared state written so far is stored. */
  async flushed(): Promise<void> {
    await Promise.all([...this.breakers.values()].map((b) => b.flushed()));
  }
}
