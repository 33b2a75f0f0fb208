import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { busEntryOf } from '../../stream/buses/BusPublisher.js';
import type { Domain } from '../../stream/buses/domains.js';
import { EventBridgePublisher } from '../../stream/buses/EventBridgePublisher.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';
import { InMemoryDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import {
  applyThroughConsumers,
  planThroughConsumers,
  type RedrivableConsumer,
  storedEvent,
} from '../../stream/redrive/consumerRedrive.js';
import type { EventRef, Letter } from '../../stream/redrive/Letter.js';
import type { RedrivePlan, Redriver } from '../../stream/redrive/redriveLetters.js';

type Buses = Readonly<Record<Domain, string>>;

export interface AwsRedriveOptions {
  /** The deployed event store (what every letter's events are read from). */
  readonly store: Pick<EventStore, 'read'>;
  /** For `publish:<bus>` letters: EventBridge and the bus of each domain. */
  readonly eventBridge?: EventBridgeClient;
  /** The buses, or how to learn them (the bus router's `BUS_NAMES`); throws why not. */
  readonly buses?: Buses | (() => Promise<Buses>);
  /**
   * A deployed stream consumer by the name its letters carry (its function's `CONSUMER`), with
   * its positions and effect as its function builds them; undefined when unknown, or why it
   * cannot be built.
   */
  readonly consumer?: (name: string) => Promise<RedrivableConsumer | string | undefined>;
  /**
   * A bus handler by its rule, as its function runs it (`busEventHandler`), or why there is
   * none: what a `bus:<rule>` (or `bus:<bus>/<rule>`) letter is applied through.
   */
  readonly busHandler?: (rule: string) => Promise<((event: BusEvent) => Promise<void>) | string>;
  /** Why a letter is not redriven at all (a schedule's invocation), or undefined. */
  readonly notRedriven?: (letter: Letter) => string | undefined;
  readonly dynamo?: DynamoDBClient;
}

/**
 * The redrive of the deployed stack's letters, through the code the functions run:
 * - a stream consumer's letter (an on-failure bucket's invocation record, whose events are read
 *   from the event store whatever the stream still holds) through that consumer's sequencer,
 *   positions and effect;
 * - a `publish:<bus>` letter through the bus router's EventBridge publisher (PutEvents with its
 *   partial failures retried), the event read from the store;
 * - a bus handler's letter (its dead-letter queue's event) through that handler, the event read
 *   from the store and delivered as its bus delivers it, under the bus event's first id (the
 *   handlers' idempotency is by event).
 * A letter that names no stored event, or that `notRedriven` refuses, is skipped and kept.
 */
export function awsRedriver(options: AwsRedriveOptions): Redriver {
  const { store } = options;
  const consumersOf = async (letter: Letter): Promise<RedrivableConsumer[] | string> => {
    if (letter.kind === 'unreadable-item')
      return `a rebuild's letter (${letter.consumer}) is not redriven on AWS: run the rebuild again once it can read the item`;
    const consumer = await options.consumer?.(letter.consumer);
    if (typeof consumer === 'string') return consumer;
    return consumer ? [consumer] : `no deployed consumer named ${letter.consumer} is known`;
  };
  let buses: Promise<Buses> | undefined;
  // The publisher of the bus router, its refusals captured for the letter instead of stored.
  const publisherFor = async (
    refused: InMemoryDeadLetterQueue,
  ): Promise<EventBridgePublisher | string> => {
    if (!options.eventBridge || !options.buses)
      return 'the bus names are not known: give the bus router its BUS_NAMES';
    const known = options.buses;
    buses ??= typeof known === 'function' ? known() : Promise.resolve(known);
    try {
      return new EventBridgePublisher({
        client: options.eventBridge,
        buses: await buses,
        deadLetters: refused,
      });
    } catch (error) {
      return `the bus names are not known: ${message(error)}`;
    }
  };
  const handlerOf = async (letter: Letter) => {
    const name = letter.consumer.slice('bus:'.length);
    const rule = name.slice(name.lastIndexOf('/') + 1);
    if (!options.busHandler) return `no bus handler of ${letter.consumer} is known`;
    return options.busHandler(rule);
  };
  /** Why nothing is re-applied for this letter, whatever its kind. */
  const notApplied = (letter: Letter): string | undefined =>
    options.notRedriven?.(letter) ??
    (letter.events.length === 0 ? (letter.unknown ?? 'the letter names no event') : undefined);

  return {
    async plan(letter): Promise<RedrivePlan> {
      const not = notApplied(letter);
      if (not) return { action: 'skip', why: not, resolved: false };
      switch (letter.kind) {
        case 'put-events-entry': {
          const publisher = await publisherFor(new InMemoryDeadLetterQueue());
          if (typeof publisher === 'string')
            return { action: 'skip', why: publisher, resolved: false };
          await storedEvent(store, onlyEvent(letter));
          return {
            action: 'redrive',
            through: `PutEvents onto ${letter.consumer.slice('publish:'.length)}`,
            events: 1,
          };
        }
        case 'bus-event': {
          const handler = await handlerOf(letter);
          if (typeof handler === 'string') return { action: 'skip', why: handler, resolved: false };
          await storedEvent(store, onlyEvent(letter));
          return {
            action: 'redrive',
            through: `the ${letter.consumer.slice(4)} handler`,
            events: 1,
          };
        }
        case 'kinesis-records':
        case 'unreadable-item': {
          const consumers = await consumersOf(letter);
          if (typeof consumers === 'string')
            return { action: 'skip', why: consumers, resolved: false };
          return planThroughConsumers(letter, consumers, store);
        }
      }
    },

    async apply(letter): Promise<number> {
      const not = notApplied(letter);
      if (not) throw new Error(not);
      switch (letter.kind) {
        case 'put-events-entry': {
          const refused = new InMemoryDeadLetterQueue();
          const again = await publisherFor(refused);
          if (typeof again === 'string') throw new Error(again);
          await again.publish([busEntryOf(await storedEvent(store, onlyEvent(letter)))]);
          const failed = refused.letters[0];
          if (failed) throw new Error(failed.error);
          return 1;
        }
        case 'bus-event': {
          const handler = await handlerOf(letter);
          if (typeof handler === 'string') throw new Error(handler);
          await handler(redelivered(letter, await storedEvent(store, onlyEvent(letter))));
          return 1;
        }
        case 'kinesis-records':
        case 'unreadable-item': {
          const consumers = await consumersOf(letter);
          if (typeof consumers === 'string') throw new Error(consumers);
          return applyThroughConsumers(letter, consumers, store);
        }
      }
    },
  };
}

/**
 * A bus letter's event as its bus delivers it again: the envelope read from the store (whole,
 * where the bus may have carried a claim check), its `replayed` mark kept, as JSON as
 * EventBridge hands it over, under the id and time it was first delivered with.
 */
function redelivered(letter: Letter, envelope: Parameters<typeof busEntryOf>[0]): BusEvent {
  const first = isObject(letter.event) ? letter.event : {};
  const replayed = isObject(first.detail) && first.detail.replayed === true;
  const entry = busEntryOf(envelope, { replayed });
  return {
    version: '0',
    ...first,
    id: typeof first.id === 'string' ? first.id : envelope.event_id,
    source: entry.source,
    'detail-type': entry.detailType,
    time: typeof first.time === 'string' ? first.time : entry.time,
    detail: JSON.parse(JSON.stringify(entry.detail)) as unknown,
  };
}

/** A bus letter's one event. */
function onlyEvent(letter: Letter): EventRef {
  const ref = letter.events[0];
  if (!ref) throw new Error(letter.unknown ?? 'the letter names no event');
  return ref;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
