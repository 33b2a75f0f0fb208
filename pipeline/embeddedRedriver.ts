import { generationConsumer, type ReadModelRegistry } from '../projections/ReadModelRegistry.js';
import { BUS_HANDLERS } from '../sagas/handlers/busHandlers.js';
import { busEntryOf } from '../stream/buses/BusPublisher.js';
import type { Domain } from '../stream/buses/domains.js';
import { LocalBusPublisher } from '../stream/buses/LocalBusPublisher.js';
import type { LocalEventBus } from '../stream/buses/LocalEventBus.js';
import { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import { InMemoryDeadLetterQueue } from '../stream/consumer/DeadLetterQueue.js';
import { DynamoPositionStore } from '../stream/consumer/DynamoPositionStore.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import type { EmbeddedRuntime } from '../stream/local/EmbeddedRuntime.js';
import {
  applyThroughConsumers,
  planThroughConsumers,
  type RedrivableConsumer,
  storedEvent,
} from '../stream/redrive/consumerRedrive.js';
import type { EventRef, Letter } from '../stream/redrive/Letter.js';
import type { RedrivePlan, Redriver } from '../stream/redrive/redriveLetters.js';
import {
  BUS_ROUTER_CONSUMER,
  type EmbeddedPipeline,
  READ_MODELS_CONSUMER,
  SAGAS_CONSUMER,
} from './embeddedPipeline.js';
import { READ_MODELS } from './readModels.js';

/** What a redrive of the embedded runtime's letters goes through. */
export interface RedriveWiring {
  readonly store: Pick<EventStore, 'read'>;
  readonly buses: Readonly<Record<Domain, LocalEventBus>>;
  /** The stream consumer of this name as it applies, or undefined when none runs. */
  consumer(name: string): RedrivableConsumer | undefined;
  /** The consumers of the generations of a read model that rebuilds made (N ≥ 2), live. */
  rebuiltGenerations(readModel: string): Promise<string[]>;
  /** Whether the bus of this name delivers to a rule of this name. */
  hasRule(bus: LocalEventBus, rule: string): boolean;
}

/** The running pipeline's consumers, buses and store: what a redrive applies through. */
export function pipelineWiring(pipeline: EmbeddedPipeline): RedriveWiring {
  const { runtime } = pipeline;
  return {
    store: runtime.store,
    buses: runtime.buses,
    consumer: (name) => {
      const c = runtime.consumers.get(name);
      return c ? { name, positions: c.positions, sequencer: c.sequencer } : undefined;
    },
    rebuiltGenerations: async (readModel) => {
      const prefix = `read-model:${readModel}:g`;
      return [...runtime.consumers.keys()].filter(
        (name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)),
      );
    },
    hasRule: (bus, rule) => bus.hasRule(rule),
  };
}

/**
 * A runtime with no consumer running (a dry run): the consumers and bus rules a pipeline
 * started on the folder would run (the stream's consumers, each live generation's that a
 * rebuild made, the bus handlers' rules), each consumer with its positions as stored and an
 * effect that refuses to run, so a plan reads and never applies, and finds what the redrive
 * would find: a letter of a consumer or rule no pipeline runs cannot be redriven.
 */
export async function dryRunWiring(
  runtime: EmbeddedRuntime,
  registry: ReadModelRegistry,
): Promise<RedriveWiring> {
  const generations = new Map<string, string[]>();
  for (const projection of READ_MODELS) {
    const entry = await registry.entry(projection);
    generations.set(
      projection.name,
      entry.generations
        .filter((g) => g.generation >= 2 && g.status === 'live')
        .map((g) => generationConsumer(projection.name, g.generation)),
    );
  }
  const running = new Set([
    READ_MODELS_CONSUMER,
    BUS_ROUTER_CONSUMER,
    SAGAS_CONSUMER,
    ...[...generations.values()].flat(),
  ]);
  return {
    store: runtime.store,
    buses: runtime.buses,
    consumer: (name) => {
      if (!running.has(name)) return undefined;
      const positions = new DynamoPositionStore(runtime.dynamo, name);
      return {
        name,
        positions,
        sequencer: new AggregateSequencer({
          consumer: name,
          store: runtime.store,
          positions,
          apply: async () => {
            throw new Error('a dry run applies nothing');
          },
        }),
      };
    },
    rebuiltGenerations: async (readModel) => generations.get(readModel) ?? [],
    hasRule: (bus, rule) =>
      Object.values(BUS_HANDLERS).some(
        (h) => runtime.buses[h.bus].name === bus.name && h.rule === rule,
      ),
  };
}

/**
 * The redrive of the embedded runtime: each letter through the code that gave up on it.
 * - A stream consumer's letter (`read-models`, `bus-router`, `sagas`,
 *   `read-model:<read model>:g<N>`): that consumer's sequencer, positions and effect.
 * - A rebuild's (`rebuild:<read model>`): the consumers of the read model's generations that
 *   rebuilds made (`read-model:<read model>:g<N>`, N ≥ 2), which took over from the rebuild.
 * - A bus target's (`bus:<bus>/<rule>`): that rule's handler, with the event read from the
 *   store and the bus event's id kept (the handlers' idempotency is by event).
 * - A publish's (`publish:<bus>`): the bus publisher, the event read from the store.
 */
