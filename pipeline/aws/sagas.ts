import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type HealthFigures, QueryService, type ReadModelStores } from '../../api/QueryService.js';
import { DEFAULT_PROFILE_NAME, PROFILES } from '../../domain/rpi/RpiProfile.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { generationConsumer } from '../../projections/ReadModelRegistry.js';
import { BUS_HANDLERS, type BusHandlerName } from '../../sagas/handlers/busHandlers.js';
import { ABANDON_GRACE_MS } from '../../sagas/SagaCoordinator.js';
import { SagaServices, type SagaServicesOptions } from '../../sagas/SagaServices.js';
import { isSagaEvent } from '../../sagas/sagaState.js';
import { activeSagaIds } from '../../sagas/sagasReadModel.js';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { sqsClient } from '../../stream/aws/sqsClient.js';
import { DynamoBreakerStateStore, sharedSnapshot } from '../../stream/breaker/BreakerStateStore.js';
import type { CircuitBreakers } from '../../stream/breaker/CircuitBreakers.js';
import { heldBy } from '../../stream/breaker/DependencyUnavailable.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';
import { DynamoDeadLetterQueue, total } from '../../stream/consumer/DeadLetterQueue.js';
import { READ_MODELS } from '../readModels.js';
import { deployedEventStore } from '../seasons.js';
import { tableSize } from '../tableSize.js';
import { CONSUMER_NAMES, cloudWatchConsumerSamples } from './consumerMetrics.js';
import {
  awsBreakers,
  type ConsumerEffect,
  type ConsumerEnv,
  type ConsumerObserver,
  consumerHandler,
  guarded,
  HOLD_MARGIN_MS,
  jsonRecord,
  type KinesisHandler,
  readModelStoreMap,
  required,
} from './consumers.js';
import { deployedDeadLetters } from './deployedDeadLetters.js';
import { activeReadModelStores, registryOnAws } from './generations.js';
import { SweepLease } from './sweepLease.js';

/** The tables of the saga side, as `SAGA_TABLES` names them (JSON). */
const SAGA_TABLE_ROLES = ['work', 'directory', 'cache', 'notifications'] as const;

/**
 * Longest a saga function sleeps through itself for one saga, in one wait or several, rather
 * than leaving it to the sweep.
 */
export const MAX_INLINE_WAIT_MS = 30_000;

/**
 * Whether a saga function sleeps through a wait of `waitMs` itself: when the wait and the
 * longest step (with its grace) still fit in the invocation's `leftMs` (unknown: never), and
 * while this drive of the saga has not slept `MAX_INLINE_WAIT_MS` in all. A start deferred
 * again and again while results keep arriving is then left to the sweep, rather than slept
 * through for a minute while the shard's other saga events wait.
 */
export function sleepsInPlace(
  waitMs: number,
  sleptMs: number,
  leftMs: number | undefined,
  longestStepMs: number,
): boolean {
  return (
    leftMs !== undefined &&
    sleptMs + waitMs <= MAX_INLINE_WAIT_MS &&
    waitMs + longestStepMs < leftMs
  );
}

/** What a saga function reports (the entry point turns it into logs and metrics). */
export interface SagaObserver extends ConsumerObserver {
  /** Each saga event the coordinator appended (`SagaCompleted`, `SagaCompensated`, ...). */
  sagaEvent?(sagaId: string, eventType: string): void;
  /** Failures of the coordinator itself (a step's failure is a saga event instead). */
  error?(error: Error): void;
}

export interface SagaRuntimeOptions {
  /**
   * Time left to this invocation (ms): a saga sleeps through a wait only when the wait and the
   * longest step still fit in it. Absent: never sleeps (the sweep wakes the saga).
   */
  readonly remainingMs?: () => number;
  readonly observer?: SagaObserver;
  /** The sagas' clock (debounces, waits, timeouts). @default Date.now */
  readonly now?: () => number;
  /**
   * Who guards the saga side's tables with circuit breakers (`sagas` for the saga consumer and
   * the sweep, a bus handler's rule name for its function), their state in `BREAKERS_TABLE`.
   * Absent: no breakers (the API function).
   */
  readonly owner?: string;
}

/**
 * The saga side on AWS, from the function's environment: `EVENTS_TABLE`, `READ_MODEL_TABLES`
 * (the first generations) and `REGISTRY_TABLE` (which generation is active),
 * `SAGA_TABLES` (JSON: work, directory, cache, notifications → table), and optionally
 * `RPI_PROFILE`, `RPI_DIVISION`, `DEBOUNCE_MS`, `DEBOUNCE_MAX_MS` for automatic
 * recalculations. Sagas started here are not driven here: their `SagaStarted` reaches the
 * saga consumer through the stream.
 */
