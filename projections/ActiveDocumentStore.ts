import type { DocumentStore, QueryRange } from './DocumentStore.js';
import type { Doc, DocKey, EntryChanges, StoredDoc } from './Projection.js';

/**
 * A read model's documents wherever its active generation is: resolves the generation (from
 * the registry) and delegates to its store, checking again after `ttlMs` or `refresh()`, so
 * readers follow a switch within seconds and never read a half-built generation.
 */
export class ActiveDocumentStore implements DocumentStore {
  private current: { store: DocumentStore; at: number } | undefined;

  constructor(
    private readonly resolve: () => Promise<DocumentStore>,
    private readonly ttlMs = 5000,
  ) {}

  /** Forgets the generation, so the next call resolves it again. */
  refresh(): void {
    this.current = undefined;
  }

  /** The store of the active generation. */
  async target(): Promise<DocumentStore> {
    if (!this.current || Date.now() - this.current.at > this.ttlMs) {
      this.current = { store: await this.resolve(), at: Date.now() };
    }
    return this.current.store;
  }

  async getMany(keys: readonly DocKey[]): Promise<Map<string, Doc>> {
    return (await this.target()).getMany(keys);
  }

  async query(pk: string, range?: QueryRange): Promise<StoredDoc[]> {
    return (await this.target()).query(pk, range);
  }

  async *queryPages(pk: string, range?: QueryRange): AsyncGenerator<StoredDoc[]> {
    yield* (await this.target()).queryPages(pk, range);
  }

  async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void> {
    return (await this.target()).write(puts, deletes);
  }

  async update(changes: readonly EntryChanges[]): Promise<void> {
    return (await this.target()).update(changes);
  }
}
