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

/**
 * A table's figures keyed by what the table is for (`positions:<consumer>` for positions),
 * and an estimate of the write units they bill: DynamoDB bills a PutItem or an UpdateItem by
 * the larger of the item's size before and after the write, a DeleteItem by the size of the
 * item deleted, in 1 KB units, at least 1 (Developer Guide, "Capacity unit consumption for
 * write operations"). The sizes come from a model of each item, kept from the writes seen.
 */
export class WriteCounter {
  private readonly tables = new Map<string, TableWrites>();
  private readonly units = new Map<string, number>();
  private readonly sizes = new ItemSizes();

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
          if ((error as Error).name === 'ConditionalCheckFailedException' && input.TableName) {
            const key = label(input.TableName, input.Item ?? input.Key);
            this.entry(key).refused++;
            this.bill(key, this.sizes.refused(input.TableName, input.Item ?? input.Key ?? {}));
          }
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
        const unprocessed = new Set(output.UnprocessedItems?.[table] ?? []);
        for (const r of requests) {
          const key = label(table, itemOf(r));
          this.entry(key).batch++;
          // An unprocessed item is compared by content: the SDK hands back equal objects.
          const left = [...unprocessed].find((u) => JSON.stringify(u) === JSON.stringify(r));
          if (left) {
            unprocessed.delete(left);
            this.entry(key).batch--;
            continue;
          }
          if (r.PutRequest?.Item) this.bill(key, this.sizes.put(table, r.PutRequest.Item));
          else if (r.DeleteRequest?.Key)
            this.bill(key, this.sizes.delete(table, r.DeleteRequest.Key));
        }
      }
      return;
    }
    const table = input.TableName;
    if (!table) return;
    const key = label(table, input.Item ?? input.Key);
    const entry = this.entry(key);
    if (command === 'PutItemCommand') {
      entry.put++;
      this.bill(key, this.sizes.put(table, input.Item ?? {}));
    } else if (command === 'UpdateItemCommand') {
      entry.update++;
      this.bill(key, this.sizes.update(table, input));
    } else {
      entry.delete++;
      this.bill(key, this.sizes.delete(table, input.Key ?? {}));
    }
  }

  private bill(key: string, units: number): void {
    this.units.set(key, (this.units.get(key) ?? 0) + units);
  }

  /** Estimated write units per table since the last `take` (`take` clears them too). */
  writeUnits(): Map<string, number> {
    return new Map(this.units);
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
    this.units.clear();
    return out;
  }
}

/**
 * The size of each item written, as DynamoDB counts it (each attribute's name and value in
 * bytes), kept per table and key from the writes seen: enough to say what a write bills.
 */
export class ItemSizes {
  private readonly items = new Map<string, Map<string, number>>();

  /** A whole item written: billed by the larger of its size before and after. */
  put(table: string, item: Item): number {
    const k = itemKey(table, item);
    const before = this.size(k);
    const attributes = new Map(Object.entries(item).map(([n, v]) => [n, attributeSize(n, v)]));
    this.items.set(k, attributes);
    return units(Math.max(before, sum(attributes)));
  }

  delete(table: string, key: Item): number {
    const k = itemKey(table, key);
    const before = this.size(k);
    this.items.delete(k);
    return units(before);
  }

  /** SET and REMOVE of attributes (an ADD counts as a SET of its value). */
  update(table: string, input: UpdateInput): number {
    const k = itemKey(table, input.Key ?? {});
    const before = this.size(k);
    const attributes =
      this.items.get(k) ??
      new Map(Object.entries(input.Key ?? {}).map(([n, v]) => [n, attributeSize(n, v)]));
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const real = (token: string) => names[token] ?? token;
    const expression = input.UpdateExpression ?? '';
    for (const clause of expression.split(/\b(?=SET |REMOVE |ADD |DELETE )/)) {
      const [verb, ...rest] = clause.trim().split(' ');
      const body = rest.join(' ');
      if (verb === 'REMOVE') for (const n of body.split(',')) attributes.delete(real(n.trim()));
      else if (verb === 'SET' || verb === 'ADD')
        for (const part of body.split(',')) {
          const [name, value] = part.split(verb === 'SET' ? '=' : ' ').map((t) => t.trim());
          const ref = /:[A-Za-z0-9_]+/.exec(value ?? '')?.[0];
          const v = ref ? values[ref] : undefined;
          if (name && v) attributes.set(real(name), attributeSize(real(name), v));
        }
    }
    this.items.set(k, attributes);
    return units(Math.max(before, sum(attributes)));
  }

