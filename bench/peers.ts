/**
 * Peers on the same work, measured in the same run:
 *
 * - Castore (`@castore/core` with its DynamoDB single-table adapter) on the same kind of
 *   in-memory dynalite: appending the events of the same generated season at the same
 *   concurrency (matches/s), then replaying them all into the same read model through its
 *   `listAggregateIds` + `getEvents` per aggregate (events/s), next to our ingest and our
 *   segmented-scan replay.
 * - Emmett's in-memory event store against ours, in process: append the same events, then
 *   replay them all into the same read model (events/s each).
 *
 * Both sides of a figure feed the same read model (the `teams` and `standings` projections
 * through the same `Projector`, documents in memory), so the figures compare the event stores,
 * not the read-model writes (bench/rebuild.ts measures those). Each run starts from a fresh
 * store; the peer runs first and again after each run of ours, and each figure sets the median
 * of ours against the median of the peer's. `node dist/bench/peers.js <scenario> [--tiny]`.
 */
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Aggregate, type EventDetail, EventStore, EventType } from '@castore/core';
import {
  DynamoDBSingleTableEventStorageAdapter,
  EVENT_TABLE_EVENT_STORE_ID_KEY,
  EVENT_TABLE_INITIAL_EVENT_INDEX_NAME,
  EVENT_TABLE_PK,
  EVENT_TABLE_SK,
  EVENT_TABLE_TIMESTAMP_KEY,
} from '@castore/event-storage-adapter-dynamodb';
import {
  type InMemoryEventStore as EmmettStore,
  type Event,
  getInMemoryDatabase,
  getInMemoryEventStore,
  handleInMemoryProjections,
  type InMemoryReadEventMetadata,
  inMemoryProjection,
  type ReadEvent,
  STREAM_DOES_NOT_EXIST,
} from '@event-driven-io/emmett';
import { generateSeason } from '../domain/season/generateSeason.js';
import type { GameRow } from '../feeds/readGames.js';
import { ingestGames } from '../ingest/ingestGames.js';
import { matchAggregateId, resultData, teamAggregateId } from '../ingest/matchEvents.js';
import { InMemoryDocumentStore } from '../projections/DocumentStore.js';
import type { StoredDoc } from '../projections/Projection.js';
import { Projector } from '../projections/Projector.js';
import { standingsProjection } from '../projections/readModels/standings.js';
import { teamsProjection } from '../projections/readModels/teams.js';
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { dynamoClient } from '../stream/aws/dynamoClient.js';
import type { EventEnvelope, NewEvent } from '../stream/EventEnvelope.js';
import { DynamoEventStore } from '../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable, ensureTable } from '../stream/eventStore/eventsTable.js';
import { InMemoryEventStore } from '../stream/eventStore/InMemoryEventStore.js';
import { startEmbeddedDynamo } from '../stream/local/embeddedDynamo.js';
import { InMemoryReplayCheckpoints } from '../stream/replay/ReplayCheckpoints.js';
import { replay } from '../stream/replay/replay.js';

export interface PeerScenario {
  readonly name: string;
  readonly peer: 'castore' | 'emmett';
  readonly teams: number;
  readonly gamesPerTeam: number;
  /** Appends (and, for Castore, per-aggregate reads) in flight. */
  readonly concurrency: number;
  /** Parallel scan segments of our replay. */
  readonly segments: number;
  /** Runs of ours; the peer runs before, between and after them. */
  readonly rounds: number;
  /** Part of `npm run bench -- --quick`. */
  readonly quick: boolean;
}