export function awsSagaServices(
  env: ConsumerEnv,
  client: DynamoDBClient,
  options: SagaRuntimeOptions = {},
): {
  services: SagaServices;
  readModels: ReadModelStores;
  sagaStores: Record<(typeof SAGA_TABLE_ROLES)[number], DynamoDocumentStore>;
} {
  const tables = jsonRecord(env, 'SAGA_TABLES');
  const saga = Object.fromEntries(
    SAGA_TABLE_ROLES.map((role) => {
      const table = tables[role];
      if (!table) throw new Error(`SAGA_TABLES names no table for ${role}`);
      return [role, new DynamoDocumentStore(client, table)];
    }),
  ) as Record<(typeof SAGA_TABLE_ROLES)[number], DynamoDocumentStore>;
  // The active generation of each read model once the stack has a registry (rebuilds switch it).
  const readModels = Object.fromEntries(
    env.REGISTRY_TABLE ? activeReadModelStores(env, client) : readModelStoreMap(env, client),
  ) as unknown as ReadModelStores;
  const registry = SchemaRegistry.fromDirectory();
  const store = deployedEventStore(env, {
    client,
    table: required(env, 'EVENTS_TABLE'),
    registry,
  });
  const profile = env.RPI_PROFILE || DEFAULT_PROFILE_NAME;
  if (!PROFILES.has(profile))
    throw new Error(
      `environment variable RPI_PROFILE: no profile "${profile}" (${[...PROFILES.keys()].join(', ')})`,
    );
  const milliseconds = (name: string, fallback: number) => {
    const value = env[name] ? Number(env[name]) : fallback;
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`environment variable ${name} must be a whole number of milliseconds`);
    return value;
  };
  const debounce = milliseconds('DEBOUNCE_MS', 1000);
  const debounceMax = milliseconds('DEBOUNCE_MAX_MS', 60_000);
  const remaining = options.remainingMs;
  const observer = options.observer;
  const now = options.now ?? Date.now;
  const owner = options.owner;
  const breakers = owner ? awsBreakers(env, client, observer ?? {}) : undefined;
  const guard = (
    dependency: Parameters<CircuitBreakers['get']>[1],
    store: DocumentStore,
  ): DocumentStore => (breakers && owner ? guarded(breakers, owner, dependency, store) : store);
  const serviceOptions: SagaServicesOptions = {
    store,
    registry,
    stores: {
      matches: guard('read-model-tables', readModels.matches),
      directory: guard('team-directory', saga.directory),
      work: guard('saga-work', saga.work),
      cache: guard('rankings-cache', saga.cache),
      notifications: guard('notifications', saga.notifications),
    },
    activeSagas: () => activeSagaIds(readModels.sagas),
    profile,
    division: env.RPI_DIVISION || null,
    debounceMs: debounce,
    debounceMaxMs: debounceMax,
    driveOnBegin: false,
    ...(options.now ? { now: options.now } : {}),
    wake: (until, slept) => sleepsInPlace(until - now(), slept, remaining?.(), longestStep()),
    ...(observer?.sagaEvent
      ? { onEvent: (id: string, type: string) => observer.sagaEvent?.(id, type) }
      : {}),
    ...(observer?.error ? { onError: (e: Error) => observer.error?.(e) } : {}),
  };
  const services = new SagaServices(serviceOptions);
  const longestStep = () =>
    Math.max(...services.definition.steps.map((step) => step.timeoutMs)) + ABANDON_GRACE_MS;
  return { services, readModels, sagaStores: saga };
}

/**
 * The saga consumer's effect: every saga event on the change stream drives its saga to rest
 * (steps run here, waits of up to `MAX_INLINE_WAIT_MS` are slept through); a saga left waiting
 * longer, or whose function died mid-step, is driven by the sweep.
 */
export function sagaConsumerEffect(
  env: ConsumerEnv,
  client: DynamoDBClient,
  options: SagaRuntimeOptions = {},
): ConsumerEffect {
  const { services } = awsSagaServices(env, client, { owner: 'sagas', ...options });
  return {
    apply: async (events) => {
      await services.drive(events);
    },
    reads: isSagaEvent,
  };
}

/** The saga consumer's Kinesis handler (see `sagaConsumerEffect`). */
export function sagaConsumerHandler(
  env: ConsumerEnv,
  client: DynamoDBClient,
  options: SagaRuntimeOptions = {},
): KinesisHandler {
  return consumerHandler(
    env,
    client,
    sagaConsumerEffect(env, client, options),
    options.observer ?? {},
  );
}

/** How long a sweep's lease holds when the invocation's time left is not known (ms). */
export const SWEEP_LEASE_MS = 5 * 60_000;

/** What a sweep did: how many sagas it drove, or nothing because another sweep held the lease. */
export interface SweepResult {
  readonly driven: number;
  readonly skipped?: 'lease-held';
}

/**
 * The scheduled sweep: drives every running or compensating saga once, to rest, one sweep at a
 * time through a lease in the work table (see `SweepLease`). The lease lasts as long as the
 * invocation may run, so a sweep that dies is replaced once its function would have timed out.
 */
export function sagaSweepHandler(
  env: ConsumerEnv,
  client: DynamoDBClient,
  options: SagaRuntimeOptions = {},
): () => Promise<SweepResult> {
  const { services, sagaStores } = awsSagaServices(env, client, { owner: 'sagas', ...options });
  return async () => {
    const lease = await new SweepLease(client, sagaStores.work.table, {
      durationMs: options.remainingMs?.() ?? SWEEP_LEASE_MS,
      ...(options.now ? { now: options.now } : {}),
    }).acquire();
    if (!lease) return { driven: 0, skipped: 'lease-held' };
    try {
      return { driven: await services.sweepOnce() };
    } finally {
      await lease.release();
    }
  };
}