  /** A conditional write refused: billed by the item's size as it is. */
  refused(table: string, item: Item): number {
    return units(this.size(itemKey(table, item)));
  }

  private size(k: string): number {
    const attributes = this.items.get(k);
    return attributes ? sum(attributes) : 0;
  }
}

interface UpdateInput {
  Key?: Item;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

/** The key attributes of each table (read models and the saga's tables: `pk`, `sk`). */
const KEYS = new Map<string, readonly string[]>([
  [EVENTS_TABLE, ['aggregate_id', 'sequence']],
  [POSITIONS_TABLE, ['consumer', 'aggregate_id']],
]);

function itemKey(table: string, item: Item): string {
  const names = KEYS.get(table) ?? (item.pk ? ['pk', 'sk'] : Object.keys(item).sort().slice(0, 2));
  return `${table}\u0000${names.map((n) => JSON.stringify(item[n] ?? null)).join('\u0000')}`;
}

const sum = (attributes: ReadonlyMap<string, number>) =>
  [...attributes.values()].reduce((a, b) => a + b, 0);
const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** An attribute's size: its name's UTF-8 bytes and its value's (numbers about a byte per two digits). */
function attributeSize(name: string, value: AttributeValue): number {
  return Buffer.byteLength(name) + valueSize(value);
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\./g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M !== undefined)
    return 3 + Object.entries(v.M).reduce((a, [n, x]) => a + attributeSize(n, x), 0);
  if (v.L !== undefined) return 3 + v.L.reduce((a, x) => a + 1 + valueSize(x), 0);
  if (v.SS !== undefined) return v.SS.reduce((a, x) => a + Buffer.byteLength(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((a, x) => a + x.length, 0);
  return 0;
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

/**
 * Each table's items and items per event, and the same per group, largest first; with the
 * write units they are estimated to bill (`units`, `units_per_event`).
 */
function perEvent(
  counts: ReadonlyMap<string, number>,
  events: number,
  writeUnits: ReadonlyMap<string, number> = new Map(),
) {
  const ratio = (n: number) => Number((n / Math.max(1, events)).toFixed(3));
  const groups = new Map<string, { items: number; units: number }>();
  for (const [key, n] of counts) {
    const g = groups.get(group(key)) ?? { items: 0, units: 0 };
    groups.set(group(key), { items: g.items + n, units: g.units + (writeUnits.get(key) ?? 0) });
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const totalUnits = [...writeUnits.values()].reduce((a, b) => a + b, 0);
  return {
    items: total,
    value: ratio(total),
    unit: 'items written per event stored',
    write_units: totalUnits,
    write_units_per_event: ratio(totalUnits),
    groups: [...groups]
      .sort(([, a], [, b]) => b.items - a.items)
      .map(([name, g]) => ({
        group: name,
        items: g.items,
        per_event: ratio(g.items),
        units: g.units,
        units_per_event: ratio(g.units),
      })),
    tables: [...counts]
      .sort(([, a], [, b]) => b - a)
      .map(([table, items]) => ({
        table,
        items,
        per_event: ratio(items),
        units: writeUnits.get(table) ?? 0,
        units_per_event: ratio(writeUnits.get(table) ?? 0),
      })),
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
    // As `matchstream start` does: the router holds the buses while the season is stored and
    // the read models catch up, then carries it in large batches.
    routerEnabled: false,
  });
  try {
    const { runtime, sagas } = pipeline;
    const season = generateSeason({
      teams: scenario.teams,
      gamesPerTeam: scenario.gamesPerTeam,
      seed: 19,
    });
    counter.take(); // the tables' creation and the registry's first entries are not the season's
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
    const liveUnits = counter.writeUnits();
    const live = counter.take();
    const counted = await eventCounts(pipeline.stores['pipeline-stats']);
    const rebuilds = [];
    if (scenario.rebuild ?? true) {
      for (const projection of READ_MODELS) {
        const summary = await rebuildReadModel(pipeline, projection, { verify: false });
        const rebuildUnits = counter.writeUnits();
        const writes = counter.take();
        rebuilds.push({
          read_model: projection.name,
          events_read: summary.scanned,
          events_applied: summary.events,
          per_event_read: perEvent(writes, summary.scanned, rebuildUnits),
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
      pipeline: perEvent(live, counted.total, liveUnits),
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
