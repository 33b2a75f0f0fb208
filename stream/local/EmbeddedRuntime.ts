import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { ArchivedEventStore } from '../archive/ArchivedEventStore.js';
import { type ArchiveStorage, FolderStorage } from '../archive/ArchiveStorage.js';
import { SeasonArchive } from '../archive/SeasonArchive.js';
import { dynamoClient } from '../aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../aws/kinesisClient.js';
import { DynamoBusArchive } from '../buses/BusArchive.js';
import { DOMAINS, type Domain } from '../buses/domains.js';
import { LocalBusPublisher } from '../buses/LocalBusPublisher.js';
import { LocalEventBus } from '../buses/LocalEventBus.js';
import type { JsonItem } from '../changes/attributeJson.js';
import {
  AggregateSequencer,
  type Delivery,
  type SequencerOptions,
} from '../consumer/AggregateSequencer.js';
import { DynamoCheckpointStore } from '../consumer/CheckpointStore.js';
import { createKinesisHandler } from '../consumer/createKinesisHandler.js';
import { DynamoDeadLetterQueue } from '../consumer/DeadLetterQueue.js';
import { DynamoPositionStore } from '../consumer/DynamoPositionStore.js';
import { FailureLog } from '../consumer/FailureLog.js';
import type { PositionStore } from '../consumer/PositionStore.js';
import type { EventEnvelope } from '../EventEnvelope.js';
import { CommitCodec } from '../eventStore/Commit.js';
import { DynamoEventStore } from '../eventStore/DynamoEventStore.js';
import { EVENTS_TABLE, ensureEventsTable } from '../eventStore/eventsTable.js';
import type { Log } from '../Log.js';
import { type StoreStoppedError, storeStopped } from '../StoreError.js';
import { ChangeRelay } from './ChangeRelay.js';
import { EventSourceMapping, type EventSourceMappingOptions } from './EventSourceMapping.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from './embeddedDynamo.js';
import { type EmbeddedKinesis, startEmbeddedKinesis } from './embeddedKinesis.js';
import { FolderInvocationRecords, failureFolder } from './failureFolder.js';
import { ensureRuntimeTables, RELAY_TABLE } from './localTables.js';
import { archiveDir, DEFAULT_DATA_DIR, storeDir } from './openEventStore.js';
import { ownServer } from './serverThread.js';

/**
 * The first store that stopped under a runtime (`StoreStoppedError`), once one has: every
 * component's errors go through `note`.
 */
class StoppedStores {
  readonly first: Promise<StoreStoppedError>;
  private resolveFirst: (stopped: StoreStoppedError) => void = () => {};

  constructor() {
    this.first = new Promise((resolve) => {
      this.resolveFirst = resolve;
    });
  }

  note(error: Error): void {
    const stopped = storeStopped(error);
    if (stopped) this.resolveFirst(stopped);
  }
}

/**
 * Reports a recoverable error to the log (with where it happened) and to `onError`, and a
 * store that stopped to the runtime's watch.
 */
function recovered(
  options: EmbeddedRuntimeOptions,
  where: Record<string, string>,
  stores: StoppedStores,
): (error: Error) => void {
  return (error) => {
    if (options.log) logRecovered(options.log, where, error);
    stores.note(error);
    options.onError?.(error);
  };
}

// The stores each log has said stopped: once, not at every retry of every component.
const storesSaidStopped = new WeakMap<Log, Set<string>>();

/**
 * Says a recoverable error in the log, as a warning with where it happened. A store that
 * stopped (`StoreStoppedError`) fails every request after it the same way, from every component:
 * it is said once per log, as an error, and not again.
 */
export function logRecovered(log: Log, where: Record<string, string>, error: Error): void {
  const stopped = storeStopped(error);
  if (!stopped) {
    log.warn({ ...where, error: error.message }, 'recovered from an error');
    return;
  }
  const said = storesSaidStopped.get(log) ?? new Set<string>();
  storesSaidStopped.set(log, said);
  if (said.has(stopped.store)) return;
  said.add(stopped.store);
  log.error({ ...where, error: stopped.message }, 'a store stopped');
}

/** The change stream's default name. */
export const CHANGES_STREAM = 'matchstream-changes';

