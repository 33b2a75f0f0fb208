import type { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import type { ReplayTarget } from '../stream/replay/replay.js';
import type { Projector } from './Projector.js';

/**
 * Replayed events into one read model's documents. With a sequencer (a rebuild), each
 * stream's events go through the positions of the consumer that will feed the generation
 * afterwards, so it takes over exactly where the replay stopped; without one (a repair of the
 * live generation), the projection's own guards skip what a document has seen already.
 */
export class ReadModelTarget implements ReplayTarget {
  readonly concurrent = true;

  constructor(
    private readonly projector: Projector,
    readonly description: string,
    private readonly sequencer?: AggregateSequencer,
  ) {}

  async deliver(events: readonly EventEnvelope[]): Promise<void> {
    if (this.sequencer) await this.sequencer.deliverAll([events]);
    else await this.projector.apply(events);
  }
}
