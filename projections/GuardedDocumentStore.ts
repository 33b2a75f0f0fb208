import type { CircuitBreaker } from '../stream/breaker/CircuitBreaker.js';
import type { DocumentStore, QueryRange } from './DocumentStore.js';
import type { Doc, DocKey, EntryChanges, StoredDoc } from './Projection.js';

/**
 * A document store whose every call goes through a circuit breaker: while the table is out
 * (see `isOutage`) the breaker opens and calls fail at once with `DependencyUnavailable`,
 * which the runner of the work turns into holding it.
 */
export class GuardedDocumentStore implements DocumentStore {
  constructor(
    private readonly store: DocumentStore,
    readonly breaker: CircuitBreaker,
  ) {}

  getMany(keys: readonly DocKey[]): Promise<Map<string, Doc>> {
    return this.breaker.execute(() => this.store.getMany(keys));
  }

  query(pk: string, range?: QueryRange): Promise<StoredDoc[]> {
    return this.breaker.execute(() => this.store.query(pk, range));
  }

  /** Each page's read goes through the breaker. */
  async *queryPages(pk: string, range?: QueryRange): AsyncGenerator<StoredDoc[]> {
    const pages = this.store.queryPages(pk, range)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await this.breaker.execute(() => pages.next());
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await pages.return?.();
    }
  }

  write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void> {
    return this.breaker.execute(() => this.store.write(puts, deletes));
  }

  update(changes: readonly EntryChanges[]): Promise<void> {
    return this.breaker.execute(() => this.store.update(changes));
  }
}