export function embeddedRedriver(wiring: RedriveWiring): Redriver {
  const { store } = wiring;

  const consumersOf = async (letter: Letter): Promise<RedrivableConsumer[] | string> => {
    if (letter.kind === 'unreadable-item') {
      const readModel = letter.consumer.slice('rebuild:'.length);
      const found = (await wiring.rebuiltGenerations(readModel)).flatMap(
        (name) => wiring.consumer(name) ?? [],
      );
      return found.length > 0
        ? found
        : `no generation of ${readModel} that a rebuild made is live: run the rebuild again`;
    }
    const consumer = wiring.consumer(letter.consumer);
    return consumer ? [consumer] : `no consumer named ${letter.consumer} runs in this pipeline`;
  };
  return {
    async plan(letter): Promise<RedrivePlan> {
      switch (letter.kind) {
        case 'kinesis-records':
        case 'unreadable-item': {
          const consumers = await consumersOf(letter);
          if (typeof consumers === 'string')
            return { action: 'skip', why: consumers, resolved: false };
          return planThroughConsumers(letter, consumers, store);
        }
        case 'bus-event': {
          const target = busTarget(letter, wiring);
          if (typeof target === 'string') return { action: 'skip', why: target, resolved: false };
          return planOneEvent(letter, store, `${target.bus.name} rule ${target.rule}`);
        }
        case 'put-events-entry': {
          const bus = publishBus(letter, wiring.buses);
          if (bus === undefined)
            return { action: 'skip', why: `no bus ${letter.consumer.slice(8)}`, resolved: false };
          return planOneEvent(letter, store, `the bus publisher onto ${bus}`);
        }
      }
    },

    async apply(letter): Promise<number> {
      switch (letter.kind) {
        case 'kinesis-records':
        case 'unreadable-item': {
          const consumers = await consumersOf(letter);
          if (typeof consumers === 'string') throw new Error(consumers);
          return applyThroughConsumers(letter, consumers, store);
        }
        case 'bus-event': {
          const target = busTarget(letter, wiring);
          if (typeof target === 'string') throw new Error(target);
          const envelope = await storedEvent(store, onlyEvent(letter));
          const event = target.bus.busEvent(busEntryOf(envelope));
          // The bus event's id as it was first delivered: a handler that saw it knows it.
          await target.bus.redeliver(target.rule, { ...event, id: target.eventId ?? event.id });
          return 1;
        }
        case 'put-events-entry': {
          const envelope = await storedEvent(store, onlyEvent(letter));
          const refused = new InMemoryDeadLetterQueue();
          await new LocalBusPublisher(wiring.buses, refused).publish([busEntryOf(envelope)]);
          const again = refused.letters[0];
          if (again) throw new Error(again.error);
          return 1;
        }
      }
    },
  };
}

/**
 * The bus and rule a bus target's letter names (`bus:<bus>/<rule>`), or why it cannot be
 * redriven: no such bus, or no such rule on it (a handler an earlier release registered).
 */
function busTarget(
  letter: Letter,
  wiring: Pick<RedriveWiring, 'buses' | 'hasRule'>,
): { bus: LocalEventBus; rule: string; eventId?: string } | string {
  const name = letter.consumer.slice('bus:'.length);
  const slash = name.indexOf('/');
  const busName = slash < 0 ? name : name.slice(0, slash);
  const bus = Object.values(wiring.buses).find((b) => b.name === busName);
  if (slash < 0 || !bus) return `no bus ${busName} in this pipeline`;
  const rule = name.slice(slash + 1);
  if (!wiring.hasRule(bus, rule))
    return `bus ${busName} has no rule named ${rule} in this pipeline`;
  const event = letter.event as { id?: unknown } | undefined;
  return {
    bus,
    rule,
    ...(typeof event?.id === 'string' ? { eventId: event.id } : {}),
  };
}

function publishBus(letter: Letter, buses: RedriveWiring['buses']): string | undefined {
  const name = letter.consumer.slice('publish:'.length);
  return Object.values(buses).some((b) => b.name === name) ? name : undefined;
}

/** A bus letter's one event. */
function onlyEvent(letter: Letter): EventRef {
  const ref = letter.events[0];
  if (!ref) throw new Error(letter.unknown ?? 'the letter names no event');
  return ref;
}

/** What redriving one stored event would do: read it (throws while it cannot be read). */
async function planOneEvent(
  letter: Letter,
  store: Pick<EventStore, 'read'>,
  through: string,
): Promise<RedrivePlan> {
  const ref = letter.events[0];
  if (!ref)
    return { action: 'skip', why: letter.unknown ?? 'the letter names no event', resolved: false };
  await storedEvent(store, ref);
  return { action: 'redrive', through, events: 1 };
}
