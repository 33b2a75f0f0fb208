import type { HealthFigures, ReadModelStores } from '../api/QueryService.js';
import { QueryService } from '../api/QueryService.js';
import { DEFAULT_PROFILE_NAME } from '../domain/rpi/RpiProfile.js';
import { ActiveDocumentStore } from '../projections/ActiveDocumentStore.js';
import type { DocumentStore } from '../projections/DocumentStore.js';
import { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import { GuardedDocumentStore } from '../projections/GuardedDocumentStore.js';
import type { Projection } from '../projections/Projection.js';
import { ProjectionHost } from '../projections/ProjectionHost.js';
import { Projector } from '../projections/Projector.js';
import {
  generationConsumer,
  READ_MODEL_TABLE_PREFIX,
  REGISTRY_TABLE,
  ReadModelRegistry,
} from '../projections/ReadModelRegistry.js';
import type { FaultPlan } from '../sagas/faults.js';
import { NOTIFICATIONS_TABLE } from '../sagas/handlers/notifications.js';
import { RANKINGS_CACHE_TABLE } from '../sagas/rpi/rankingsCache.js';
import { SAGA_STREAM_PREFIX } from '../sagas/SagaCoordinator.js';
import { SagaServices, type SagaStores } from '../sagas/SagaServices.js';
import { isSagaEvent } from '../sagas/sagaState.js';
import { activeSagaIds } from '../sagas/sagasReadModel.js';
import type { SagaEventType } from '../schemas/events.js';
import type { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { BREAKERS_TABLE, DynamoBreakerStateStore } from '../stream/breaker/BreakerStateStore.js';
import type { BreakerSettings, BreakerTransition } from '../stream/breaker/CircuitBreaker.js';
import { CircuitBreakers, type Dependency } from '../stream/breaker/CircuitBreakers.js';
import { busRouter, type RouterCounts, routedWithoutPosition } from '../stream/buses/busRouter.js';
import { changesOfStreamsStartingWith } from '../stream/changes/ChangeRecord.js';
import { DEAD_LETTERS_TABLE, total } from '../stream/consumer/DeadLetterQueue.js';
import { type EventEnvelope, unhandled } from '../stream/EventEnvelope.js';
import type { Log } from '../stream/Log.js';
import {
  EmbeddedRuntime,
  type EmbeddedRuntimeOptions,
  logRecovered,
} from '../stream/local/EmbeddedRuntime.js';
import type { EventSourceMapping } from '../stream/local/EventSourceMapping.js';
import { storeDir } from '../stream/local/openEventStore.js';
import { TimeToLive, type TtlTable } from '../stream/local/TimeToLive.js';
import { busLiveFeed } from './liveFeed.js';
import { log } from './logging.js';
import { READ_MODELS } from './readModels.js';
import { folderSize } from './tableSize.js';

export interface PipelineOptions {
  readonly memory?: boolean;
  readonly dataDir?: string;
  readonly onError?: (error: Error) => void;
  /** Steps of the RPI saga to fail on purpose. */
  readonly faults?: FaultPlan;
  /**
   * Starts with the sagas held (see `SagaServices.hold`): none moves, neither for the sweep nor
   * for the stream, until `sagas.release()`. For a caller that must see where the sagas stood
   * before the pipeline touched them (`saga resume`). @default false
   */
  readonly holdSagas?: boolean;
  /**
   * Holds the sagas while the pipeline catches up with what its stream holds when it starts,
   * and releases them once it has (`caughtUp`). A folder ingested into while no pipeline ran
   * holds results the buses have not carried: each asks for its season's recalculation as
   * the bus router catches up, and without the hold the debounce starts a saga a second, each
   * rating the part of the season routed by then (five calculations, five publications, for
   * a 400-team season caught up by `saga start rpi`). Held, the requests fall to one saga per
   * season, waiting, which rates all of it once released, as `start` does for its feed.
   * Sagas started meanwhile (by a request to the API) wait for the release too. Not with
   * `holdSagas`, whose caller releases the sagas itself. @default false
   */
  readonly catchUpHeld?: boolean;
  /**
   * Whether the bus router polls from the start. False starts the pipeline with it disabled
   * (the buses carry nothing until `router.enable()`): a caller that holds the buses while a
   * season goes in asks for it here, since a router disabled only after the start may already
   * have routed part of what the folder held, and the handlers asked for a recalculation.
   * @default true
   */
  readonly routerEnabled?: boolean;
  /** Profile and division of automatic recalculations. */
  readonly profile?: string;
  readonly division?: string | null;
  /** How long an automatic recalculation waits for more results. @default 1000 */
  readonly debounceMs?: number;
  /**
   * How long after its first request an automatic recalculation may wait while results keep
   * arriving. @default 60000
   */
  readonly debounceMaxMs?: number;
  /**
   * The sagas' clock (debounces, waits, timeouts) and the one items expire by, for tests.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * How often expired items are deleted from the tables that have a TTL on AWS (see
   * `EXPIRING_TABLES`): the first sweep when the pipeline starts, the next this long after
   * each ends. 0: never. @default 3_600_000
   */
  readonly ttlSweepMs?: number;
  /**
   * How long a saga's collect attempt waits for the matches read model to apply the changes it
   * must count, before the attempt fails and is retried. @default 10000
   */
  readonly catchUpMs?: number;
  /** The schemas events are written and read with. @default the project's schemas */
  readonly schemas?: SchemaRegistry;
  /** The read models to keep. @default READ_MODELS */
  readonly readModels?: readonly Projection[];
  /** Called with each AWS client of the runtime before use (see `EmbeddedRuntimeOptions`). */
  readonly configureClient?: EmbeddedRuntimeOptions['configureClient'];
  /**
   * How long a consumer waits before retrying a failed batch, times the attempt.
   * @default 100
   */
  readonly retryDelayMs?: number;
  /** Each saga event once the coordinator has seen it on the stream (to show a saga's steps). */
  readonly onSagaEvent?: (event: EventEnvelope<SagaEventType>) => void;
  /** Where the runtime and the sagas say what happened. @default the command's log */
  readonly log?: Log;
  /**
   * The archive whose expired seasons the store reads as its own. @default the data
   * folder's archive; none in memory
   */
  readonly archive?: EmbeddedRuntimeOptions['archive'];
  /** When the circuit breakers open and for how long. @default DEFAULT_BREAKER_SETTINGS */
  readonly breakers?: Partial<BreakerSettings>;
}

/** Tables of the saga side (besides the read models). */
export const SAGA_TABLES = {
  work: 'matchstream-saga-work',
  directory: 'matchstream-team-directory',
  notifications: NOTIFICATIONS_TABLE,
  cache: RANKINGS_CACHE_TABLE,
} as const;

/**
 * The tables whose items expire, by `expires_at` (epoch seconds): those the stack gives a TTL
 * (`infra/MatchstreamStack.ts`). dynalite has no TTL; the pipeline sweeps them itself.
 */
export const EXPIRING_TABLES: readonly TtlTable[] = [
  DEAD_LETTERS_TABLE,
  BREAKERS_TABLE,
  SAGA_TABLES.work,
  SAGA_TABLES.notifications,
].map((table) => ({ table, attribute: 'expires_at' }));

/** The embedded runtime with every read model and the bus router consuming the stream. */
export interface EmbeddedPipeline {
  readonly runtime: EmbeddedRuntime;
  readonly stores: ReadModelStores;
  /** Events published, per bus. */
  readonly published: RouterCounts;
  readonly queries: QueryService;
  /** The saga coordinator, the recalculation requests and the bus handlers. */
  readonly sagas: SagaServices;
  readonly sagaStores: SagaStores;
  /** Which generation of each read model is active. */
  readonly registry: ReadModelRegistry;
  /**
   * The bus router's event source mapping: disabled, the stream holds what the buses would
   * carry (as disabling a mapping for a bulk load on AWS does); enabled, it catches up.
   */
  readonly router: EventSourceMapping;
  /** The circuit breakers around the consumers' and handlers' dependencies. */
  readonly breakers: CircuitBreakers;
  /**
   * With `catchUpHeld`: resolves once the pipeline has caught up with what the stream held
   * (`runtime.settle`) and the sagas are released; rejects as that settle does (the sagas are
   * released all the same, unless the pipeline is stopping). Without it, resolved.
   */
  readonly caughtUp: Promise<void>;
  /** The document store of a table (opened, created if missing). */
  tableStore(table: string): Promise<DynamoDocumentStore>;
  /** Makes the queries read each model's active generation now (after a switch). */
  refreshReadModels(): void;
  stop(): Promise<void>;
}

/** The consumer that feeds every read model (see `ProjectionHost`). */
export const READ_MODELS_CONSUMER = 'read-models';

/** The consumer that publishes the stream onto the domain buses. */
export const BUS_ROUTER_CONSUMER = 'bus-router';

/** The consumer that drives the sagas from their events on the stream. */
export const SAGAS_CONSUMER = 'sagas';

/**
 * A saga's moves in the log: failures and compensations as warnings (a compensation that
 * failed as an error), the rest at info and debug. Names and error messages only, never the
 * saga's data.
 */
function logSagaEvent(logger: Log, event: EventEnvelope<SagaEventType>): void {
  switch (event.event_type) {
    case 'SagaStarted':
      logger.info({ saga_id: event.data.saga_id, type: event.data.saga_type }, 'saga started');
      return;
    case 'SagaStepStarted':
    case 'SagaStepCompleted': {
      const { saga_id, step_name, attempt } = event.data;
      logger.debug(
        { saga_id, step: step_name, attempt, event_type: event.event_type },
        'saga moved',
      );
      return;
    }
    case 'SagaStepFailed': {
      const { saga_id, step_name, attempt, error, will_retry } = event.data;
      logger.warn({ saga_id, step: step_name, attempt, error, will_retry }, 'saga step failed');
      return;
    }
    case 'SagaStepHeld': {
      const { saga_id, step_name, attempt, compensation, breaker, retry_at } = event.data;
      logger.info(
        { saga_id, step: step_name, attempt, compensation, breaker, retry_at },
        'saga step held',
      );
      return;
    }
    case 'SagaCompensationCompleted': {
      const { saga_id, step_name, attempt } = event.data;
      logger.warn({ saga_id, step: step_name, attempt }, 'saga step compensated');
      return;
    }
    case 'SagaCompensationFailed': {
      const { saga_id, step_name, attempt, error, will_retry } = event.data;
      logger.error(
        { saga_id, step: step_name, attempt, error, will_retry },
        'saga compensation failed',
      );
      return;
    }
    case 'SagaCompleted':
      logger.info({ saga_id: event.data.saga_id }, 'saga completed');
      return;
    case 'SagaCompensated': {
      const { saga_id, error, failed_step } = event.data;
      logger.warn({ saga_id, error, failed_step }, 'saga compensated');
      return;
    }
    default:
      unhandled(event);
  }
}

/** A breaker's transitions in the log: opening as a warning, the rest at info. */
function logBreaker(logger: Log, t: BreakerTransition): void {
  switch (t.kind) {
    case 'opened':
      logger.warn(
        { breaker: t.name, reason: t.reason, shared: t.shared },
        'circuit breaker opened: work that needs it is held',
      );
      return;
    case 'reopened':
      logger.warn({ breaker: t.name, reason: t.reason }, 'circuit breaker trial failed');
      return;
    case 'half-open':
      logger.info({ breaker: t.name }, 'circuit breaker half-open: one trial call');
      return;
    case 'closed':
      logger.info(
        { breaker: t.name, open_ms: t.openMs, shared: t.shared },
        'circuit breaker closed',
      );
      return;
    default:
      unhandled(t);
  }
}

/** How the tables of every generation of a read model begin (`generationTable`). */
const tablesOf = (projection: { readonly name: string }) =>
  `${READ_MODEL_TABLE_PREFIX}${projection.name}-`;

/**
 * Starts the whole pipeline in this process: dynalite, kinesalite, the relay, the read-model
 * consumer (every read model, each in its own table) and the bus router onto the domain buses.
 */
export async function startPipeline(options: PipelineOptions): Promise<EmbeddedPipeline> {
  const logger = options.log ?? log();
  const runtime = await EmbeddedRuntime.start({
    ...(options.memory ? { memory: true } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    log: logger,
    ...(options.schemas ? { registry: options.schemas } : {}),
    ...(options.configureClient ? { configureClient: options.configureClient } : {}),
    ...(options.archive ? { archive: options.archive } : {}),
    // Each read model's tables, and the generations' registry: what the queries' memo watches.
    countWritesTo: [...(options.readModels ?? READ_MODELS).map(tablesOf), REGISTRY_TABLE],
    consumerDefaults: {
      batchSize: 500,
      pollIntervalMs: 20,
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    },
  });
  const breakers = new CircuitBreakers({
    shared: new DynamoBreakerStateStore(runtime.dynamo),
    ...(options.breakers ? { settings: options.breakers } : {}),
    onTransition: (t) => logBreaker(logger, t),
    onError: (error) => {
      logRecovered(logger, { component: 'breakers' }, error);
      runtime.noteError(error);
    },
  });
  const guard = (store: DocumentStore, owner: string, dependency: Dependency): DocumentStore =>
    new GuardedDocumentStore(store, breakers.get(owner, dependency));
  const registry = new ReadModelRegistry(
    await DynamoDocumentStore.open(runtime.dynamo, REGISTRY_TABLE),
  );
  // Each table opened once (its store shared), the opening under way shared too; one that
  // failed is tried again by the next caller.
  const tables = new Map<string, Promise<DynamoDocumentStore>>();
  const tableStore = (table: string): Promise<DynamoDocumentStore> => {
    let store = tables.get(table);
    if (!store) {
      store = DynamoDocumentStore.open(runtime.dynamo, table);
      tables.set(table, store);
      store.catch(() => tables.delete(table));
    }
    return store;
  };
  // Queries read each model's active generation; every live generation is kept current: the
  // first by the shared read-models consumer, each later one by a consumer of its own. The
  // read models' tables are opened together (each an independent round trip or two), then
  // listed in the order of the read models.
  const projections = options.readModels ?? READ_MODELS;
  const stores: Record<string, ActiveDocumentStore> = {};
  for (const projection of projections)
    stores[projection.name] = new ActiveDocumentStore(async () =>
      tableStore((await registry.active(projection)).table),
    );
  const live = await Promise.all(
    projections.map(async (projection) => {
      const entry = await registry.ensure(projection);
      return Promise.all(
        entry.generations
          .filter((g) => g.status === 'live')
          .map(async (g) => {
            const consumer =
              g.generation === 1
                ? READ_MODELS_CONSUMER
                : generationConsumer(projection.name, g.generation);
            const store = guard(await tableStore(g.table), consumer, 'read-model-tables');
            return {
              generation: g.generation,
              consumer,
              projector: new Projector(projection, store),
            };
          }),
      );
    }),
  );
  const projectors = live.flat().flatMap((g) => (g.generation === 1 ? [g.projector] : []));
  const generationConsumers = live
    .flat()
    .flatMap((g) => (g.generation === 1 ? [] : [{ name: g.consumer, projector: g.projector }]));
  const host = new ProjectionHost(projectors);
  await runtime.addConsumer(READ_MODELS_CONSUMER, (events) => host.apply(events), {
    skipFirstPositions: host.guardsRepeats,
  });
  for (const c of generationConsumers)
    await runtime.addConsumer(c.name, (events) => c.projector.apply(events), {
      reads: (event) => c.projector.reads(event),
      skipFirstPositions: c.projector.projection.guardsRepeats === true,
    });
  const open = (table: string) => DynamoDocumentStore.open(runtime.dynamo, table);
  const [directory, work, cache, notifications] = await Promise.all([
    open(SAGA_TABLES.directory),
    open(SAGA_TABLES.work),
    open(SAGA_TABLES.cache),
    open(SAGA_TABLES.notifications),
  ]);
  const expiry = new TimeToLive({
    client: runtime.dynamo,
    tables: EXPIRING_TABLES,
    ...(options.ttlSweepMs ? { intervalMs: options.ttlSweepMs } : {}),
    ...(options.now ? { now: options.now } : {}),
    log: logger,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  if (options.ttlSweepMs !== 0) expiry.start();
  const sagaStores = {
    matches: stores.matches as ActiveDocumentStore,
    directory,
    work,
    cache,
    notifications,
  };
  const sagaStatus = stores.sagas as ActiveDocumentStore;
  // The sagas and their handlers go through breakers; the queries read the same tables bare.
  const sagas = new SagaServices({
    store: runtime.store,
    registry: runtime.registry,
    stores: {
      matches: guard(sagaStores.matches, 'sagas', 'read-model-tables'),
      directory: guard(sagaStores.directory, 'sagas', 'team-directory'),
      work: guard(sagaStores.work, 'sagas', 'saga-work'),
      cache: guard(sagaStores.cache, 'sagas', 'rankings-cache'),
      notifications: guard(sagaStores.notifications, 'sagas', 'notifications'),
    },
    activeSagas: () => activeSagaIds(sagaStatus),
    profile: options.profile ?? DEFAULT_PROFILE_NAME,
    division: options.division ?? null,
    debounceMs: options.debounceMs ?? 1000,
    ...(options.debounceMaxMs !== undefined ? { debounceMaxMs: options.debounceMaxMs } : {}),
    sweepIntervalMs: 2000,
    ...(options.now ? { now: options.now } : {}),
    ...(options.catchUpMs !== undefined ? { catchUpMs: options.catchUpMs } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    onError: (error) => {
      logRecovered(logger, { component: 'sagas' }, error);
      runtime.noteError(error);
      options.onError?.(error);
    },
  });
  // Before anything can drive a saga: the bus handlers, the saga consumer and the sweep.
  if (options.holdSagas || options.catchUpHeld) await sagas.hold();
  for (const rule of sagas.rules()) {
    runtime.buses[rule.bus].register({
      name: rule.name,
      pattern: rule.pattern,
      handler: rule.handler,
    });
  }
  // The coordinator is driven by saga events arriving from the stream; the streams of other
  // aggregates are left alone (no position written for them).
  await runtime.addConsumer(
    SAGAS_CONSUMER,
    async (events) => {
      await sagas.onEvents(events);
      for (const event of events) {
        if (!isSagaEvent(event)) continue;
        logSagaEvent(logger, event);
        options.onSagaEvent?.(event);
      }
    },
    // Only the sagas' own streams reach it: the mapping's filter holds back every other
    // record before it is decoded, as the deployed mapping's FilterCriteria keeps the
    // function from being invoked for them (`reads` still guards the handler).
    { reads: isSagaEvent, filters: [changesOfStreamsStartingWith(SAGA_STREAM_PREFIX)] },
  );
  sagas.start();
  const published: RouterCounts = {};
  // Batches of a thousand records: catching up (after `start`'s bulk ingest) takes as long
  // as with the 10,000 a Kinesis mapping allows, and the records of a batch, decoded and
  // delivered, are what the process holds at its peak (a 3,000-team season: 548 MB instead
  // of 892, bench/README.md "Reads in place"). The season is still rated once: `start` holds
  // the sagas while the buses catch up, and the handlers' requests fall to the saga waiting.
  // Each batch is routed in two lanes at once, split by stream (each stream's order kept), as
  // the deployed stack's mappings do (parallelization factor 2): one lane left a core idle a
  // third of the time while it waited on its writes. The buses phase of `start` on a
  // 3,000-team season took 11 s in one lane, 9.2-10 s in two and 8.7 s in four, which also
  // held 40-50 MB more (bench/README, "The bus router in two lanes").
  const router = await runtime.addConsumer(
    BUS_ROUTER_CONSUMER,
    busRouter(runtime.publisher, published),
    {
      batchSize: 1_000,
      parallelizationFactor: 2,
      skipFirstPositions: routedWithoutPosition,
      enabled: options.routerEnabled ?? true,
    },
  );
  let stopping = false;
  const caughtUp = options.catchUpHeld
    ? (async () => {
        try {
          await runtime.settle();
        } finally {
          if (!stopping) await sagas.release();
        }
      })()
    : Promise.resolve();
  // A caller that does not wait for it (`serve`) is not told of its failure: the sagas are
  // released all the same, and the pipeline goes on.
  caughtUp.catch(() => {});
  const health = async (): Promise<HealthFigures> => ({
    consumers: [...runtime.consumers].map(([name, c]) => ({
      name,
      lag_ms: Math.max(0, ...Object.values(c.mapping.lag())),
      applied: c.counts.applied,
    })),
    dead_letters: total(await runtime.deadLetters.counts()),
    breakers: breakers.snapshots(),
  });
  const readModels = stores as unknown as ReadModelStores;
  return {
    runtime,
    stores: readModels,
    published,
    queries: new QueryService(readModels, health, {
      cache: sagaStores.cache,
      notifications: sagaStores.notifications,
      startSaga: (request) => sagas.startSaga(request),
      current: { profile: sagas.profile, division: sagas.division },
      live: busLiveFeed(runtime.buses.calculation),
      timeline: (sagaId) => sagas.timeline(sagaId),
      schemas: runtime.store.registry,
      storeSize: async () =>
        options.dataDir ? folderSize(storeDir(options.dataDir)) : { items: null, bytes: null },
      readModels: () =>
        Promise.all((options.readModels ?? READ_MODELS).map((p) => registry.entry(p))),
      readSideVersion: (names) =>
        runtime.writesCounted([...names.map((name) => tablesOf({ name })), REGISTRY_TABLE]),
    }),
    sagas,
    sagaStores,
    registry,
    router,
    breakers,
    tableStore,
    refreshReadModels: () => {
      for (const store of Object.values(stores)) store.refresh();
    },
    caughtUp,
    stop: async () => {
      stopping = true;
      await sagas.stop();
      await expiry.stop();
      await runtime.stop();
      await breakers.flushed();
    },
  };
}
