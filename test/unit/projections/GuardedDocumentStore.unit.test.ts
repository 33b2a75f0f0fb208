import { describe, expect, it } from 'vitest';
import { InMemoryDocumentStore, type QueryRange } from '../../../projections/DocumentStore.js';
import { GuardedDocumentStore } from '../../../projections/GuardedDocumentStore.js';
import type { StoredDoc } from '../../../projections/Projection.js';
import { CircuitBreaker } from '../../../stream/breaker/CircuitBreaker.js';
import { DependencyUnavailable } from '../../../stream/breaker/DependencyUnavailable.js';

const throttled = () =>
  Object.assign(new Error('rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
  });

/** One document a page; the page `failAt` (from 0) fails as a throttled table would. */
class OnePerPage extends InMemoryDocumentStore {
  failAt = Number.POSITIVE_INFINITY;
  pagesRead = 0;

  override async *queryPages(pk: string, range?: QueryRange): AsyncGenerator<StoredDoc[]> {
    for (const doc of await this.query(pk, range)) {
      if (this.pagesRead++ === this.failAt) throw throttled();
      yield [doc];
    }
  }
}

describe('GuardedDocumentStore', () => {
  it('reads each page of a query through the breaker, and holds the reads once it opens', async () => {
    const store = new OnePerPage();
    await store.write(
      ['a', 'b', 'c'].map((sk) => ({ pk: 'p', sk, doc: { sk } })),
      [],
    );
    const breaker = new CircuitBreaker('docs', {
      settings: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 },
    });
    const guarded = new GuardedDocumentStore(store, breaker);
    const read = async () => {
      const sks: string[] = [];
      for await (const page of guarded.queryPages('p')) sks.push(...page.map((d) => d.sk));
      return sks;
    };

    expect(await read()).toEqual(['a', 'b', 'c']);

    store.failAt = store.pagesRead + 1;
    await expect(read()).rejects.toBeInstanceOf(DependencyUnavailable);
    expect(breaker.state).toBe('open');
    const before = store.pagesRead;
    await expect(read()).rejects.toBeInstanceOf(DependencyUnavailable);
    expect(store.pagesRead).toBe(before);
  });
});