export const PEER_SCENARIOS: readonly PeerScenario[] = [
  {
    name: 'castore-50-teams',
    peer: 'castore',
    teams: 50,
    gamesPerTeam: 18,
    concurrency: 16,
    segments: 4,
    rounds: 1,
    quick: true,
  },
  {
    name: 'castore-330-teams',
    peer: 'castore',
    teams: 330,
    gamesPerTeam: 18,
    concurrency: 16,
    segments: 4,
    rounds: 1,
    quick: false,
  },
  {
    name: 'emmett-330-teams',
    peer: 'emmett',
    teams: 330,
    gamesPerTeam: 18,
    concurrency: 1,
    segments: 1,
    rounds: 3,
    quick: true,
  },
  {
    name: 'emmett-1000-teams',
    peer: 'emmett',
    teams: 1000,
    gamesPerTeam: 30,
    concurrency: 1,
    segments: 1,
    rounds: 1,
    quick: false,
  },
];

/** One event to append, as both sides store it: its stream, type and data. */
interface PlannedEvent {
  readonly aggregateId: string;
  readonly event: NewEvent<'TeamRegistered' | 'MatchRecorded'>;
}

interface Work {
  readonly matches: number;
  readonly rows: GameRow[];
  /** In the order our ingest appends them: a team when first seen, then the match. */
  readonly events: PlannedEvent[];
}

/** The generated season (seed 9, as bench/ingest.ts) as feed rows and as planned events. */
function work(teams: number, gamesPerTeam: number): Work {
  const season = generateSeason({ teams, gamesPerTeam, seed: 9 });
  const rows: GameRow[] = season.games.map((game, i) => ({
    kind: 'game',
    line: i + 2,
    game,
    fields: {},
  }));
  const events: PlannedEvent[] = [];
  const seen = new Set<string>();
  for (const { game } of rows) {
    for (const team of [game.homeTeam, game.awayTeam]) {
      if (seen.has(team)) continue;
      seen.add(team);
      events.push({
        aggregateId: teamAggregateId(team),
        event: {
          event_type: 'TeamRegistered',
          data: { team_id: team, name: team, conference: null, division: null, region: null },
        },
      });
    }
    const id = matchAggregateId(game, 0);
    events.push({
      aggregateId: id,
      event: { event_type: 'MatchRecorded', data: resultData(game, id) },
    });
  }
  return { matches: rows.length, rows, events };
}

/**
 * The read model every side replays into: the team directory and the standings, through the
 * project's own projections and `Projector`, documents in memory.
 */
class BenchReadModel {
  readonly teams = new InMemoryDocumentStore();
  readonly standings = new InMemoryDocumentStore();
  private readonly projectors = [
    new Projector(teamsProjection, this.teams),
    new Projector(standingsProjection, this.standings),
  ];
  /** Events delivered. */
  events = 0;

  async apply(events: readonly EventEnvelope[]): Promise<void> {
    this.events += events.length;
    for (const projector of this.projectors) await projector.apply(events);
  }

  /** Every document, without the timestamps (each side stamps its own appends). */
  documents(): StoredDoc[] {
    return [...this.teams.all(), ...this.standings.all()].map((d) => {
      if (d.pk !== 'team') return d;
      const { registered_at: _r, updated_at: _u, ...doc } = d.doc as Record<string, unknown>;
      return { ...d, doc };
    });
  }
}

/** Runs `task` for each item with at most `concurrency` in flight. */
async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      for (let i = next++; i < items.length; i = next++) await task(items[i] as T);
    }),
  );
}

/** Delivers events to the read model in pages of `size`, one page at a time. */
class Pager {
  private page: EventEnvelope[] = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly model: BenchReadModel,
    private readonly size = 500,
  ) {}

  async add(events: readonly EventEnvelope[]): Promise<void> {
    this.page.push(...events);
    if (this.page.length >= this.size) await this.flush();
  }

  async flush(): Promise<void> {
    const page = this.page;
    this.page = [];
    this.flushing = this.flushing.then(() =>
      page.length > 0 ? this.model.apply(page) : undefined,
    );
    await this.flushing;
  }
}

interface SideRun {
  /** Events appended. */
  readonly appended: number;
  readonly appendSeconds: number;
  /** Events read back and applied. */
  readonly replayed: number;
  readonly replaySeconds: number;
  /** In process only: events read back without the read model, and how long that took. */
  readonly read?: { readonly events: number; readonly seconds: number };
  readonly model: BenchReadModel;
}

