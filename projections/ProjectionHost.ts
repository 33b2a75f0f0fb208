import type { EventEnvelope } from '../stream/EventEnvelope.js';
import type { Projector } from './Projector.js';

/**
 * Several read models fed by one consumer: each batch goes to every projector at once, and
 * the batch succeeds only if all of them wrote it (a failure makes the consumer retry the
 * whole batch, which the read models absorb, being idempotent). One consumer instead of one
 * per read model means the stream is read, decoded and sequenced once.
 */
export class ProjectionHost {
  constructor(readonly projectors: readonly Projector[]) {}

  /** Whether every read model it feeds ignores an event it has applied (`guardsRepeats`). */
  get guardsRepeats(): boolean {
    return this.projectors.every((p) => p.projection.guardsRepeats === true);
  }

  async apply(events: readonly EventEnvelope[]): Promise<void> {
    const results = await Promise.allSettled(this.projectors.map((p) => p.apply(events)));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [
            `${this.projectors[i]?.projection.name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`,
          ]
        : [],
    );
    if (failed.length > 0)
      throw new Error(`read models failed: ${failed.join('; ')}`, {
        // Each read model's own error, so a runner can tell a held batch (an open breaker,
        // see `heldBy`) from a failed one.
        cause: new AggregateError(
          results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
          'read model errors',
        ),
      });
  }
}
