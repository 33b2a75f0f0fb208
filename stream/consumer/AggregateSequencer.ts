import type { EventEnvelope } from '../EventEnvelope.js';
import type { EventStore } from '../eventStore/EventStore.js';
import { ConsumerError } from './ConsumerError.js';
import type { PositionStore } from './PositionStore.js';

/** What one delivery did. */
export interface Delivery {
  /** Events handed to the consumer (the missing ones fetched from the store included). */
  readonly applied: number;
  /** Events dropped because they were applied before. */
  readonly duplicates: number;
  /** Events fetched from the store to fill a gap. */
  readonly filled: number;
}

export interface SequencerOptions {
  readonly consumer: string;
  /** Where missing events are fetched from. */
  readonly store: Pick<EventStore, 'read'>;
  readonly positions: PositionStore;
  /** The consumer's effect: called with events of one stream, in sequence order, each once. */
  readonly apply: (events: readonly EventEnvelope[]) => Promise<void>;
}

/**
 * Turns an unordered, duplicating stream of events into exactly-once, in-order delivery per
 * aggregate: what is at or below the stream's position is dropped; when a later event arrives
 * before an earlier one, the missing events are read from the event store and applied first.
 * The position advances after the effect, so a crash in between re-applies (never skips):
 * effects must tolerate a repeat of their last batch, which conditional writes on the
 * position or event ids give.
 */
export class AggregateSequencer {
  constructor(private readonly options: SequencerOptions) {}

  /** Delivers events of one stream (typically one commit). */
  async deliver(events: readonly EventEnvelope[]): Promise<Delivery> {
    const first = events[0];
    if (!first) return { applied: 0, duplicates: 0, filled: 0 };
    const aggregateId = first.aggregate_id;
    const { positions, store, apply, consumer } = this.options;
    const position = await positions.position(aggregateId);
    const fresh = uniqueBySequence(events).filter((e) => e.sequence > position);
    const duplicates = events.length - fresh.length;
    const last = fresh.at(-1);
    if (!last) return { applied: 0, duplicates, filled: 0 };

    let batch = fresh;
    let filled = 0;
    if (!contiguousFrom(fresh, position + 1)) {
      // Something before (or between) these events has not arrived yet: the store has it.
      batch = await store.read(aggregateId, {
        fromSequence: position + 1,
        toSequence: last.sequence,
      });
      if (!contiguousFrom(batch, position + 1) || batch.at(-1)?.sequence !== last.sequence) {
        throw new ConsumerError(
          'GAP_NOT_FILLED',
          `events ${position + 1} to ${last.sequence} are not all in the event store`,
          { consumer, aggregateId, sequence: position + 1 },
        );
      }
      filled = batch.length - fresh.length;
    }
    await apply(batch);
    await positions.advance(aggregateId, last.sequence);
    return { applied: batch.length, duplicates, filled };
  }
}

function uniqueBySequence(events: readonly EventEnvelope[]): readonly EventEnvelope[] {
  if (events.length === 1) return events;
  const bySequence = new Map<number, EventEnvelope>();
  for (const e of events) if (!bySequence.has(e.sequence)) bySequence.set(e.sequence, e);
  return [...bySequence.values()].sort((a, b) => a.sequence - b.sequence);
}

function contiguousFrom(events: readonly EventEnvelope[], from: number): boolean {
  return events.every((e, i) => e.sequence === from + i);
}
