/**
 * Document writes per event through the whole pipeline, per table: a generated season run
 * through the embedded pipeline as `matchstream start` runs it (ingest with the bus router
 * held, the read models and the saga consumer catching up, the router catching up, the
 * season's RPI saga), then a rebuild of each read model. Every item the DynamoDB client
 * writes is counted by a middleware on it: a PutItem, an UpdateItem or a DeleteItem that
 * DynamoDB accepted or refused on its condition (both are billed), and each request item of
 * a BatchWriteItem that DynamoDB processed. What the sizing guide's write figures come from.
 *
 * `node dist/bench/writes.js writes-per-event` (or `writes-per-event-1000`).
 */
import { pathToFileURL } from 'node:url';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { generateSeason } from '../domain/season/generateSeason.js';
import type { GameRow } from '../feeds/readGames.js';
import { ingestGames } from '../ingest/ingestGames.js';
import { SAGA_TABLES, startPipeline } from '../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../pipeline/readModels.js';
import { rebuildReadModel } from '../pipeline/rebuild.js';
import { REGISTRY_TABLE } from '../projections/ReadModelRegistry.js';
import { eventCounts } from '../projections/readModels/pipelineStats.js';
import { BUS_ARCHIVE_TABLE } from '../stream/buses/BusArchive.js';
import { CHECKPOINTS_TABLE } from '../stream/consumer/CheckpointStore.js';
import { DEAD_LETTERS_TABLE } from '../stream/consumer/DeadLetterQueue.js';
import { POSITIONS_TABLE } from '../stream/consumer/DynamoPositionStore.js';
import { EVENTS_TABLE } from '../stream/eventStore/eventsTable.js';
import { REPLAYS_TABLE } from '../stream/replay/ReplayCheckpoints.js';

export interface WritesScenario {
  readonly name: string;
  readonly teams: number;
  readonly gamesPerTeam: number;
  /** Rebuild every read model afterwards and count its writes. @default true */
  readonly rebuild?: boolean;
  /** Run by `npm run bench -- --quick` too. */
  readonly quick?: boolean;
}

export const WRITES_SCENARIOS: readonly WritesScenario[] = [
  // The sizing guide's season: 330 teams, 18 games each (3,069 results).
  { name: 'writes-per-event', teams: 330, gamesPerTeam: 18, quick: true },
  { name: 'writes-per-event-1000', teams: 1000, gamesPerTeam: 20, rebuild: false },
];

/** Items written to one table (or one consumer's positions), by kind of request. */
export interface TableWrites {
  put: number;
  update: number;
  delete: number;
  /** Request items of BatchWriteItem calls that DynamoDB processed. */
  batch: number;
  /** Conditional writes DynamoDB refused: billed like a write. */
  refused: number;
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

/** A table's figures keyed by what the table is for (`positions:<consumer>` for positions). */
export class WriteCounter {
  private readonly tables = new Map<string, TableWrites>();

  /** Adds the counting middleware to a DynamoDB client of the runtime. */
  readonly configure = (client: DynamoDBClient | KinesisClient, service: string): void => {
    if (service !== 'dynamodb') return;
    (client as DynamoDBClient).middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? '';
        if (!WRITE_COMMANDS.has(command)) return next(args);
        const input = args.input as WriteInput;
        try {
          const result = await next(args);
          this.count(command, input, (result.output ?? {}) as BatchOutput);
          return result;
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException' && input.TableName)
            this.entry(label(input.TableName, input.Item ?? input.Key)).refused++;
          throw error;
        }
      },
      // Once per call, after the SDK's retries: what DynamoDB finally took.
      { step: 'initialize', name: 'countWrites' },
    );
  };

  private count(command: string, input: WriteInput, output: BatchOutput): void {
    if (command === 'BatchWriteItemCommand') {
      for (const [table, requests] of Object.entries(input.RequestItems ?? {})) {
        // What DynamoDB left unprocessed was not written (the caller sends it again).
        for (const r of requests) this.entry(label(table, itemOf(r))).batch++;
        for (const r of output.UnprocessedItems?.[table] ?? [])
          this.entry(label(table, itemOf(r))).batch--;
      }
      return;
    }
    const table = input.TableName;
    if (!table) return;
    const entry = this.entry(label(table, input.Item ?? input.Key));
    if (command === 'PutItemCommand') entry.put++;
    else if (command === 'UpdateItemCommand') entry.update++;
    else entry.delete++;
  }

  private entry(key: string): TableWrites {
    let entry = this.tables.get(key);
    if (!entry) {
      entry = { put: 0, update: 0, delete: 0, batch: 0, refused: 0 };
      this.tables.set(key, entry);
    }
    return entry;
  }

  /** Items written per table since the last `take` (and starts counting afresh). */
  take(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, w] of [...this.tables].sort(([a], [b]) => a.localeCompare(b)))
      out.set(key, w.put + w.update + w.delete + w.batch + w.refused);
    this.tables.clear();
    return out;
  }
}

type Item = Record<string, AttributeValue>;
interface WriteRequestLike {
  PutRequest?: { Item?: Item };
  DeleteRequest?: { Key?: Item };
}
interface WriteInput {
  TableName?: string;
  Item?: Item;
  Key?: Item;
  RequestItems?: Record<string, WriteRequestLike[]>;
}
interface BatchOutput {
  UnprocessedItems?: Record<string, WriteRequestLike[]>;
}

