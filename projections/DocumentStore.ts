import { type Doc, type DocKey, keyString, type StoredDoc } from './Projection.js';

/** Storage of one read model's documents. */
export interface DocumentStore {
  /** The documents at these keys (absent keys are absent from the map), by `keyString`. */
  getMany(keys: readonly DocKey[]): Promise<Map<string, Doc>>;
  /** Documents of one partition, in sort-key order, optionally within a sort-key range or prefix. */
  query(
    pk: string,
    range?: { readonly prefix?: string; readonly from?: string; readonly to?: string },
  ): Promise<StoredDoc[]>;
  /** Writes and deletes, each key at most once. */
  write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void>;
}

/** Documents in process memory: for tests, specifications and in-memory runs. */
export class InMemoryDocumentStore implements DocumentStore {
  private readonly docs = new Map<string, StoredDoc>();

  async getMany(keys: readonly DocKey[]): Promise<Map<string, Doc>> {
    const out = new Map<string, Doc>();
    for (const key of keys) {
      const found = this.docs.get(keyString(key));
      if (found) out.set(keyString(key), found.doc);
    }
    return out;
  }

  async query(
    pk: string,
    range: { prefix?: string; from?: string; to?: string } = {},
  ): Promise<StoredDoc[]> {
    return [...this.docs.values()]
      .filter(
        (d) =>
          d.pk === pk &&
          (range.prefix === undefined || d.sk.startsWith(range.prefix)) &&
          (range.from === undefined || d.sk >= range.from) &&
          (range.to === undefined || d.sk <= range.to),
      )
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
  }

  async write(puts: readonly StoredDoc[], deletes: readonly DocKey[]): Promise<void> {
    for (const key of deletes) this.docs.delete(keyString(key));
    for (const doc of puts) this.docs.set(keyString(doc), structuredClone(doc));
  }

  /** Every document, in key order: for comparing two stores. */
  all(): StoredDoc[] {
    return [...this.docs.values()].sort((a, b) => (keyString(a) < keyString(b) ? -1 : 1));
  }
}