const seconds = (started: number) => (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------
// Castore on dynalite

type CastoreStore = EventStore<string, EventType[], EventDetail>;

/** The table the single-table adapter needs, with the index of first events it lists ids by. */
async function ensureCastoreTable(client: DynamoDBClient, table: string): Promise<void> {
  await ensureTable(client, {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: EVENT_TABLE_PK, AttributeType: 'S' },
      { AttributeName: EVENT_TABLE_SK, AttributeType: 'N' },
      { AttributeName: EVENT_TABLE_EVENT_STORE_ID_KEY, AttributeType: 'S' },
      { AttributeName: EVENT_TABLE_TIMESTAMP_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: EVENT_TABLE_PK, KeyType: 'HASH' },
      { AttributeName: EVENT_TABLE_SK, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: EVENT_TABLE_INITIAL_EVENT_INDEX_NAME,
        KeySchema: [
          { AttributeName: EVENT_TABLE_EVENT_STORE_ID_KEY, KeyType: 'HASH' },
          { AttributeName: EVENT_TABLE_TIMESTAMP_KEY, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  });
}

/** Two Castore event stores (teams and matches) on one table, as a Castore user would set up. */
function castoreStores(client: DynamoDBClient, table: string): Record<string, CastoreStore> {
  const adapter = new DynamoDBSingleTableEventStorageAdapter({
    tableName: table,
    dynamoDBClient: client,
  });
  const reducer = (_aggregate: Aggregate, event: EventDetail): Aggregate => ({
    aggregateId: event.aggregateId,
    version: event.version,
  });
  const store = (eventStoreId: string, type: string): CastoreStore =>
    new EventStore({
      eventStoreId,
      eventTypes: [new EventType({ type })],
      reducer,
      eventStorageAdapter: adapter,
    });
  return {
    TeamRegistered: store('teams', 'TeamRegistered'),
    MatchRecorded: store('matches', 'MatchRecorded'),
  };
}

/**
 * A Castore event as our read model takes it. Its payload is the data we gave it, so it is
 * typed as such without a check, as the codec would have typed it.
 */
function fromCastore(event: EventDetail): EventEnvelope {
  return typedAsOurs({
    event_id: `${event.aggregateId}#${event.version}`,
    event_type: event.type,
    aggregate_id: event.aggregateId,
    sequence: event.version,
    timestamp: event.timestamp,
    data: event.payload,
    version: 1,
    correlation_id: 'bench',
    causation_id: null,
  });
}

/** An envelope of data we handed a peer and read back from it (see `fromCastore`). */
function typedAsOurs(
  envelope: Omit<EventEnvelope, 'event_type' | 'data'> & {
    readonly event_type: string;
    readonly data: unknown;
  },
): EventEnvelope {
  return envelope as EventEnvelope;
}

/**
 * Castore: each event pushed as version 1 of its aggregate (a conditional PutItem, the
 * fastest Castore write: no read of the aggregate first), `concurrency` in flight; then every
 * aggregate id listed from the index of first events and its events read with `getEvents`,
 * `concurrency` reads in flight, into the read model.
 */
async function runCastore(w: Work, concurrency: number): Promise<SideRun> {
  const dynamo = await startEmbeddedDynamo();
  const client = dynamoClient({ endpoint: dynamo.endpoint, maxSockets: concurrency * 2 });
  try {
    await ensureCastoreTable(client, 'castore-events');
    const stores = castoreStores(client, 'castore-events');
    const storeOf = (type: string): CastoreStore => {
      const store = stores[type];
      if (!store) throw new Error(`no Castore store for ${type}`);
      return store;
    };
    let appended = 0;
    const appendStarted = performance.now();
    await forEachLimited(w.events, concurrency, async (e) => {
      await storeOf(e.event.event_type).pushEvent({
        aggregateId: e.aggregateId,
        version: 1,
        type: e.event.event_type,
        payload: { ...e.event.data },
      });
      appended++;
    });
    const appendSeconds = seconds(appendStarted);

    const model = new BenchReadModel();
    const pager = new Pager(model);
    let replayed = 0;
    const replayStarted = performance.now();
    for (const store of Object.values(stores)) {
      const ids: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = await store.listAggregateIds(pageToken ? { pageToken } : {});
        for (const { aggregateId } of page.aggregateIds) ids.push(aggregateId);
        pageToken = page.nextPageToken;
      } while (pageToken);
      await forEachLimited(ids, concurrency, async (id) => {
        const { events } = await store.getEvents(id);
        replayed += events.length;
        await pager.add(events.map(fromCastore));
      });
    }
    await pager.flush();
    return { appended, appendSeconds, replayed, replaySeconds: seconds(replayStarted), model };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

/**
 * Ours: the season through `ingestGames` into the DynamoDB event store (as bench/ingest.ts),
 * then `replay` (the segmented scan of a rebuild) into the read model.
 */
async function runOursOnDynamo(
  w: Work,
  concurrency: number,
  segments: number,
  registry: SchemaRegistry,
): Promise<SideRun> {
  const dynamo = await startEmbeddedDynamo();
  const client = dynamoClient({ endpoint: dynamo.endpoint, maxSockets: concurrency * 2 });
  try {
    await ensureEventsTable(client, 'events');
    const store = new DynamoEventStore({ client, table: 'events', registry });
    async function* batches() {
      for (let i = 0; i < w.rows.length; i += 1000) yield w.rows.slice(i, i + 1000);
    }
    const appendStarted = performance.now();
    const summary = await ingestGames(batches(), { store, concurrency });
    const appendSeconds = seconds(appendStarted);
    if (summary.appended !== w.matches)
      throw new Error(`ingested ${summary.appended} of ${w.matches} matches`);

    const model = new BenchReadModel();
    const replayStarted = performance.now();
    const replayed = await replay({
      source: store,
      target: {
        description: 'bench read model',
        concurrent: true,
        deliver: (events) => model.apply(events),
      },
      name: 'bench-peers',
      checkpoints: new InMemoryReplayCheckpoints(),
      segments,
    });
    return {
      appended: summary.events_appended,
      appendSeconds,
      replayed: replayed.events,
      replaySeconds: seconds(replayStarted),
      model,
    };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Emmett in memory

type EmmettEvent = Event<string, Record<string, unknown>, { timestamp: string }>;

/** An Emmett event as our read model takes it (its data is ours, as in `fromCastore`). */
function fromEmmett(event: ReadEvent<EmmettEvent, InMemoryReadEventMetadata>): EventEnvelope {
  return typedAsOurs({
    event_id: event.metadata.messageId,
    event_type: event.type,
    aggregate_id: event.metadata.streamName,
    sequence: Number(event.metadata.streamPosition),
    timestamp: event.metadata.timestamp,
    data: event.data,
    version: 1,
    correlation_id: 'bench',
    causation_id: null,
  });
}

/** Passes of the in-process read and replay over one store (runs of 0.1 s are noisy). */
const PASSES = 3;

/**
 * The in-process read and replay of a store, each `PASSES` times, keeping the fastest pass:
 * `read` walks the store and counts, `replay` feeds a new read model (the last one is kept).
 */
async function readAndReplay(
  read: () => Promise<number>,
  replay: (model: BenchReadModel) => Promise<number>,
): Promise<Pick<SideRun, 'read' | 'replayed' | 'replaySeconds' | 'model'>> {
  let best = { events: 0, seconds: Number.POSITIVE_INFINITY };
  for (let pass = 0; pass < PASSES; pass++) {
    const started = performance.now();
    const events = await read();
    const took = seconds(started);
    if (took < best.seconds) best = { events, seconds: took };
  }
  let model = new BenchReadModel();
  let replayed = 0;
  let replaySeconds = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < PASSES; pass++) {
    model = new BenchReadModel();
    const started = performance.now();
    replayed = await replay(model);
    replaySeconds = Math.min(replaySeconds, seconds(started));
  }
  return { read: best, replayed, replaySeconds, model };
}

/**
 * Emmett: each event appended to a new stream with `STREAM_DOES_NOT_EXIST`; then every stream
 * read with `readStream` and handed, a page at a time, to an Emmett in-memory projection that
 * feeds the read model. Its in-memory store has no read across streams, so the replay walks
 * the stream names the append wrote.
 */
async function runEmmett(w: Work): Promise<SideRun> {
  const store: EmmettStore = getInMemoryEventStore();
  const database = getInMemoryDatabase();
  const streams: string[] = [];
  const appendStarted = performance.now();
  for (const e of w.events) {
    await store.appendToStream<EmmettEvent>(
      e.aggregateId,
      [
        {
          type: e.event.event_type,
          data: { ...e.event.data },
          metadata: { timestamp: new Date().toISOString() },
        },
      ],
      { expectedStreamVersion: STREAM_DOES_NOT_EXIST },
    );
    streams.push(e.aggregateId);
  }
  const appendSeconds = seconds(appendStarted);

  const passes = await readAndReplay(
    async () => {
      let read = 0;
      for (const name of streams) read += (await store.readStream<EmmettEvent>(name)).events.length;
      return read;
    },
    async (model) => {
      const projection = inMemoryProjection<EmmettEvent>({
        canHandle: ['TeamRegistered', 'MatchRecorded'],
        handle: (events) => model.apply(events.map(fromEmmett)),
      });
      let replayed = 0;
      let page: ReadEvent<EmmettEvent, InMemoryReadEventMetadata>[] = [];
      const flush = async () => {
        if (page.length > 0)
          await handleInMemoryProjections({ projections: [projection], events: page, database });
        page = [];
      };
      for (const name of streams) {
        const { events } = await store.readStream<EmmettEvent>(name);
        replayed += events.length;
        page.push(...events);
        if (page.length >= 500) await flush();
      }
      await flush();
      return replayed;
    },
  );
  return { appended: streams.length, appendSeconds, ...passes };
}

/** Ours in memory: the same appends into `InMemoryEventStore`, then `readAll` into the read model. */
async function runOursInMemory(w: Work, registry: SchemaRegistry): Promise<SideRun> {
  const store = new InMemoryEventStore(registry);
  const appendStarted = performance.now();
  for (const e of w.events) {
    await store.append(e.aggregateId, 0, [e.event]);
  }
  const appendSeconds = seconds(appendStarted);
  const passes = await readAndReplay(
    async () => {
      let read = 0;
      for await (const batch of store.readAll()) read += batch.length;
      return read;
    },
    async (model) => {
      let replayed = 0;
      for await (const batch of store.readAll()) {
        replayed += batch.length;
        await model.apply(batch);
      }
      return replayed;
    },
  );
  return { appended: w.events.length, appendSeconds, ...passes };
}

// ---------------------------------------------------------------------------------------------
// Figures

/** A side's run as kept for the figures: its counts and times, without its read model. */
export interface SideCounts {
  readonly appended: number;
  readonly replayed: number;
  /** Events the read model received. */
  readonly applied: number;
  /** In process only: events of the read pass without the read model. */
  readonly read?: number;
}

interface Timed extends SideCounts {
  readonly appendSeconds: number;
  readonly replaySeconds: number;
  readonly readSeconds?: number;
}

/** What a scenario found besides the figures: each run's counts and whether the models agree. */
export interface PeerCheck {
  readonly events_planned: number;
  /** One entry per run of ours. */
  readonly ours: readonly SideCounts[];
  /** One entry per run of the peer. */
  readonly peer: readonly SideCounts[];
  /** Documents of the read model (teams and standings). */
  readonly documents: number;
  /** Every run's read model, ours and the peer's, has the same documents (timestamps aside). */
  readonly read_models_agree: boolean;
}

export interface PeerFigure {
  readonly figure: 'ingest' | 'append' | 'read' | 'replay';
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly baseline_unit: string;
  readonly ratio: number;
  readonly target: string;
}

export interface PeerResult {
  readonly scenario: string;
  readonly peer: string;
  readonly peer_version: string;
  readonly matches: number;
  readonly events: number;
  readonly concurrency: number;
  readonly segments: number;
  readonly rounds: number;
  readonly figures: readonly PeerFigure[];
  readonly check: PeerCheck;
  readonly note: string;
  readonly peak_rss_mb: number;
}

const PEER_VERSIONS = {
  castore: '@castore/core 2.4.2 + @castore/event-storage-adapter-dynamodb 2.4.2',
  emmett: '@event-driven-io/emmett 0.42.0',
} as const;

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
const rate = (count: number, secs: number) => count / Math.max(secs, 1e-6);

/**
 * Runs one scenario, each run on a fresh store: the peer, then ours and the peer in turn
 * (`rounds` times), and returns the figures: the median of ours against the median of the
 * peer. `teams`/`gamesPerTeam` override the scenario's season (tests use tiny ones).
 *
 * @example await measure(scenario, { teams: 8, gamesPerTeam: 3, rounds: 1, warmUp: false })
 */
export async function measure(
  scenario: PeerScenario,
  size: {
    readonly teams?: number;
    readonly gamesPerTeam?: number;
    readonly rounds?: number;
    /** A small round of each side first (default true; tiny runs skip it). */
    readonly warmUp?: boolean;
  } = {},
): Promise<PeerResult> {
  const w = work(size.teams ?? scenario.teams, size.gamesPerTeam ?? scenario.gamesPerTeam);
  const registry = SchemaRegistry.fromDirectory();
  const castore = scenario.peer === 'castore';
  const rounds = Math.max(1, size.rounds ?? scenario.rounds);
  const runPeer = (x: Work) => (castore ? runCastore(x, scenario.concurrency) : runEmmett(x));
  const runOurs = (x: Work) =>
    castore
      ? runOursOnDynamo(x, scenario.concurrency, scenario.segments, registry)
      : runOursInMemory(x, registry);

  // A small round of each side first: JIT warm-up would count against whichever runs first.
  if (size.warmUp ?? true) {
    const small = work(20, 4);
    await runPeer(small);
    await runOurs(small);
  }

  // Read models are compared as the runs go and then dropped, so memory stays one run's worth.
  let reference: StoredDoc[] | undefined;
  let agree = true;
  const keep = (run: SideRun): Timed => {
    const documents = run.model.documents();
    if (reference === undefined) reference = documents;
    else agree &&= isDeepStrictEqual(documents, reference);
    return {
      appended: run.appended,
      replayed: run.replayed,
      applied: run.model.events,
      appendSeconds: run.appendSeconds,
      replaySeconds: run.replaySeconds,
      ...(run.read ? { read: run.read.events, readSeconds: run.read.seconds } : {}),
    };
  };
  const peers: Timed[] = [keep(await runPeer(w))];
  const ours: Timed[] = [];
  for (let round = 0; round < rounds; round++) {
    ours.push(keep(await runOurs(w)));
    peers.push(keep(await runPeer(w)));
  }

  const figure = (
    f: Omit<PeerFigure, 'value' | 'baseline' | 'ratio'>,
    perSecond: (t: Timed) => number,
  ): PeerFigure => {
    const value = median(ours.map(perSecond));
    const baseline = median(peers.map(perSecond));
    return {
      figure: f.figure,
      value: Math.round(value),
      unit: f.unit,
      baseline: Math.round(baseline),
      baseline_unit: f.baseline_unit,
      ratio: Number((value / Math.max(baseline, 1e-9)).toFixed(3)),
      target: f.target,
    };
  };
  const peerRuns = `median of ${peers.length} runs, before, between and after ours`;
  const figures: PeerFigure[] = castore
    ? [
        figure(
          {
            figure: 'ingest',
            unit: 'matches/s (ingestGames into the DynamoDB event store)',
            baseline_unit: `matches/s, Castore pushEvent of the same events at the same concurrency (${scenario.concurrency}), dynalite in memory, ${peerRuns}`,
            target: 'ratio >= 1',
          },
          (t) => rate(w.matches, t.appendSeconds),
        ),
        figure(
          {
            figure: 'replay',
            unit: `events/s (replay: segmented scan, ${scenario.segments} segments, into the teams and standings read models in memory)`,
            baseline_unit: `events/s, Castore listAggregateIds + getEvents per aggregate (${scenario.concurrency} in flight) into the same read models, ${peerRuns}`,
            target: 'ratio >= 10',
          },
          (t) => rate(t.replayed, t.replaySeconds),
        ),
      ]
    : [
        figure(
          {
            figure: 'append',
            unit: 'events/s (InMemoryEventStore.append, one event per new stream)',
            baseline_unit: `events/s, Emmett getInMemoryEventStore appendToStream of the same events, ${peerRuns}`,
            target: 'none (reported)',
          },
          (t) => rate(t.appended, t.appendSeconds),
        ),
        figure(
          {
            figure: 'read',
            unit: 'events/s (InMemoryEventStore.readAll: decoded envelopes, no read model)',
            baseline_unit: `events/s, Emmett readStream of every stream, ${peerRuns}`,
            target: 'none (reported)',
          },
          (t) => rate(t.read ?? 0, t.readSeconds ?? 0),
        ),
        figure(
          {
            figure: 'replay',
            unit: 'events/s (InMemoryEventStore.readAll into the teams and standings read models)',
            baseline_unit: `events/s, Emmett readStream per stream through an Emmett in-memory projection into the same read models, ${peerRuns}`,
            target: 'ratio > 1',
          },
          (t) => rate(t.replayed, t.replaySeconds),
        ),
      ];
  const counts = ({ appendSeconds: _a, replaySeconds: _r, readSeconds: _s, ...c }: Timed) => c;
  return {
    scenario: scenario.name,
    peer: castore ? 'Castore' : 'Emmett',
    peer_version: PEER_VERSIONS[scenario.peer],
    matches: w.matches,
    events: w.events.length,
    concurrency: scenario.concurrency,
    segments: scenario.segments,
    rounds,
    figures,
    check: {
      events_planned: w.events.length,
      ours: ours.map(counts),
      peer: peers.map(counts),
      documents: reference?.length ?? 0,
      read_models_agree: agree,
    },
    note: castore
      ? 'Ours does more per event than Castore: Avro encoding with a schema fingerprint, ids derived from content, and retries recognised as duplicates; Castore stores the JSON payload as a DynamoDB map and keeps a global index of first events for listAggregateIds. Read models are in memory on both sides: the figures compare reading the store, not writing documents (see rebuild).'
      : "Emmett's in-memory store is meant for tests: every append counts the events of all streams (O(streams)), and it has no read across streams, so its replay reads stream by stream. Ours encodes Avro on append and decodes it on read. Both feed the same read model, whose cost dominates the replay figure.",
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  const scenario = PEER_SCENARIOS.find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(
      `unknown scenario ${name}; known: ${PEER_SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  // --tiny: a season of a few teams, once each way, to see that it runs (not a figure).
  const tiny = process.argv.includes('--tiny');
  const result = await measure(
    scenario,
    tiny ? { teams: 8, gamesPerTeam: 3, rounds: 1, warmUp: false } : {},
  );
  if (!result.check.read_models_agree) {
    process.stderr.write('the read models of the two sides differ\n');
    process.exitCode = 1;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