export interface EmbeddedRuntimeOptions {
  /** Keep nothing (dynalite and kinesalite in memory). */
  readonly memory?: boolean;
  /** Where dynalite and kinesalite keep their data otherwise (default `.matchstream`). */
  readonly dataDir?: string;
  /** Shards of the change stream. @default 2 */
  readonly shards?: number;
  /** Settings every consumer gets unless it says otherwise. */
  readonly consumerDefaults?: Partial<Omit<EventSourceMappingOptions, 'consumer' | 'handler'>>;
  /** Recoverable background errors (failed polls, refused records), for logging. */
  readonly onError?: (error: Error) => void;
  /**
   * Where the runtime says what happened: recoverable errors (warn), dead letters (error),
   * relay passes and consumer batches (debug).
   */
  readonly log?: Log;
  readonly registry?: SchemaRegistry;
  /**
   * The archive whose expired seasons the event store reads as part of the store (see
   * `ArchivedEventStore`). @default the data folder's archive; none in memory
   */
  readonly archive?: ArchiveStorage;
  /** Run the change relay (off for tools that only look, such as `status`). @default true */
  readonly relay?: boolean;
  /** Tables whose writes the store counts (`writesCounted`), by the start of their names. */
  readonly countWritesTo?: readonly string[];
  /**
   * Called with each AWS client the runtime makes, before it is used: to add middleware, such
   * as the chaos suite's injected faults.
   */
  readonly configureClient?: (
    client: DynamoDBClient | KinesisClient,
    service: 'dynamodb' | 'kinesis',
  ) => void;
}

/** A consumer's mapping settings, and which events its effect reads (see `AggregateSequencer`). */
export type ConsumerOptions = Partial<Omit<EventSourceMappingOptions, 'consumer' | 'handler'>> & {
  readonly reads?: (event: EventEnvelope) => boolean;
  /** First events that write no position (see `SequencerOptions.skipFirstPositions`). */
  readonly skipFirstPositions?: SequencerOptions['skipFirstPositions'];
  /**
   * Whether the consumer polls from the moment it is added, as the `Enabled` flag of a new
   * event source mapping: false adds it without polling, its records kept in the stream
   * until `mapping.enable()`. @default true
   */
  readonly enabled?: boolean;
};

/** A consumer of the runtime: its mapping, what it has seen, and the code that applies. */
export interface RuntimeConsumer {
  readonly mapping: EventSourceMapping;
  readonly counts: ConsumerCounts;
  /**
   * The consumer's sequencer, with its positions and effect: what its handler delivers
   * through, and what a redrive of its dead letters delivers through.
   */
  readonly sequencer: AggregateSequencer;
  readonly positions: PositionStore;
}

/** What a consumer of the runtime has seen. */
export interface ConsumerCounts {
  /** Events handed to the consumer's effect (each appended event exactly once). */
  applied: number;
  duplicates: number;
  filled: number;
  /** Events of streams the consumer does not read (its `reads`): no effect, no position. */
  skipped: number;
}

/**
 * The whole pipeline in one process with no AWS account: dynalite (the event store and the
 * runtime's tables), kinesalite (the change stream), the change relay between them, and the
 * domain buses in process. Consumers are added with `addConsumer` and run under the local
 * event source mapping with the same handler a Lambda function would get.
 */
export class EmbeddedRuntime {
  private stopped = false;

  private constructor(
    readonly consumers: Map<string, RuntimeConsumer>,
    readonly registry: SchemaRegistry,
    readonly dynamo: DynamoDBClient,
    readonly kinesis: KinesisClient,
    readonly store: DynamoEventStore,
    readonly relay: ChangeRelay,
    readonly buses: Readonly<Record<Domain, LocalEventBus>>,
    readonly publisher: LocalBusPublisher,
    readonly deadLetters: DynamoDeadLetterQueue,
    private readonly servers: { dynamo: EmbeddedDynamo; kinesis: EmbeddedKinesis },
    private readonly options: EmbeddedRuntimeOptions,
    private readonly stores: StoppedStores,
  ) {}

  /**
   * The first of the runtime's stores that stopped under it (`StoreStoppedError`: its disk
   * full, say), once one has; pending while they run. Nothing the runtime does can succeed
   * after it, so a process that waits on the runtime (`serve`) ends then.
   */
  get storeStopped(): Promise<StoreStoppedError> {
    return this.stores.first;
  }

  /** Takes an error of a component run beside the runtime (the sagas, the breakers) into the watch of `storeStopped`. */
  noteError(error: Error): void {
    this.stores.note(error);
  }

