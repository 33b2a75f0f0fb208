import type { EventEnvelope } from '../stream/EventEnvelope.js';
import type { DocumentStore } from './DocumentStore.js';
import { InMemoryDocumentStore } from './DocumentStore.js';
import type { Projection } from './Projection.js';
import { Projector } from './Projector.js';

/**
 * Given/when/then specifications of a read model, run in memory:
 *
 * @example
 * await ProjectionSpec.for(standingsProjection)
 *   .given([recorded('m1', 'A 2-1 B')])
 *   .when([corrected('m1', 'A 1-1 B')])
 *   .thenExpect(async (store) => expect(await standings(store, '2026')).toEqual(...));
 */
export class ProjectionSpec {
  private constructor(
    private readonly projection: Projection,
    private readonly history: readonly EventEnvelope[],
    private readonly events: readonly EventEnvelope[],
  ) {}

  static for(projection: Projection): ProjectionSpec {
    return new ProjectionSpec(projection, [], []);
  }

  /** Events that happened before. */
  given(events: readonly EventEnvelope[]): ProjectionSpec {
    return new ProjectionSpec(this.projection, events, this.events);
  }

  /** The events under test. */
  when(events: readonly EventEnvelope[]): ProjectionSpec {
    return new ProjectionSpec(this.projection, this.history, events);
  }

  /** Applies history then events (each in its own batch) and checks the resulting documents. */
  async thenExpect(
    check: (store: DocumentStore) => Promise<void> | void,
  ): Promise<InMemoryDocumentStore> {
    const store = new InMemoryDocumentStore();
    const projector = new Projector(this.projection, store);
    if (this.history.length > 0) await projector.apply(this.history);
    if (this.events.length > 0) await projector.apply(this.events);
    await check(store);
    return store;
  }
}
