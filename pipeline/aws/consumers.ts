import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { GuardedDocumentStore } from '../../projections/GuardedDocumentStore.js';
import { ProjectionHost } from '../../projections/ProjectionHost.js';
import { Projector } from '../../projections/Projector.js';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { DynamoBreakerStateStore } from '../../stream/breaker/BreakerStateStore.js';
import type { BreakerTransition } from '../../stream/breaker/CircuitBreaker.js';
import { CircuitBreakers } from '../../stream/breaker/CircuitBreakers.js';
import type { DependencyUnavailable } from '../../stream/breaker/DependencyUnavailable.js';
import { busRouter, routedWithoutPosition } from '../../stream/buses/busRouter.js';
import { DOMAINS, type Domain } from '../../stream/buses/domains.js';
import { EventBridgePublisher } from '../../stream/buses/EventBridgePublisher.js';
import {
  AggregateSequencer,
  type SequencerOptions,
} from '../../stream/consumer/AggregateSequencer.js';
import { createKinesisHandler } from '../../stream/consumer/createKinesisHandler.js';
import { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { DynamoPositionStore } from '../../stream/consumer/DynamoPositionStore.js';
import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from '../../stream/consumer/kinesisEvent.js';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import type { RedrivableConsumer } from '../../stream/redrive/consumerRedrive.js';
import { READ_MODELS } from '../readModels.js';
import { deployedEventStore } from '../seasons.js';

/**
 * What a consumer function is told through its environment (set by the CDK app):
 * `CONSUMER`, `EVENTS_TABLE`, `POSITIONS_TABLE`, `DEAD_LETTERS_TABLE`, and per consumer
 * `READ_MODEL_TABLES` (JSON: read model → table) or `BUS_NAMES` (JSON: domain → bus).
 */
export type ConsumerEnv = Readonly<Record<string, string | undefined>>;

/** What a consumer reports of each invocation (the entry point turns it into logs and metrics). */
export interface ConsumerObserver {
  delivered?(applied: number, duplicates: number, filled: number, skipped: number): void;
  failed?(record: KinesisStreamRecord, error: unknown): void;
  /** Entries published on the buses, and those EventBridge refused after retries (dead-lettered). */
  published?(published: number, deadLettered: number): void;
  /** A circuit breaker of the function opened, let a trial through, or closed. */
  breaker?(transition: BreakerTransition): void;
  /** The invocation's work was held: a breaker around a dependency is open. */
  held?(held: DependencyUnavailable): void;
  /** The shared state of the breakers could not be read or written. */
  breakerError?(error: Error): void;
  /** Time left to the invocation (ms), when the entry point knows it. */
  remainingMs?(): number;
}

/**
 * What an invocation keeps in hand after waiting for a breaker's trial: the trial and the
 * writes after it (ms). A wait that leaves less is not made: the batch is reported held.
 */
export const HOLD_MARGIN_MS = 20_000;

/**
 * The circuit breakers of a function, their state shared by its instances through the table
 * `BREAKERS_TABLE`, their transitions told to the observer (metrics and logs).
 */
export function awsBreakers(
  env: ConsumerEnv,
  client: DynamoDBClient,
  observer: ConsumerObserver,
): CircuitBreakers {
  return new CircuitBreakers({
    shared: new DynamoBreakerStateStore(client, required(env, 'BREAKERS_TABLE')),
    onTransition: (t) => observer.breaker?.(t),
    onError: (e) => observer.breakerError?.(e),
  });
}

/** A document store guarded by the breaker of `owner` around a table kind. */
export function guarded(
  breakers: CircuitBreakers,
  owner: string,
  dependency: Parameters<CircuitBreakers['get']>[1],
  store: DocumentStore,
): DocumentStore {
  return new GuardedDocumentStore(store, breakers.get(owner, dependency));
}

export type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/** A setting the function cannot run without; names it when missing or malformed. */
export function required(env: ConsumerEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function jsonRecord(env: ConsumerEnv, name: string): Record<string, string> {
  const raw = required(env, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`environment variable ${name} is not JSON`);
  }
  if (
    !parsed ||
    typeof parsed !== 'object' ||
    Object.values(parsed).some((v) => typeof v !== 'string')
  )
    throw new Error(`environment variable ${name} must map names to strings`);
  return parsed as Record<string, string>;
}

/** What a stream consumer's function does with the events it is delivered. */
export interface ConsumerEffect {
  readonly apply: (events: readonly EventEnvelope[]) => Promise<unknown>;
  /** The events its effect reads; streams with none of them are left alone. @default all */
  readonly reads?: (event: EventEnvelope) => boolean;
  /** First events that write no position (see `SequencerOptions.skipFirstPositions`). */
  readonly skipFirstPositions?: SequencerOptions['skipFirstPositions'];
}

/**
 * A stream consumer as its function builds it from its environment (`CONSUMER`, its positions
 * in `POSITIONS_TABLE`, the events of `EVENTS_TABLE`), `effect` applied through its sequencer:
 * what its Kinesis handler delivers to, and what a redrive applies a letter's events through.
 */
export function awsConsumer(
  env: ConsumerEnv,
  client: DynamoDBClient,
  effect: ConsumerEffect,
): RedrivableConsumer & { readonly registry: SchemaRegistry } {
  const name = required(env, 'CONSUMER');
  const registry = SchemaRegistry.fromDirectory();
  const store = deployedEventStore(env, {
    client,
    table: required(env, 'EVENTS_TABLE'),
    registry,
  });
  const positions = new DynamoPositionStore(client, name, required(env, 'POSITIONS_TABLE'));
  const sequencer = new AggregateSequencer({
    consumer: name,
    store,
    positions,
    apply: effect.apply,
    ...(effect.reads ? { reads: effect.reads } : {}),
    ...(effect.skipFirstPositions ? { skipFirstPositions: effect.skipFirstPositions } : {}),
  });
  return { name, positions, sequencer, registry };
}

/** The Kinesis handler of one consumer with `apply` as its effect. */
export function consumerHandler(
  env: ConsumerEnv,
  client: DynamoDBClient,
  effect: ConsumerEffect,
  observer: ConsumerObserver,
): KinesisHandler {
  const { name, registry, sequencer } = awsConsumer(env, client, effect);
  return createKinesisHandler({
    consumer: name,
    codec: new CommitCodec(registry),
    sequencer,
    onFailure: (record, error) => observer.failed?.(record, error),
    onHeld: (_record, held) => observer.held?.(held),
    // Waits for a breaker's trial within the invocation while it leaves time for the trial:
    // a Kinesis retry counts against the mapping's attempts, a wait here does not.
    ...(observer.remainingMs
      ? { holdWithinMs: () => (observer.remainingMs?.() ?? 0) - HOLD_MARGIN_MS }
      : {}),
    onDelivery: (d) => observer.delivered?.(d.applied, d.duplicates, d.filled, d.skipped),
  });
}

/** A document store for every read model, in the table `READ_MODEL_TABLES` names for it. */
export function readModelStoreMap(
  env: ConsumerEnv,
  client: DynamoDBClient,
): Map<string, DynamoDocumentStore> {
  const tables = jsonRecord(env, 'READ_MODEL_TABLES');
  return new Map(
    READ_MODELS.map((projection) => {
      const table = tables[projection.name];
      if (!table) throw new Error(`READ_MODEL_TABLES names no table for ${projection.name}`);
      return [projection.name, new DynamoDocumentStore(client, table)];
    }),
  );
}

/** Every read model, each in the table `READ_MODEL_TABLES` names for it. */
export function readModelsEffect(
  env: ConsumerEnv,
  client: DynamoDBClient,
  observer: ConsumerObserver = {},
): ConsumerEffect {
  const stores = readModelStoreMap(env, client);
  const breakers = awsBreakers(env, client, observer);
  const consumer = required(env, 'CONSUMER');
  const projectors = READ_MODELS.map(
    (projection) =>
      new Projector(
        projection,
        guarded(
          breakers,
          consumer,
          'read-model-tables',
          stores.get(projection.name) as DynamoDocumentStore,
        ),
      ),
  );
  const host = new ProjectionHost(projectors);
  return { apply: (events) => host.apply(events), skipFirstPositions: host.guardsRepeats };
}

/** The read-models consumer: every read model, each in the table `READ_MODEL_TABLES` names. */
export function readModelsHandler(
  env: ConsumerEnv,
  client: DynamoDBClient,
  observer: ConsumerObserver = {},
): KinesisHandler {
  return consumerHandler(env, client, readModelsEffect(env, client, observer), observer);
}

/** The domain buses by domain, as `BUS_NAMES` names them. */
export function busNamesOf(env: ConsumerEnv): Record<Domain, string> {
  const names = jsonRecord(env, 'BUS_NAMES');
  return Object.fromEntries(
    DOMAINS.map((d) => {
      const name = names[d];
      if (!name) throw new Error(`BUS_NAMES names no bus for ${d}`);
      return [d, name];
    }),
  ) as Record<Domain, string>;
}

/** Every event onto its domain bus; entries EventBridge keeps refusing are dead-lettered. */
export function busRouterEffect(
  env: ConsumerEnv,
  clients: { dynamo: DynamoDBClient; eventBridge: EventBridgeClient },
  observer: ConsumerObserver = {},
): ConsumerEffect {
  const publisher = new EventBridgePublisher({
    client: clients.eventBridge,
    buses: busNamesOf(env),
    breaker: awsBreakers(env, clients.dynamo, observer).get(
      required(env, 'CONSUMER'),
      'put-events',
    ),
    deadLetters: new DynamoDeadLetterQueue(clients.dynamo, required(env, 'DEAD_LETTERS_TABLE')),
  });
  const counted = {
    async publish(entries: Parameters<EventBridgePublisher['publish']>[0]) {
      const result = await publisher.publish(entries);
      observer.published?.(result.published, result.deadLettered);
      return result;
    },
  };
  return { apply: busRouter(counted), skipFirstPositions: routedWithoutPosition };
}

/** The bus router: the change stream onto the domain buses (see `busRouterEffect`). */
export function busRouterHandler(
  env: ConsumerEnv,
  clients: { dynamo: DynamoDBClient; eventBridge: EventBridgeClient },
  observer: ConsumerObserver = {},
): KinesisHandler {
  return consumerHandler(env, clients.dynamo, busRouterEffect(env, clients, observer), observer);
}