  static async start(options: EmbeddedRuntimeOptions = {}): Promise<EmbeddedRuntime> {
    const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
    const registry = options.registry ?? SchemaRegistry.fromDirectory();
    // The servers on threads of their own, so they work on the second core; started together,
    // each thread loading its server while the other does (0.1 s of a boot's 0.35).
    const [dynamoStart, kinesisStart] = await Promise.allSettled([
      startEmbeddedDynamo({
        thread: true,
        ...(options.memory ? {} : { dataDir: storeDir(dataDir) }),
        ...(options.countWritesTo ? { countWritesTo: options.countWritesTo } : {}),
      }),
      startEmbeddedKinesis({
        thread: true,
        ...(options.memory ? {} : { dataDir: join(dataDir, 'kinesis') }),
      }),
    ]);
    if (dynamoStart.status === 'rejected' || kinesisStart.status === 'rejected') {
      // The one that started is stopped: its thread would keep the process alive.
      for (const started of [dynamoStart, kinesisStart])
        if (started.status === 'fulfilled') await started.value.stop();
      const [reason] = [dynamoStart, kinesisStart].flatMap((r) =>
        r.status === 'rejected' ? [r.reason as unknown] : [],
      );
      throw reason;
    }
    const dynamoServer = dynamoStart.value;
    const kinesisServer = kinesisStart.value;
    // The servers are this process's own: nothing checks a signature.
    const dynamo = dynamoClient(ownServer(dynamoServer.endpoint));
    const kinesis = kinesisClient(ownServer(kinesisServer.endpoint));
    options.configureClient?.(dynamo, 'dynamodb');
    options.configureClient?.(kinesis, 'kinesis');
    const consumers = new Map<string, RuntimeConsumer>();
    const stores = new StoppedStores();
    const relay = new ChangeRelay({
      onForwarded: (count) => {
        options.log?.debug({ records: count }, 'change records relayed');
        for (const c of consumers.values()) c.mapping.wake();
      },
      dynamo,
      table: EVENTS_TABLE,
      kinesis,
      streamName: CHANGES_STREAM,
      pollIntervalMs: 100,
      onError: recovered(options, { component: 'relay' }, stores),
      checkpointTable: RELAY_TABLE,
    });
    const storeOptions = {
      client: dynamo,
      table: EVENTS_TABLE,
      registry,
      relayMarker: true,
      relay,
    };
    const eventArchive =
      options.archive ?? (options.memory ? undefined : new FolderStorage(archiveDir(dataDir)));
    const store = eventArchive
      ? new ArchivedEventStore({ ...storeOptions, seasons: new SeasonArchive(eventArchive) })
      : new DynamoEventStore(storeOptions);
    const deadLetters = new DynamoDeadLetterQueue(dynamo);
    const archive = new DynamoBusArchive(dynamo);
    const buses = Object.fromEntries(
      DOMAINS.map((d) => [
        d,
        new LocalEventBus(`matchstream-${d}`, {
          deadLetters,
          archive,
          ...(options.log ? { log: options.log } : {}),
        }),
      ]),
    ) as Record<Domain, LocalEventBus>;
    const runtime = new EmbeddedRuntime(
      consumers,
      registry,
      dynamo,
      kinesis,
      store,
      relay,
      buses,
      new LocalBusPublisher(buses, deadLetters, options.log),
      deadLetters,
      { dynamo: dynamoServer, kinesis: kinesisServer },
      options,
      stores,
    );
    try {
      await ensureEventsTable(dynamo, EVENTS_TABLE, { relayIndex: true });
      await ensureRuntimeTables(dynamo);
      await ensureStream(kinesis, CHANGES_STREAM, options.shards ?? 2);
      if (options.relay ?? true) {
        relay.start();
        // Appends from here on are taken over by the relay (after it found again, following an
        // unclean stop, what the last run took and never forwarded).
        await relay.opened();
      }
    } catch (error) {
      // Stopped, or its servers' threads would keep the process alive, and dynalite's the
      // data folder's store locked.
      await runtime.stop().catch(() => {});
      throw error;
    }
    return runtime;
  }

  /**
   * How many writes to the tables of these prefixes of `countWritesTo` (all of them if none
   * given) the store has written so far, by any client; undefined without that option, or
   * for a prefix it does not count.
   */
  writesCounted(prefixes?: readonly string[]): number | undefined {
    return this.servers.dynamo.writesCounted?.(prefixes);
  }

