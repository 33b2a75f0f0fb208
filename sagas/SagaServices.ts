import type { DocumentStore } from '../projections/DocumentStore.js';
import type { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import type { Domain } from '../stream/buses/domains.js';
import type { BusEvent, EventPattern } from '../stream/buses/eventPattern.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { type FaultPlan, faultHook } from './faults.js';
import { BUS_HANDLER_NAMES, BUS_HANDLERS } from './handlers/busHandlers.js';
import { CalculationEventHandler } from './handlers/CalculationEventHandler.js';
import { MatchEventHandler } from './handlers/MatchEventHandler.js';
import { MetadataEventHandler } from './handlers/MetadataEventHandler.js';
import { RecalculationRequests } from './handlers/RecalculationRequests.js';
import {
  collectMatches,
  isCurrentScope,
  RPI_STEPS,
  type RpiSagaData,
  type RpiSagaRequest,
  type RpiStepName,
  rpiSaga,
  rpiSagaData,
  whyNoGames,
} from './rpi/rpiSaga.js';
import {
  SagaCoordinator,
  type SagaCoordinatorOptions,
  sagaIdsOf,
  sagaStream,
} from './SagaCoordinator.js';
import type { RetryPolicy, SagaDefinition } from './SagaDefinition.js';
import { SagaError } from './SagaError.js';
import { type SagaDoc, sagaDocument } from './sagaDocument.js';
import { foldSaga, type SagaState } from './sagaState.js';
import { type SagaTimeline, sagaTimeline } from './sagaTimeline.js';

/** The stores the sagas and their handlers work with. */
export interface SagaStores {
  /** The matches read model (the saga collects from it). */
  readonly matches: DocumentStore;
  /** The team directory the `MetadataEventHandler` keeps (division filters read it). */
  readonly directory: DocumentStore;
  /** The saga's working documents (match snapshots, replaced cache documents, request slots). */
  readonly work: DocumentStore;
  /** The rankings cache the API serves. */
  readonly cache: DocumentStore;
  /** The `CalculationEventHandler`'s notifications. */
  readonly notifications: DocumentStore;
}

export interface SagaServicesOptions {
  readonly store: EventStore;
  /** The schemas the bus handlers read the envelopes the buses deliver with. */
  readonly registry: SchemaRegistry;
  readonly stores: SagaStores;
  /** Ids of the sagas that may need driving (from the sagas read model), for the sweep. */
  readonly activeSagas?: () => Promise<readonly string[]>;
  /**
   * Profile and division of automatic recalculations: a calculation of the whole season in
   * them becomes the season's current rankings.
   */
  readonly profile: string;
  readonly division?: string | null;
  /** The clock of debounces, waits and timeouts (ms since the epoch). @default Date.now */
  readonly now?: () => number;
  /** How long an automatic request waits for more results. @default 1000 */
  readonly debounceMs?: number;
  /**
   * How long after its first request an automatic recalculation may wait while results keep
   * arriving (see `RecalculationRequestsOptions.debounceMaxMs`). @default 60000
   */
  readonly debounceMaxMs?: number;
  readonly sweepIntervalMs?: number;
  readonly timeoutsMs?: Readonly<Partial<Record<RpiStepName, number>>>;
  readonly retry?: RetryPolicy;
  /** How long a collect attempt waits for the matches read model (see `RpiSagaDependencies`). */
  readonly catchUpMs?: number;
  readonly faults?: FaultPlan;
  readonly onError?: (error: Error) => void;
  /** Each saga event the coordinator appended (for metrics). */
  readonly onEvent?: (sagaId: string, eventType: string) => void;
  /** How waiting sagas are woken (see `SagaCoordinatorOptions.wake`). @default 'timer' */
  readonly wake?: SagaCoordinatorOptions['wake'];
  /** Whether starting a saga also drives it here (see `SagaCoordinatorOptions.driveOnBegin`). @default true */
  readonly driveOnBegin?: boolean;
}

/** A bus handler with its rule. */
export interface HandlerRule {
  readonly bus: Domain;
  readonly name: string;
  readonly pattern: EventPattern;
  readonly handler: (event: BusEvent) => Promise<void>;
}

/**
 * The saga side of the pipeline: the RPI saga definition, a coordinator that a crash replaces
 * (as a restarted process would take over, resuming from the store), the recalculation
 * requests and the three bus handlers with their rules.
 */
export class SagaServices {
  readonly definition: SagaDefinition<RpiSagaData>;
  readonly requests: RecalculationRequests;
  readonly handlers: {
    readonly match: MatchEventHandler;
    readonly metadata: MetadataEventHandler;
    readonly calculation: CalculationEventHandler;
  };
  /** Coordinators replaced after a crash. */
  restarts = 0;
  private coordinator: SagaCoordinator;
  private held = false;
  /** Counts the holds, so a hold is told apart from a later one. */
  private holds = 0;
  /** The hold in effect (the coordinator's drives under way have stopped), if any. */
  private hold_: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly options: SagaServicesOptions) {
    const faulty = new Set(
      (options.faults?.faults ?? []).filter((f) => f.mode === 'timeout').map((f) => f.step),
    );
    const timeoutsMs: Partial<Record<RpiStepName, number>> = { ...options.timeoutsMs };
    // A step made to hang times out in a second, so the compensation can be watched.
    for (const step of RPI_STEPS) if (faulty.has(step)) timeoutsMs[step] ??= 1000;
    this.definition = rpiSaga({
      store: options.store,
      matches: options.stores.matches,
      teams: options.stores.directory,
      snapshots: options.stores.work,
      cache: options.stores.cache,
      current: { profile: options.profile, division: options.division ?? null },
      timeoutsMs,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.catchUpMs !== undefined ? { catchUpMs: options.catchUpMs } : {}),
    });
    this.coordinator = this.newCoordinator();
    this.requests = new RecalculationRequests({
      store: options.store,
      slots: options.stores.work,
      matches: options.stores.matches,
      begin: async (request, sagaId) => {
        this.replaceIfCrashed();
        return (await this.coordinator.beginOnce(this.definition, this.sagaData(request), sagaId))
          .created;
      },
      profile: options.profile,
      division: options.division ?? null,
      ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
      ...(options.debounceMaxMs !== undefined ? { debounceMaxMs: options.debounceMaxMs } : {}),
      ...(options.now ? { now: options.now } : {}),
      holding: () => this.holding(),
    });
    this.handlers = {
      match: new MatchEventHandler({
        requests: this.requests,
        store: options.store,
        registry: options.registry,
        ...(options.now ? { now: options.now } : {}),
      }),
      metadata: new MetadataEventHandler({
        directory: options.stores.directory,
        cache: options.stores.cache,
        requests: this.requests,
        registry: options.registry,
      }),
      calculation: new CalculationEventHandler({
        store: options.store,
        notifications: options.stores.notifications,
        current: { profile: options.profile, division: options.division ?? null },
        registry: options.registry,
      }),
    };
  }

  /** The handlers' rules, one per domain bus they listen on (from `BUS_HANDLERS`). */
  rules(): HandlerRule[] {
    return BUS_HANDLER_NAMES.map((name) => {
      const { bus, rule, pattern } = BUS_HANDLERS[name];
      return { bus, name: rule, pattern, handler: this.handlers[name].handle };
    });
  }

  /** Profile of automatic recalculations. */
  get profile(): string {
    return this.options.profile;
  }

  /** Division of automatic recalculations (null: every game). */
  get division(): string | null {
    return this.options.division ?? null;
  }

  /** How many games an RPI saga of the season would count now (of `division`: the run's). */
  async collectable(season: string, division = this.division): Promise<number> {
    return (
      await collectMatches(
        { matches: this.options.stores.matches, teams: this.options.stores.directory },
        { season, as_of: null, division },
      )
    ).length;
  }

  /**
   * Why an RPI saga of the season would count no game now (the reason its first step would
   * fail with), or undefined when it would count some; `division` null asks about every team.
   */
  async nothingToCount(season: string, division = this.division): Promise<string | undefined> {
    if ((await this.collectable(season, division)) > 0) return undefined;
    return whyNoGames(
      { matches: this.options.stores.matches, teams: this.options.stores.directory },
      { season, as_of: null, division },
    );
  }

  /** Starts the sweep and the watchdog that replaces a crashed coordinator. */
  start(watchdogMs = 200): void {
    this.coordinator.start();
    this.watchdog = setInterval(() => this.replaceIfCrashed(), watchdogMs);
  }

  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    await this.coordinator.stop();
  }

  /** Moves no saga until `release` (see `SagaCoordinator.hold`). */
  async hold(): Promise<void> {
    if (this.held) return;
    this.held = true;
    await this.coordinator.hold();
    this.hold_ = ++this.holds;
  }

  /** Which hold is in effect (no saga moves while it lasts); undefined when none is. */
  holding(): number | undefined {
    return this.hold_;
  }

  /** Drives the sagas held back, and every active one. */
  async release(): Promise<void> {
    this.held = false;
    this.hold_ = undefined;
    await this.coordinator.release();
  }

  /** Starts an RPI saga now (or at `not_before`); returns its id. */
  begin(request: RpiSagaRequest, sagaId?: string): Promise<string> {
    this.replaceIfCrashed();
    return this.coordinator.begin(this.definition, this.sagaData(request), sagaId);
  }

  /**
   * Whether a calculation asked for is the season's own recalculation: its current profile and
   * division, unadjusted, of the whole season, due at once and after nothing.
   */
  isSeasonsOwn(request: RpiSagaRequest): boolean {
    return (
      request.not_before === null &&
      (request.after ?? null) === null &&
      isCurrentScope(request, { profile: this.profile, division: this.division })
    );
  }

  /**
   * Starts an RPI saga and answers its document as it stands right after (for the API). While
   * the sagas are held (a catch-up under way), a request of the season's own scope is the
   * season's recalculation: the automatic saga waiting, or a new one due when they are
   * released, takes it in, as it takes in what the catch-up asks for; a backlog is rated once,
   * not once for the catch-up and once for this request. The answer is that saga.
   */
  async startSaga(request: RpiSagaRequest): Promise<SagaDoc> {
    const sagaId =
      this.holding() !== undefined && this.isSeasonsOwn(request)
        ? (await this.requests.request(request.season, request.reason ?? 'a calculation asked for'))
            .saga_id
        : await this.begin(request);
    const state = foldSaga(await this.options.store.read(sagaStream(sagaId)));
    if (!state)
      throw new SagaError(
        'MISSING_INPUT',
        `saga ${sagaId} is not in the store after it was started`,
        {
          retryable: true,
          context: { sagaId },
        },
      );
    return sagaDocument(state);
  }

  private sagaData(request: RpiSagaRequest): RpiSagaData {
    return rpiSagaData(request, new Date((this.options.now ?? Date.now)()));
  }

  /** For the stream consumer of saga events: drives the sagas they belong to. */
  async onEvents(events: readonly EventEnvelope[]): Promise<void> {
    this.replaceIfCrashed();
    await this.coordinator.onEvents(events);
  }

  /**
   * Drives the sagas of these events and resolves when each is at rest (for a caller that must
   * finish its work before it returns, such as a Lambda function).
   */
  async drive(events: readonly EventEnvelope[]): Promise<number> {
    this.replaceIfCrashed();
    const ids = sagaIdsOf(events);
    await this.coordinator.driveAll(ids);
    return ids.size;
  }

  /** Drives every active saga once, to rest: the scheduled sweep. Returns how many. */
  async sweepOnce(): Promise<number> {
    const ids = (await this.options.activeSagas?.()) ?? [];
    this.replaceIfCrashed();
    await this.coordinator.driveAll(ids);
    return ids.length;
  }

  /** Waits until no saga is running or compensating (pending automatic ones included). */
  async settle(timeoutMs = 600_000): Promise<void> {
    for (const id of (await this.options.activeSagas?.()) ?? []) await this.waitFor(id, timeoutMs);
  }

  /** The schemas the saga's events are written with. */
  get schemas(): SchemaRegistry {
    return this.options.registry;
  }

  /** A saga's timeline from its stream; undefined for a saga that does not exist. */
  async timeline(sagaId: string): Promise<SagaTimeline | undefined> {
    const events = await this.options.store.read(sagaStream(sagaId));
    return events.length === 0 ? undefined : sagaTimeline(events);
  }

  /** Waits for a saga to end, across coordinator restarts. */
  waitFor(sagaId: string, timeoutMs?: number): Promise<SagaState> {
    return this.coordinator.waitFor(sagaId, timeoutMs);
  }

  private newCoordinator(): SagaCoordinator {
    return new SagaCoordinator({
      store: this.options.store,
      definitions: [this.definition as SagaDefinition<unknown>],
      ...(this.options.activeSagas ? { activeSagas: this.options.activeSagas } : {}),
      ...(this.options.sweepIntervalMs ? { sweepIntervalMs: this.options.sweepIntervalMs } : {}),
      ...(this.options.faults ? { hook: faultHook(this.options.faults) } : {}),
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(this.options.onError ? { onError: this.options.onError } : {}),
      ...(this.options.onEvent ? { onEvent: this.options.onEvent } : {}),
      ...(this.options.wake ? { wake: this.options.wake } : {}),
      ...(this.options.driveOnBegin !== undefined
        ? { driveOnBegin: this.options.driveOnBegin }
        : {}),
    });
  }

  private replaceIfCrashed(): void {
    if (!this.coordinator.hasCrashed) return;
    void this.coordinator.stop();
    this.restarts++;
    this.coordinator = this.newCoordinator();
    if (this.held) void this.coordinator.hold();
    this.coordinator.start();
  }
}
