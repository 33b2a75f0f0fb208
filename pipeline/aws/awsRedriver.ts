import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { busEntryOf } from '../../stream/buses/BusPublisher.js';
import type { Domain } from '../../stream/buses/domains.js';
import { EventBridgePublisher } from '../../stream/buses/EventBridgePublisher.js';
import { InMemoryDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import {
  applyThroughConsumers,
  planThroughConsumers,
  type RedrivableConsumer,
  storedEvent,
} from '../../stream/redrive/consumerRedrive.js';
import type { Letter } from '../../stream/redrive/Letter.js';
import type { RedrivePlan, Redriver } from '../../stream/redrive/redriveLetters.js';

export interface AwsRedriveOptions {
  /** The deployed event store (what every letter's events are read from). */
  readonly store: Pick<EventStore, 'read'>;
  /** For `publish:<bus>` letters: EventBridge and the bus of each domain. */
  readonly eventBridge?: EventBridgeClient;
  readonly buses?: Readonly<Record<Domain, string>>;
  /**
   * A deployed stream consumer by the name its letters carry (its function's `CONSUMER`), with
   * its positions and effect as its function builds them; undefined when unknown.
   */
  readonly consumer?: (name: string) => Promise<RedrivableConsumer | undefined>;
  readonly dynamo?: DynamoDBClient;
}

/**
 * The redrive of the deployed stack's letters, through the code the functions run: a stream
 * consumer's letter (an on-failure bucket's invocation record, whose events are read from the
 * event store whatever the stream still holds) through that consumer's sequencer, positions
 * and effect; a `publish:<bus>` letter through the bus router's EventBridge publisher (PutEvents
 * with its partial failures retried), the event read from the store.
 */
export function awsRedriver(options: AwsRedriveOptions): Redriver {
  const { store } = options;
  const consumersOf = async (letter: Letter): Promise<RedrivableConsumer[] | string> => {
    if (letter.kind !== 'kinesis-records')
      return `a ${letter.kind} letter of ${letter.consumer} is not redriven on AWS by this command`;
    const consumer = await options.consumer?.(letter.consumer);
    return consumer ? [consumer] : `no deployed consumer named ${letter.consumer} is known`;
  };
  // The publisher of the bus router, its refusals captured for the letter instead of stored.
  const publisherFor = (refused: InMemoryDeadLetterQueue): EventBridgePublisher | undefined =>
    options.eventBridge && options.buses
      ? new EventBridgePublisher({
          client: options.eventBridge,
          buses: options.buses,
          deadLetters: refused,
        })
      : undefined;
  const noBuses = 'the bus names are not known: give the bus router its BUS_NAMES';

  return {
    async plan(letter): Promise<RedrivePlan> {
      if (letter.kind === 'put-events-entry') {
        const ref = letter.events[0];
        if (!ref)
          return {
            action: 'skip',
            why: letter.unknown ?? 'the letter names no event',
            resolved: false,
          };
        if (!publisherFor(new InMemoryDeadLetterQueue()))
          return { action: 'skip', why: noBuses, resolved: false };
        await storedEvent(store, ref);
        return {
          action: 'redrive',
          through: `PutEvents onto ${letter.consumer.slice(8)}`,
          events: 1,
        };
      }
      const consumers = await consumersOf(letter);
      if (typeof consumers === 'string') return { action: 'skip', why: consumers, resolved: false };
      return planThroughConsumers(letter, consumers, store);
    },

    async apply(letter): Promise<number> {
      if (letter.kind === 'put-events-entry') {
        const ref = letter.events[0];
        if (!ref) throw new Error(letter.unknown ?? 'the letter names no event');
        const refused = new InMemoryDeadLetterQueue();
        const again = publisherFor(refused);
        if (!again) throw new Error(noBuses);
        await again.publish([busEntryOf(await storedEvent(store, ref))]);
        const failed = refused.letters[0];
        if (failed) throw new Error(failed.error);
        return 1;
      }
      const consumers = await consumersOf(letter);
      if (typeof consumers === 'string') throw new Error(consumers);
      return applyThroughConsumers(letter, consumers, store);
    },
  };
}
