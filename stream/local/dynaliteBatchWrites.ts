import { dynalitesDb } from './dynaliteKeys.js';
import {
  dependencyModule,
  forThread,
  type ModulePatch,
  replacedInProcess,
} from './modulePatches.js';

type Item = Record<string, unknown>;
type Done = (error?: unknown, result?: unknown) => void;

interface Index {
  readonly IndexName: string;
}

interface Table {
  readonly TableName: string;
  readonly LocalSecondaryIndexes?: readonly Index[];
  readonly GlobalSecondaryIndexes?: readonly Index[];
}

interface ConsumedCapacity {
  readonly CapacityUnits: number;
}

/** One of dynalite's sub-databases (`getSubDb` in `dynalite/db/index.js`), as the patch uses it. */
interface SubDb {
  get(key: string, cb: (error: { name?: string } | null, value?: Item) => void): void;
  batch(
    operations: readonly { type: 'put' | 'del'; key: string; value?: Item }[],
    cb: (error?: unknown) => void,
  ): void;
  /** `lock` 1.1's lock: every key of an array at once, released together. */
  lock(keys: readonly string[], run: (release: (done: () => void) => () => void) => void): void;
}

/** What of a dynalite store (`create` in `dynalite/db/index.js`) the patch uses. */
interface Store {
  getTable(name: string, cb: (error: unknown, table?: Table) => void): void;
  getItemDb(name: string): SubDb;
  getIndexDb(type: 'Local' | 'Global', table: string, index: string): SubDb;
}

/** What of dynalite's `db` module the patch uses. */
interface DynaliteDb {
  validateItem(item: Item, table: Table): unknown;
  validateKey(key: Item, table: Table): unknown;
  createKey(item: Item, table: Table): string;
  validationError(message: string): Error;
  getIndexActions(
    indexes: readonly Index[],
    existing: Item | undefined,
    item: Item | null | undefined,
    table: Table,
  ): {
    puts: { index: string; key: string; item: Item }[];
    deletes: { index: string; key: string }[];
  };
  addConsumedCapacity(
    data: { TableName: string; ReturnConsumedCapacity?: string | undefined },
    isRead: boolean,
    newItem: Item | undefined,
    oldItem?: Item,
  ): ConsumedCapacity | undefined;
}

interface BatchWriteData {
  readonly RequestItems: Record<
    string,
    readonly { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]
  >;
  readonly ReturnConsumedCapacity?: string;
}

type BatchWriteItem = (store: Store, data: BatchWriteData, cb: Done) => void;

/**
 * dynalite serves a BatchWriteItem as a PutItem or DeleteItem of its own for each item: each
 * reads the table's description, checks the item again, takes the item's lock, reads the old
 * item, updates the indexes, writes the item, and answers through a promise and a turn of the
 * event loop, at every step. Behind `matchstream start` and every rebuild, nearly every item
 * written is written so (the read models' documents, the bus archive, the relay's write-back),
 * and dynalite's thread is what the pipeline waits on (bench/README.md, "dynalite's batches
 * written together, and where the CPU goes"). This serves the whole request at once, with
 * the same checks in the same order and the same answer:
 *
 * - each table's description read once, each item checked and its key built once, duplicates
 *   refused as dynalite refuses them;
 * - the keys of all the items locked together, table by table in name order (so two batches
 *   never wait on each other), with the lock PutItem, DeleteItem and UpdateItem take;
 * - the old items read only where something needs them: a table with indexes (their entries
 *   to move) or a request for the consumed capacity (which bills the larger item);
 * - each table's items written as one batch, and each index's entries (its deletes, then its
 *   puts) as one; the locks released once all are written.
 *
 * dynalite's own writes one item at a time, so a crash in the middle could leave part of a
 * batch; here each table's part is written whole or not at all, one of the states the other
 * could leave. A batch that fails to write fails the request, as the first item that failed
 * did before.
 *
 * Self-contained on purpose: a server thread runs its source text (`dynaliteBatchWritePatches`).
 * It is given dynalite's `db` module and gives back the action that replaces
 * `dynalite/actions/batchWriteItem.js`.
 */