/** One bus handler as an EventBridge target (the event is delivered as the bus holds it). */
export function busEventHandler(
  name: BusHandlerName,
  env: ConsumerEnv,
  client: DynamoDBClient,
  options: SagaRuntimeOptions = {},
): (event: BusEvent) => Promise<void> {
  const owner = BUS_HANDLERS[name].rule;
  const { services } = awsSagaServices(env, client, { owner, ...options });
  const handle = services.handlers[name].handle;
  const remaining = options.remainingMs;
  return async (event) => {
    if (typeof event !== 'object' || event === null || !('detail' in event))
      throw new Error('not an EventBridge event: no detail');
    for (;;) {
      try {
        await handle(event);
        return;
      } catch (error) {
        // A breaker is open: wait for its trial here while the invocation leaves time for it;
        // else fail, and Lambda's retries of the asynchronous invocation take it from there.
        const held = heldBy(error);
        if (!held) throw error;
        options.observer?.held?.(held);
        const wait = Math.max(0, held.retryAt - Date.now());
        if (!remaining || wait >= remaining() - HOLD_MARGIN_MS) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };
}

/** The clients the query API uses beside DynamoDB's; each made from the environment if not given. */
export interface QueryClients {
  readonly cloudWatch?: CloudWatchClient;
  readonly cloudFormation?: CloudFormationClient;
  readonly s3?: S3Client;
  readonly sqs?: SQSClient;
}

/**
 * How long the API function keeps an answer worked out from a whole season (standings, a
 * team's weeks): the windows are 5 s of the clock, so an answer is at most 5 s older than the
 * read models it was worked out from, themselves a second or two behind the store.
 */
export const AWS_ANSWERS_KEPT_MS = 5_000;

/**
 * The query service of the API function: the read models, the rankings cache, the
 * notifications, and `POST /sagas` appending `SagaStarted` (the saga consumer runs it). The
 * health figures count the dead letters from their counters (one query, never a scan of the
 * letters: the route is public); consumer lag is the `IteratorAge` on the dashboard. With
 * `STACK_NAME`, `GET /dead-letters` lists the places the stack's output names.
 */
export function awsQueryService(
  env: ConsumerEnv,
  client: DynamoDBClient,
  clients: QueryClients = {},
  options: { readonly now?: () => number } = {},
): QueryService {
  const now = options.now ?? Date.now;
  const cloudWatch = clients.cloudWatch ?? new CloudWatchClient(clientConfig({}));
  const { services, readModels, sagaStores } = awsSagaServices(env, client);
  const deadLetters = new DynamoDeadLetterQueue(client, required(env, 'DEAD_LETTERS_TABLE'));
  const breakers = new DynamoBreakerStateStore(client, required(env, 'BREAKERS_TABLE'));
  const health = async (): Promise<HealthFigures> => ({
    consumers: [],
    dead_letters: total(await deadLetters.counts()),
    breakers: (await breakers.list()).map(sharedSnapshot),
  });
  const registry = env.REGISTRY_TABLE ? registryOnAws(env, client) : undefined;
  return new QueryService(readModels, health, {
    cache: sagaStores.cache,
    notifications: sagaStores.notifications,
    startSaga: (request) => services.startSaga(request),
    current: { profile: services.profile, division: services.division },
    timeline: (sagaId) => services.timeline(sagaId),
    schemas: services.schemas,
    storeSize: () => tableSize(client, required(env, 'EVENTS_TABLE')),
    // The read models are written by other functions, which this one cannot hear: a
    // whole-season answer is kept for the rest of the 5 s it was worked out in.
    readSideVersion: () => Math.floor(now() / AWS_ANSWERS_KEPT_MS),
    ...(registry
      ? { readModels: () => Promise.all(READ_MODELS.map((p) => registry.entry(p))) }
      : {}),
    // The places the stack keeps failures, named by its output (`STACK_NAME` set by the stack).
    ...(env.STACK_NAME
      ? {
          deadLetters: deployedDeadLetters(env.STACK_NAME, {
            dynamo: client,
            s3: clients.s3 ?? s3Client(),
            sqs: clients.sqs ?? sqsClient(),
            cloudFormation: clients.cloudFormation ?? new CloudFormationClient(clientConfig({})),
          }),
        }
      : {}),
    consumerHistory: cloudWatchConsumerSamples(cloudWatch, async () => {
      // The stream's consumers, and the feeder of each generation a rebuild keeps current.
      const entries = registry ? await Promise.all(READ_MODELS.map((p) => registry.entry(p))) : [];
      return [
        ...CONSUMER_NAMES,
        ...entries.flatMap((e) =>
          e.generations
            .filter((g) => g.generation > 1 && g.status !== 'dropped')
            .map((g) => generationConsumer(e.name, g.generation)),
        ),
      ];
    }),
  });
}
