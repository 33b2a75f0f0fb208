import { describe, expect, it } from 'vitest';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import type { DocView } from '../../../projections/Projection.js';
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
  },
);