  /**
   * Adds a consumer of the change stream and starts it, unless it is added disabled (see
   * `ConsumerOptions.enabled`). Its effect gets each stream's events once and in order (see
   * `AggregateSequencer`), whatever the stream delivers.
   */
  async addConsumer(
    name: string,
    apply: (events: readonly EventEnvelope[]) => Promise<unknown>,
    consumerOptions: ConsumerOptions = {},
  ): Promise<EventSourceMapping> {
    const { reads, skipFirstPositions, onFiltered, enabled = true, ...options } = consumerOptions;
    const counts: ConsumerCounts = { applied: 0, duplicates: 0, filled: 0, skipped: 0 };
    const failures = new FailureLog();
    const positions = new DynamoPositionStore(this.dynamo, name);
    const sequencer = new AggregateSequencer({
      consumer: name,
      store: this.store,
      positions,
      apply,
      ...(reads ? { reads } : {}),
      ...(skipFirstPositions ? { skipFirstPositions } : {}),
    });
    const handler = createKinesisHandler({
      consumer: name,
      codec: new CommitCodec(this.registry),
      sequencer,
      onFailure: failures.note,
      onHeld: failures.hold,
      onDelivery: (d: Delivery) => {
        counts.applied += d.applied;
        counts.duplicates += d.duplicates;
        counts.filled += d.filled;
        counts.skipped += d.skipped;
      },
    });
    const mapping = new EventSourceMapping({
      consumer: name,
      kinesis: this.kinesis,
      streamName: CHANGES_STREAM,
      handler,
      failures,
      checkpoints: new DynamoCheckpointStore(this.dynamo),
      deadLetters: this.deadLetters,
      ...(this.options.memory
        ? {}
        : {
            onFailure: new FolderInvocationRecords(
              failureFolder(this.options.dataDir ?? DEFAULT_DATA_DIR),
            ),
          }),
      // A commit its filters held back is skipped, as one of a stream it does not read.
      onFiltered: (data) => {
        counts.skipped += eventsOfChanges(data);
        onFiltered?.(data);
      },
      pollIntervalMs: 50,
      // The relay wakes every consumer when it puts records on the stream (nothing else
      // does here): an idle shard can wait long between polls without delaying any record.
      maxPollIntervalMs: 5_000,
      onError: recovered(this.options, { component: 'consumer', consumer: name }, this.stores),
      ...(this.options.log ? { log: this.options.log } : {}),
      ...this.options.consumerDefaults,
      ...options,
    });
    if (enabled) await mapping.start();
    this.consumers.set(name, { mapping, counts, sequencer, positions });
    return mapping;
  }

  /**
   * Waits until everything appended so far has gone through: nothing pending in the relay and
   * every enabled consumer idle, twice in a row (a consumer may append events of its own). A
   * disabled consumer is not waited for: its records wait in the stream until it is enabled.
   * A large feed takes as long as it takes: it fails only when a consumer is not idle and the
   * whole pipeline did nothing for `stallMs` (see `progress`), or at once when one of its
   * stores stopped (`storeStopped`: nothing can go through after it).
   */
  async settle(stallMs = 60_000): Promise<void> {
    const stopped = this.stores.first.then((store) => {
      throw store;
    });
    // Said by the race below when it comes first; nothing to say once the pipeline settled.
    stopped.catch(() => {});
    await Promise.race([this.settled(stallMs), stopped]);
  }

  private async settled(stallMs: number): Promise<void> {
    let calm = 0;
    while (calm < 2) {
      if (this.stopped) throw new Error('the pipeline stopped before it settled');
      await this.relay.drain();
      const forwarded = this.relay.stats.forwarded;
      await Promise.all(
        [...this.consumers.values()]
          .filter((c) => c.mapping.enabled)
          .map((c) =>
            c.mapping.waitUntilIdle(
              stallMs,
              () => this.progress(),
              () => this.stopped,
            ),
          ),
      );
      // A consumer stops waiting when the pipeline stops: its stream may be closed by now.
      if (this.stopped) throw new Error('the pipeline stopped before it settled');
      await this.relay.drain();
      calm = this.relay.stats.forwarded === forwarded ? calm + 1 : 0;
      if (calm < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * A count that grows with any work of the pipeline: records relayed, handled by a consumer,
   * events received and delivered by a bus (a consumer's one long batch goes on meanwhile).
   */
  private progress(): number {
    let n = this.relay.stats.forwarded;
    for (const { mapping } of this.consumers.values()) n += mapping.progress();
    for (const { stats } of Object.values(this.buses))
      n += stats.received + stats.delivered + stats.deadLettered + stats.replayed;
    return n;
  }

  async stop(): Promise<void> {
    // A wait for the pipeline to settle (a command interrupted during one) ends with it.
    this.stopped = true;
    for (const bus of Object.values(this.buses)) bus.close();
    await Promise.all([...this.consumers.values()].map((c) => c.mapping.stop()));
    await this.relay.stop();
    this.dynamo.destroy();
    this.kinesis.destroy();
    await this.servers.kinesis.stop();
    await this.servers.dynamo.stop();
  }
}

/** The events of the commits these change records insert (a removal brings none). */
function eventsOfChanges(data: readonly unknown[]): number {
  let events = 0;
  for (const record of data) {
    const change = record as { eventName?: unknown; dynamodb?: { NewImage?: JsonItem } };
    if (change?.eventName !== 'INSERT') continue;
    const list = change.dynamodb?.NewImage?.events;
    events += list && 'L' in list && Array.isArray(list.L) ? list.L.length : 1;
  }
  return events;
}
