import { dynalitesDb } from './dynaliteKeys.js';
import { forThread, inProcess, type ModulePatch } from './modulePatches.js';

type Callback = (error: unknown, table?: unknown) => void;

/** What of a dynalite store (`create` in `dynalite/db/index.js`) the patch below changes. */
interface Store {
  getTable(name: string, checkStatus: boolean | Callback, cb?: Callback): void;
  readonly tableDb: Record<'put' | 'del' | 'batch', (...args: unknown[]) => unknown>;
}

/** What of dynalite's `db` module the patch below changes. */
interface DynaliteDb {
  create(options: object): Store;
}

/**
 * dynalite reads a table's description from LevelDB and parses it for every item a request
 * touches: each item of a BatchWriteItem is a PutItem of its own, which reads it again. In a
 * CPU profile of `matchstream start` (1,000 teams) that was 0.57 s of the 12 s dynalite's
 * thread was busy (bench/README.md, "dynalite's type check without a copy, and its table
 * descriptions kept"). This keeps the description an item operation was given (a table that
 * exists and is active: those ask with `checkStatus`) and hands it to the next one, on a later
 * turn of the event loop as a read would. Item operations only read it; the operations that
 * change a table (create, update, delete) read it from LevelDB as before, and every write of a
 * description drops what is kept and keeps nothing until the writes in flight are done. A
 * write without a callback, which dynalite does not make, ends the keeping for good.
 *
 * Self-contained on purpose: a server thread runs its source text (`dynaliteTablePatches`).
 */
export function tablesKept(db: DynaliteDb): void {
  const marked = db as DynaliteDb & Record<symbol, unknown>;
  const patched = Symbol.for('matchstream.tablesKept');
  if (marked[patched]) return;
  marked[patched] = true;
  const create = db.create;
  db.create = (options) => {
    const store = create(options);
    const { getTable, tableDb } = store;
    const kept = new Map<string, unknown>();
    let writing = 0;
    let writes = 0;
    let keeping = true;
    for (const method of ['put', 'del', 'batch'] as const) {
      const write = tableDb[method];
      tableDb[method] = function (this: unknown, ...args: unknown[]) {
        writes++;
        const done = args[args.length - 1];
        if (typeof done !== 'function') {
          keeping = false;
          return write.apply(this, args);
        }
        writing++;
        args[args.length - 1] = function (this: unknown, ...results: unknown[]) {
          writing--;
          writes++;
          kept.clear();
          return done.apply(this, results);
        };
        return write.apply(this, args);
      };
    }
    store.getTable = function (this: unknown, name, checkStatus, cb) {
      if (typeof checkStatus !== 'function' || !keeping) {
        getTable.call(this, name, checkStatus, cb);
        return;
      }
      const answer = checkStatus;
      const table = writing === 0 ? kept.get(name) : undefined;
      if (table !== undefined) {
        setImmediate(answer, null, table);
        return;
      }
      const before = writes;
      getTable.call(this, name, (error, found) => {
        if (!error && found !== undefined && keeping && writing === 0 && writes === before)
          kept.set(name, found);
        answer(error, found);
      });
    };
    return store;
  };
}

/** The patch as a server thread takes it: its source and dynalite's `db` module. */
export const dynaliteTablePatches = (): readonly ModulePatch[] => [
  forThread(tablesKept, dynalitesDb()),
];

/** The patch, in this process. */
export const patchDynaliteTables = (): void => inProcess(tablesKept, dynalitesDb());