export function batchWritesTogether(db: DynaliteDb): BatchWriteItem {
  const capacityRequested = (data: BatchWriteData) =>
    data.ReturnConsumedCapacity === 'TOTAL' || data.ReturnConsumedCapacity === 'INDEXES';
  /** An item to put, or (without one) a key to delete. */
  type Write = { readonly key: string; readonly item?: Item };
  type TableWrites = { readonly name: string; readonly table: Table; readonly writes: Write[] };

  const finish = (cb: Done, error: unknown) => {
    const body = (error as { body?: { message?: string } } | null)?.body;
    if (body?.message && /Missing the key|Type mismatch for key/.test(body.message))
      body.message = 'The provided key element does not match the schema';
    cb(error);
  };

  // Checks each table's requests and builds their keys, as dynalite's batchWriteItem does.
  const checked = (name: string, table: Table, data: BatchWriteData): TableWrites | Error => {
    const writes: Write[] = [];
    const seen = new Set<string | undefined>();
    // As dynalite's: a request of neither kind (its checks let none through) counts the key before it.
    let key: string | undefined;
    for (const request of data.RequestItems[name] ?? []) {
      if (request.PutRequest) {
        const invalid = db.validateItem(request.PutRequest.Item, table);
        if (invalid != null) return invalid as Error;
        const item = request.PutRequest.Item;
        key = db.createKey(item, table);
        writes.push({ key, item });
      } else if (request.DeleteRequest) {
        const invalid = db.validateKey(request.DeleteRequest.Key, table);
        if (invalid != null) return invalid as Error;
        key = db.createKey(request.DeleteRequest.Key, table);
        writes.push({ key });
      }
      if (seen.has(key))
        return db.validationError('Provided list of item keys contains duplicates');
      seen.add(key);
    }
    return { name, table, writes };
  };

  // Locks every table's keys, one table after the other in name order.
  const lockAll = (
    tables: readonly TableWrites[],
    store: Store,
    run: (release: () => void) => void,
  ) => {
    const ordered = [...tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const releases: (() => void)[] = [];
    const releaseAll = () => {
      for (const release of releases.reverse()) release();
    };
    const next = (i: number) => {
      const tableWrites = ordered[i];
      if (!tableWrites) {
        run(releaseAll);
        return;
      }
      const keys = tableWrites.writes.map((w) => w.key);
      // \`lock\` never answers a call with no keys.
      if (keys.length === 0) {
        next(i + 1);
        return;
      }
      store.getItemDb(tableWrites.name).lock(keys, (release) => {
        releases.push(release(() => {}));
        next(i + 1);
      });
    };
    next(0);
  };

  // The old item of every write that needs it (undefined where none is stored).
  const oldItems = (
    tableWrites: TableWrites,
    store: Store,
    needed: boolean,
    done: (error: unknown, old?: (Item | undefined)[]) => void,
  ) => {
    const old: (Item | undefined)[] = new Array(tableWrites.writes.length);
    if (!needed || tableWrites.writes.length === 0) {
      done(null, old);
      return;
    }
    const itemDb = store.getItemDb(tableWrites.name);
    let waiting = tableWrites.writes.length;
    let failed = false;
    tableWrites.writes.forEach((write, i) => {
      itemDb.get(write.key, (error, value) => {
        if (failed) return;
        if (error && error.name !== 'NotFoundError') {
          failed = true;
          done(error);
          return;
        }
        old[i] = error ? undefined : value;
        if (--waiting === 0) done(null, old);
      });
    });
  };

  return function batchWriteItem(store, data, cb) {
    const names = Object.keys(data.RequestItems);
    const all = new Array<TableWrites>(names.length);
    let described = 0;
    let failed = false;
    // Each table checked as its description comes, as dynalite's: the first error answers.
    names.forEach((name, i) => {
      store.getTable(name, (error, table) => {
        if (failed) return;
        const result = error ? error : checked(name, table as Table, data);
        if (!(result as TableWrites).writes) {
          failed = true;
          finish(cb, result);
          return;
        }
        all[i] = result as TableWrites;
        if (++described === names.length) write();
      });
    });

    function write() {
      lockAll(all, store, (release) => {
        const settled = (error: unknown, result?: unknown) => {
          release();
          if (error) finish(cb, error);
          else cb(null, result);
        };
        let waiting = all.length;
        let failedRead = false;
        const olds: (Item | undefined)[][] = new Array(all.length);
        all.forEach((tableWrites, i) => {
          const { table } = tableWrites;
          const indexed =
            (table.LocalSecondaryIndexes?.length ?? 0) > 0 ||
            (table.GlobalSecondaryIndexes?.length ?? 0) > 0;
          oldItems(tableWrites, store, indexed || capacityRequested(data), (error, old) => {
            if (failedRead) return;
            if (error) {
              failedRead = true;
              settled(error);
              return;
            }
            olds[i] = old as (Item | undefined)[];
            if (--waiting === 0) writeAll(all, olds, settled);
          });
        });
      });
    }

    function writeAll(
      all: readonly TableWrites[],
      olds: readonly (Item | undefined)[][],
      settled: (error: unknown, result?: unknown) => void,
    ) {
      type Operation = { type: 'put' | 'del'; key: string; value?: Item };
      const batches: { db: SubDb; operations: Operation[] }[] = [];
      const billed = capacityRequested(data);
      const units = new Map<string, number>();
      for (const [t, { name, table, writes }] of all.entries()) {
        const old = olds[t] as (Item | undefined)[];
        const items: Operation[] = [];
        // Each index's entries: its deletes, then its puts.
        const entries = new Map<SubDb, { deletes: Operation[]; puts: Operation[] }>();
        const entriesOf = (type: 'Local' | 'Global', index: string) => {
          const indexDb = store.getIndexDb(type, name, index);
          const found = entries.get(indexDb) ?? { deletes: [], puts: [] };
          entries.set(indexDb, found);
          return found;
        };
        for (const [i, w] of writes.entries()) {
          const existing = old[i];
          if (w.item) items.push({ type: 'put', key: w.key, value: w.item });
          else items.push({ type: 'del', key: w.key });
          if (existing || w.item) {
            for (const type of ['Local', 'Global'] as const) {
              const indexes = table[`${type}SecondaryIndexes`] ?? [];
              if (indexes.length === 0) continue;
              const actions = db.getIndexActions(indexes, existing, w.item ?? null, table);
              for (const d of actions.deletes)
                entriesOf(type, d.index).deletes.push({ type: 'del', key: d.key });
              for (const p of actions.puts)
                entriesOf(type, p.index).puts.push({ type: 'put', key: p.key, value: p.item });
            }
          }
          if (billed) {
            const request = {
              TableName: name,
              ReturnConsumedCapacity: data.ReturnConsumedCapacity,
            };
            const consumed = w.item
              ? db.addConsumedCapacity(request, false, existing, w.item)
              : db.addConsumedCapacity(request, false, existing);
            units.set(name, (units.get(name) ?? 0) + (consumed?.CapacityUnits ?? 0));
          }
        }
        batches.push({ db: store.getItemDb(name), operations: items });
        for (const [indexDb, { deletes, puts }] of entries)
          batches.push({ db: indexDb, operations: [...deletes, ...puts] });
      }
      let waiting = batches.length;
      let failure: unknown;
      const written = () => {
        const result: { UnprocessedItems: object; ConsumedCapacity?: object[] } = {
          UnprocessedItems: {},
        };
        if (billed)
          result.ConsumedCapacity = [...units].map(([table, capacity]) => ({
            CapacityUnits: capacity,
            TableName: table,
            Table:
              data.ReturnConsumedCapacity === 'INDEXES' ? { CapacityUnits: capacity } : undefined,
          }));
        settled(null, result);
      };
      if (waiting === 0) {
        written();
        return;
      }
      // Every batch settled before the answer and the locks go: none still in flight after a
      // failure, which answers with the first error.
      for (const { db: subDb, operations } of batches)
        subDb.batch(operations, (error) => {
          if (error && failure === undefined) failure = error;
          if (--waiting > 0) return;
          if (failure === undefined) written();
          else settled(failure);
        });
    }
  };
}

/** dynalite's batchWriteItem action, which the patch replaces. */
export const dynalitesBatchWriteItem = (): string =>
  dependencyModule('dynalite', './actions/batchWriteItem');

/** The patch as a server thread takes it: given dynalite's `db` module, its action replaces dynalite's. */
export const dynaliteBatchWritePatches = (): readonly ModulePatch[] => [
  { ...forThread(batchWritesTogether, dynalitesDb()), replaces: dynalitesBatchWriteItem() },
];

/**
 * The patch, in this process: it takes effect for the dynalite loaded after it (dynalite's
 * server picks its actions when it loads).
 */
export const patchDynaliteBatchWrites = (): void =>
  replacedInProcess(batchWritesTogether, dynalitesDb(), dynalitesBatchWriteItem());