const itemOf = (r: WriteRequestLike) => r.PutRequest?.Item ?? r.DeleteRequest?.Key;

/** What a table is for; positions are split by the consumer they belong to. */
function label(table: string, item: Item | undefined): string {
  if (table === POSITIONS_TABLE || table === CHECKPOINTS_TABLE) {
    const consumer = item?.consumer?.S ?? '?';
    return `${table === POSITIONS_TABLE ? 'positions' : 'checkpoints'}:${consumer}`;
  }
  return TABLE_ROLES.get(table) ?? table;
}

const TABLE_ROLES = new Map<string, string>([
  [EVENTS_TABLE, 'events'],
  [DEAD_LETTERS_TABLE, 'dead-letters'],
  [BUS_ARCHIVE_TABLE, 'bus-archive'],
  [REGISTRY_TABLE, 'read-model-registry'],
  [REPLAYS_TABLE, 'replay-checkpoints'],
  [SAGA_TABLES.work, 'saga-work'],
  [SAGA_TABLES.directory, 'saga-team-directory'],
  [SAGA_TABLES.cache, 'saga-rankings-cache'],
  [SAGA_TABLES.notifications, 'saga-notifications'],
]);

/** The groups of the summary: read models, positions, checkpoints, the rest by name. */
function group(key: string): string {
  if (key.startsWith('matchstream-rm-')) return 'read models';
  if (key.startsWith('positions:')) return 'positions';
  if (key.startsWith('checkpoints:')) return 'shard checkpoints';
  if (key.startsWith('saga-')) return 'saga (work, directory, cache, notifications)';
  return key;
}

/** Each table's items and items per event, and the same per group, largest first. */
function perEvent(counts: ReadonlyMap<string, number>, events: number) {
  const ratio = (n: number) => Number((n / Math.max(1, events)).toFixed(3));
  const groups = new Map<string, number>();
  for (const [key, n] of counts) groups.set(group(key), (groups.get(group(key)) ?? 0) + n);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return {
    items: total,
    value: ratio(total),
    unit: 'items written per event stored',
    groups: [...groups]
      .sort(([, a], [, b]) => b - a)
      .map(([name, items]) => ({ group: name, items, per_event: ratio(items) })),
    tables: [...counts]
      .sort(([, a], [, b]) => b - a)
      .map(([table, items]) => ({ table, items, per_event: ratio(items) })),
  };
}

async function* seasonRows(games: ReturnType<typeof generateSeason>['games']) {
  for (let i = 0; i < games.length; i += 1000)
    yield games
      .slice(i, i + 1000)
      .map((game, j): GameRow => ({ kind: 'game', line: i + j + 2, game, fields: {} }));
}

export async function measure(scenario: WritesScenario) {
  const counter = new WriteCounter();
  const pipeline = await startPipeline({
    memory: true,
    configureClient: counter.configure,
  });
  try {
    const { runtime, sagas } = pipeline;
    const season = generateSeason({
      teams: scenario.teams,
      gamesPerTeam: scenario.gamesPerTeam,
      seed: 19,
    });
    counter.take(); // the tables' creation and the registry's first entries are not the season's
    // As `matchstream start` does: the router holds the buses while the season is stored and
    // the read models catch up, then carries it in large batches.
    await pipeline.router.disable();
    const started = performance.now();
    const ingested = await ingestGames(seasonRows(season.games), {
      store: runtime.store,
      concurrency: 16,
    });
    await runtime.settle(600_000);
    await pipeline.router.enable();
    await runtime.settle(600_000);
    // The season's last saga (the bus handlers ask for it, debounced), and any other running.
    for (let round = 0; round < 20; round++) {
      const latest = await sagas.requests.latest(season.season);
      if (latest === undefined) break;
      await sagas.waitFor(latest, 600_000);
      await runtime.settle(600_000);
      if ((await sagas.requests.latest(season.season)) === latest) break;
    }
    await sagas.settle();
    await runtime.settle(600_000);
    const seconds = (performance.now() - started) / 1000;
    const live = counter.take();
    const counted = await eventCounts(pipeline.stores['pipeline-stats']);
    const rebuilds = [];
    if (scenario.rebuild ?? true) {
      for (const projection of READ_MODELS) {
        const summary = await rebuildReadModel(pipeline, projection, { verify: false });
        const writes = counter.take();
        rebuilds.push({
          read_model: projection.name,
          events_read: summary.scanned,
          events_applied: summary.events,
          per_event_read: perEvent(writes, summary.scanned),
          per_event_applied: Number(
            ([...writes.values()].reduce((a, b) => a + b, 0) / Math.max(1, summary.events)).toFixed(
              3,
            ),
          ),
        });
      }
    }
    return {
      scenario: scenario.name,
      teams: scenario.teams,
      matches: ingested.appended,
      events: counted.total,
      events_by_type: counted.by_type,
      sagas_started: sagas.handlers.match.stats.sagas_started,
      seconds: Number(seconds.toFixed(1)),
      pipeline: perEvent(live, counted.total),
      rebuilds,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await pipeline.stop();
  }
}

export type WritesResult = Awaited<ReturnType<typeof measure>>;

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  const scenario = WRITES_SCENARIOS.find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(
      `unknown scenario ${name}; known: ${WRITES_SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure(scenario))}\n`);
}
