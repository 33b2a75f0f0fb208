import { createRequire } from 'node:module';
import { forThread, type ModulePatch } from './modulePatches.js';

/** What of classic-level the patches below change. */
interface ClassicLevelModule {
  readonly ClassicLevel: { readonly prototype: object };
}

/** What of memory-level (dynalite's store in memory) `countedWrites` changes. */
interface MemoryLevelModule {
  readonly MemoryLevel: { readonly prototype: object };
}

interface Reader {
  _get(key: unknown, options: object): Promise<unknown>;
  _getSync?(key: unknown, options: object): unknown;
}

interface Writer {
  _put(key: unknown, value: unknown, options: { sync?: boolean }): Promise<void>;
  _del(key: unknown, options: { sync?: boolean }): Promise<void>;
  _batch(operations: object[], options: object): Promise<void>;
  _close(): Promise<void>;
}

interface Opener {
  _open(options: { writeBufferSize?: number }): Promise<void>;
}

/**
 * dynalite reads from LevelDB for every item it serves, and before every item it writes (the
 * table's description, then the item: the condition, the old image, the indexes).
 * classic-level 3 runs each read on libuv's thread pool, and takes the read's snapshot first,
 * on the calling thread, under LevelDB's lock, which the pool's writes take too: in a CPU profile
 * of `matchstream start` on 330 teams, dynalite's thread spent 3.9 s of 14 inside `_get`
 * (bench/README.md, "Reads in place"). This makes a read run where it is asked for, with the
 * same snapshot semantics (the state when the read is asked for) and the same results, as
 * classic-level's own `getSync`. On dynalite's thread it blocks nothing but dynalite, which
 * answers one request at a time anyway. An older classic-level without `_getSync` is left alone.
 *
 * Self-contained on purpose: a server thread runs its source text (`classicLevelPatches`).
 */
export function readInPlace(level: ClassicLevelModule): void {
  const prototype = level.ClassicLevel.prototype as Reader;
  if (typeof prototype._getSync !== 'function') return;
  prototype._get = async function (this: Required<Reader>, key: unknown, options: object) {
    return this._getSync(key, options);
  };
}

/**
 * LevelDB writes its memory table to a new level-0 file each time it reaches the write buffer
 * (classic-level's default: 4 MB), and compacts those files into the levels below on a
 * thread of its own. dynalite opens its store with the default, so a 3,000-team season
 * through `matchstream start` flushed 128 files and compacted 1,060 MB for a 52 MB store, on
 * the same two cores as the pipeline. With 32 MB it flushed 16 and compacted 205 MB
 * (bench/README.md, "Reads in place"). The memory table (and the one being flushed) can hold
 * up to twice that; a write buffer the opener names is kept.
 *
 * Self-contained on purpose: a server thread runs its source text (`classicLevelPatches`).
 */
export function largerWriteBuffer(level: ClassicLevelModule): void {
  const prototype = level.ClassicLevel.prototype as Opener & Record<symbol, unknown>;
  // Once: a process starts many in-process dynalites.
  const patched = Symbol.for('matchstream.largerWriteBuffer');
  if (prototype[patched]) return;
  prototype[patched] = true;
  const open = prototype._open;
  prototype._open = function (this: Opener, options) {
    return open.call(this, { ...options, writeBufferSize: options.writeBufferSize ?? 32 << 20 });
  };
}

/**
 * dynalite writes each item, index entry and table description with a `put` (or `del`) of
 * its own, and classic-level hands each to libuv's thread pool as a task of its own, which
 * wakes a pool thread on the same cores as the pipeline: in `matchstream start`, more than ten
 * a feed event, while dynalite's thread was the one the pipeline waited for (bench/README.md,
 * "Less work for the embedded dynalite per request, and the relay handed its commits"). This
 * gathers the puts and deletes asked for in one turn of the event loop and writes them as one
 * LevelDB batch, in the order asked, when the turn ends; each resolves (or rejects) with its
 * batch. A batch is atomic where separate writes were not, so a process killed meanwhile
 * leaves none of it or all of it, one of the states separate writes could leave; a read sees
 * a write once it has resolved, as before. A write asked to sync goes alone, as before;
 * closing writes what is gathered first.
 *
 * Self-contained on purpose: a server thread runs its source text (`classicLevelPatches`).
 */
export function batchedWrites(level: ClassicLevelModule): void {
  const prototype = level.ClassicLevel.prototype as Writer & Record<symbol, unknown>;
  const patched = Symbol.for('matchstream.batchedWrites');
  if (Object.hasOwn(prototype, patched)) return;
  prototype[patched] = true;
  const { _put: put, _del: del, _batch: batch, _close: close } = prototype;
  type Gathered = {
    readonly operations: object[];
    readonly settle: { resolve: () => void; reject: (error: unknown) => void }[];
    readonly timer: NodeJS.Immediate;
  };
  const gathered = Symbol('gathered');
  const writing = Symbol('writing');
  type Db = Writer & { [gathered]?: Gathered; [writing]?: Set<Promise<void>> };
  const write = (db: Db): void => {
    const batchOf = db[gathered];
    if (!batchOf) return;
    delete db[gathered];
    clearImmediate(batchOf.timer);
    const inFlight = db[writing] ?? new Set();
    db[writing] = inFlight;
    const done = batch.call(db, batchOf.operations, {}).then(
      () => {
        for (const s of batchOf.settle) s.resolve();
      },
      (error: unknown) => {
        for (const s of batchOf.settle) s.reject(error);
      },
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };
  const gather = (db: Db, operation: object): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const batchOf = db[gathered] ?? {
        operations: [],
        settle: [],
        timer: setImmediate(() => write(db)),
      };
      db[gathered] = batchOf;
      batchOf.operations.push(operation);
      batchOf.settle.push({ resolve, reject });
    });
  prototype._put = function (this: Db, key, value, options) {
    if (options?.sync) return put.call(this, key, value, options);
    return gather(this, { type: 'put', key, value });
  };
  prototype._del = function (this: Db, key, options) {
    if (options?.sync) return del.call(this, key, options);
    return gather(this, { type: 'del', key });
  };
  prototype._close = async function (this: Db) {
    write(this);
    await Promise.allSettled([...(this[writing] ?? [])]);
    return close.call(this);
  };
}

