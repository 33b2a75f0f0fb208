import { describe, expect, it } from 'vitest';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import type { DocView } from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import type { EventType } from '../../../schemas/events.js';
import { sampleEnvelope } from '../../support/envelopes.js';
import { registry } from '../../support/registry.js';

/** A view of a read model that has no document yet. */
const empty: DocView = { get: () => undefined };

// The compiler makes every read model decide about every event type; these check that the
// decisions agree with the types each one declares it uses (what the projector and a rebuild's
// scan filter by).
describe.each(READ_MODELS.map((p) => [p.name, p] as const))(
  'the %s read model',
  (_, projection) => {
    const types = registry.eventTypes() as EventType[];
    const uses = (type: EventType) =>
      projection.eventTypes === '*' || projection.eventTypes.includes(type);

    it.each(types.filter((t) => !uses(t)))('reads and changes nothing for %s', (type) => {
      const event = sampleEnvelope(type, 'x:1');

      expect(projection.reads(event, empty)).toEqual([]);
      expect(projection.evolve(empty, event)).toEqual({});
    });

    it.each(types.filter(uses))('reads what it needs for %s', (type) => {
      const event = sampleEnvelope(type, 'x:1');

      expect(() => projection.reads(event, empty)).not.toThrow();
      expect(projection.reads(event, empty).length).toBeGreaterThan(0);
    });

    // A read model that says it guards repeats gets no position for a stream's first event, so
    // that event may come again at any time: it must change nothing then.
    it.runIf(projection.guardsRepeats === true).each(types.filter(uses))(
      'changes nothing when %s comes again',
      async (type) => {
        const store = new InMemoryDocumentStore();
        const projector = new Projector(projection, store);
        const event = sampleEnvelope(type, 'x:1');
        await projector.apply([event]);
        const once = store.all();

        await projector.apply([event]);
        await projector.apply([sampleEnvelope(type, 'x:1', 1, 'x:1#again')]);

        expect(store.all()).toEqual(once);
      },
    );
  },
);
