import type { AggregateSequencer } from '../consumer/AggregateSequencer.js';
import type { PositionStore } from '../consumer/PositionStore.js';
import type { EventEnvelope } from '../EventEnvelope.js';
import type { EventStore } from '../eventStore/EventStore.js';
import type { EventRef, Letter } from './Letter.js';
import type { RedrivePlan } from './redriveLetters.js';

/** A stream consumer as a redrive sees it: its name, positions and sequencer (with its effect). */
export interface RedrivableConsumer {
  readonly name: string;
  readonly positions: PositionStore;
  readonly sequencer: AggregateSequencer;
}

/**
 * What redriving a letter through stream consumers would do, reading only: a letter whose
 * events every consumer has applied is resolved; otherwise the events each has still to apply
 * are read from the store (which throws, with the reason, while they cannot be read).
 */
export async function planThroughConsumers(
  letter: Letter,
  consumers: readonly RedrivableConsumer[],
  store: Pick<EventStore, 'read'>,
): Promise<RedrivePlan> {
  if (letter.events.length === 0)
    return { action: 'skip', why: letter.unknown ?? 'the letter names no event', resolved: false };
  let events = 0;
  const applied: string[] = [];
  for (const consumer of consumers)
    for (const ref of letter.events) {
      const position = await positionOf(consumer, ref);
      if (position >= ref.last_sequence) {
        applied.push(`${consumer.name} at ${ref.aggregate_id}/${position}`);
        continue;
      }
      const read = await store.read(ref.aggregate_id, {
        fromSequence: position + 1,
        toSequence: ref.last_sequence,
      });
      if (read.at(-1)?.sequence !== ref.last_sequence)
        return {
          action: 'skip',
          why: `the event store holds no event ${ref.aggregate_id}/${ref.last_sequence}`,
          resolved: false,
        };
      events += read.length;
    }
  if (events === 0)
    return {
      action: 'skip',
      why: `already applied (${applied.join(', ')})`,
      resolved: true,
    };
  return { action: 'redrive', through: consumers.map((c) => c.name).join(', '), events };
}

/**
 * Re-applies a letter's events through each consumer's own sequencer: read from the store
 * (never from the letter), delivered as the consumer's handler delivers a batch, so what the
 * consumer applied meanwhile is dropped and what is missing before is read first. Returns the
 * events applied; throws when they fail again.
 */
export async function applyThroughConsumers(
  letter: Letter,
  consumers: readonly RedrivableConsumer[],
  store: Pick<EventStore, 'read'>,
): Promise<number> {
  let applied = 0;
  for (const consumer of consumers)
    for (const ref of letter.events) {
      const position = await positionOf(consumer, ref);
      if (position >= ref.last_sequence) continue;
      const events: EventEnvelope[] = await store.read(ref.aggregate_id, {
        fromSequence: Math.max(position + 1, ref.sequence),
        toSequence: ref.last_sequence,
      });
      applied += (await consumer.sequencer.deliver(events)).applied;
    }
  return applied;
}

async function positionOf(consumer: RedrivableConsumer, ref: EventRef): Promise<number> {
  return (await consumer.positions.positions([ref.aggregate_id])).get(ref.aggregate_id) ?? 0;
}

/** The stored event a reference names, read from the store. */
export async function storedEvent(
  store: Pick<EventStore, 'read'>,
  ref: EventRef,
): Promise<EventEnvelope> {
  const [event] = await store.read(ref.aggregate_id, {
    fromSequence: ref.sequence,
    toSequence: ref.sequence,
  });
  if (event?.sequence !== ref.sequence)
    throw new Error(`the event store holds no event ${ref.aggregate_id}/${ref.sequence}`);
  return event;
}