/**
 * Where the store counts its writes to the tables a process asks about: `counter[i]` goes up
 * once a write to a table whose name starts with `prefixes[i]` (the first that does) has been
 * written, so a reader that finds it unchanged knows nothing in those tables changed since.
 * Set on `globalThis` under `WRITE_COUNTER` (a server thread's from what it was started with);
 * shared memory, so the process reads it at once on any thread.
 */
export interface WriteCounter {
  /** One count for each prefix. */
  readonly counter: Int32Array;
  readonly prefixes: readonly string[];
}

/** The key of the `WriteCounter` on `globalThis`. */
export const WRITE_COUNTER = 'matchstream.writeCounter';

/**
 * Counts dynalite's writes to the tables the `WriteCounter` names, once each is written: an
 * item of table T is stored under `item-T~…`. A write or a batch counts once for each prefix
 * its items have. Reads the counter at each write, so a process may set it after the store
 * opened; without one it counts nothing.
 *
 * Self-contained on purpose: a server thread runs its source text (`classicLevelPatches`).
 */
export function countedWrites(level: ClassicLevelModule | MemoryLevelModule): void {
  const store = 'ClassicLevel' in level ? level.ClassicLevel : level.MemoryLevel;
  const prototype = store.prototype as Writer & Record<symbol, unknown>;
  const patched = Symbol.for('matchstream.countedWrites');
  if (Object.hasOwn(prototype, patched)) return;
  prototype[patched] = true;
  const { _put: put, _del: del, _batch: batch } = prototype;
  type Counter = { counter: Int32Array; prefixes: readonly string[] };
  /** Which prefix the key's table has, if any (-1: none). */
  const prefixOf = (key: unknown, where: Counter): number => {
    const text = typeof key === 'string' ? key : String(key);
    if (!text.startsWith('item-')) return -1;
    return where.prefixes.findIndex((prefix) => text.startsWith(prefix, 5));
  };
  const after = async (written: Promise<void>, keys: readonly unknown[]): Promise<void> => {
    await written;
    const where = (globalThis as Record<symbol, Counter | undefined>)[
      Symbol.for('matchstream.writeCounter')
    ];
    if (!where) return;
    const counted = new Set<number>();
    for (const key of keys) counted.add(prefixOf(key, where));
    counted.delete(-1);
    for (const i of counted) Atomics.add(where.counter, i, 1);
  };
  prototype._put = function (this: Writer, key, value, options) {
    return after(put.call(this, key, value, options), [key]);
  };
  prototype._del = function (this: Writer, key, options) {
    return after(del.call(this, key, options), [key]);
  };
  prototype._batch = function (this: Writer, operations, options) {
    return after(
      batch.call(this, operations, options),
      operations.map((o) => (o as { key?: unknown }).key),
    );
  };
}

/**
 * A store that cannot be opened (its folder locked, its files damaged): classic-level keeps the
 * reason to itself and fails each later operation with "Database is not open", which dynalite
 * turns into answers that say nothing of why. This hands the reason to the server thread's
 * `matchstream.serverFailed` hook (`serverThread.ts`), which ends the thread with it, so that
 * every request says why. Where no hook is set (a dynalite in this process), nothing changes.
 *
 * Self-contained on purpose: a server thread runs its source text (`classicLevelPatches`).
 */
export function reportOpenFailures(level: ClassicLevelModule): void {
  const prototype = level.ClassicLevel.prototype as Opener & Record<symbol, unknown>;
  const patched = Symbol.for('matchstream.reportOpenFailures');
  if (prototype[patched]) return;
  prototype[patched] = true;
  const open = prototype._open;
  prototype._open = async function (this: Opener, options) {
    try {
      return await open.call(this, options);
    } catch (error) {
      const failed = (globalThis as Record<symbol, unknown>)[
        Symbol.for('matchstream.serverFailed')
      ];
      if (typeof failed === 'function') failed(error);
      throw error;
    }
  };
}

/** The patches as a server thread takes them: each function's source and the module it is given. */
export function classicLevelPatches(): readonly ModulePatch[] {
  const module = dynalitesClassicLevel();
  return [
    ...[readInPlace, largerWriteBuffer, reportOpenFailures, batchedWrites, countedWrites].map(
      (patch) => forThread(patch, module),
    ),
    // A store in memory counts its writes the same way.
    forThread(countedWrites, dynalitesMemoryLevel()),
  ];
}

/** The patches, in this process (`memoryLevel`: the memory-level module dynalite loads). */
export function patchClassicLevel(level: ClassicLevelModule, memoryLevel: MemoryLevelModule): void {
  readInPlace(level);
  largerWriteBuffer(level);
  batchedWrites(level);
  countedWrites(level);
  countedWrites(memoryLevel);
}

/** The memory-level dynalite keeps a store in memory with. */
export function dynalitesMemoryLevel(): string {
  const dynalite = createRequire(import.meta.url).resolve('dynalite');
  return createRequire(dynalite).resolve('memory-level');
}

/** The classic-level dynalite stores in (through `level`). */
export function dynalitesClassicLevel(): string {
  const dynalite = createRequire(import.meta.url).resolve('dynalite');
  const level = createRequire(dynalite).resolve('level');
  return createRequire(level).resolve('classic-level');
}
