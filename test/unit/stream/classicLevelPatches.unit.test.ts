import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  batchedWrites,
  classicLevelPatches,
  countedWrites,
  dynalitesClassicLevel,
  dynalitesMemoryLevel,
  largerWriteBuffer,
  readInPlace,
  WRITE_COUNTER,
} from '../../../stream/local/classicLevelPatches.js';

interface Db {
  open(): Promise<void>;
  close(): Promise<void>;
  put(key: string, value: unknown, options?: object): Promise<void>;
  del(key: string): Promise<void>;
  get(key: string, options?: object): Promise<unknown>;
  snapshot(): { close(): Promise<void> };
  sublevel(name: string, options: object): Db;
}
type DbClass = new (location: string, options: object) => Db;

const classicLevel = createRequire(import.meta.url)(dynalitesClassicLevel()) as {
  ClassicLevel: DbClass;
};

/** A subclass patched on its own: the module's class stays as other tests find it. */
function patchedClass(patch: (level: { ClassicLevel: DbClass }) => void = readInPlace): DbClass {
  const Patched = class extends classicLevel.ClassicLevel {};
  patch({ ClassicLevel: Patched });
  return Patched;
}

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

async function openDb(Db: DbClass, options: object = {}): Promise<Db & { folder: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'matchstream-level-'));
  folders.push(folder);
  const db = new Db(folder, { valueEncoding: 'json', ...options });
  await db.open();
  return Object.assign(db, { folder });
}

/** The level-0 files LevelDB wrote: one each time its memory table reached the write buffer. */
async function tablesAfterWriting(db: Db & { folder: string }, megabytes: number) {
  const value = 'x'.repeat(4096);
  for (let i = 0; i < megabytes * 256; i += 64)
    await Promise.all(Array.from({ length: 64 }, (_, j) => db.put(`k${i + j}`, value)));
  const tables = readdirSync(db.folder).filter((name) => name.endsWith('.ldb')).length;
  await db.close();
  return tables;
}

/** Keeps libuv's thread pool busy: each task resolves with the time it finished. */
function occupyThreadPool(tasks: number): Promise<number>[] {
  return Array.from(
    { length: tasks },
    () =>
      new Promise<number>((resolve, reject) =>
        pbkdf2('matchstream', 'salt', 200_000, 32, 'sha256', (error) =>
          error ? reject(error) : resolve(performance.now()),
        ),
      ),
  );
}

describe("dynalite's LevelDB reads", () => {
  it('read what the pool read: found, missing, in a sublevel, and as of a snapshot', async () => {
    const db = await openDb(patchedClass());
    await db.put('match#1', { home: 'A', away: 'B' });
    const sub = db.sublevel('rm', { valueEncoding: 'json' });
    await sub.put('team#1', { name: 'C' });
    const snapshot = db.snapshot();
    await db.put('match#1', { home: 'A', away: 'D' });

    expect(await db.get('match#1')).toEqual({ home: 'A', away: 'D' });
    expect(await db.get('match#2')).toBeUndefined();
    expect(await sub.get('team#1')).toEqual({ name: 'C' });
    expect(await db.get('match#1', { snapshot })).toEqual({ home: 'A', away: 'B' });
    await snapshot.close();
    await db.close();
  });

  it('do not wait for the thread pool', async () => {
    const db = await openDb(patchedClass());
    await db.put('match#1', { home: 'A' });

    // More tasks than the pool has threads (4 unless UV_THREADPOOL_SIZE says otherwise).
    const busy = occupyThreadPool(Math.max(Number(process.env.UV_THREADPOOL_SIZE) || 4, 4) * 2);
    const read = db.get('match#1').then((value) => ({ value, at: performance.now() }));
    const [done, ...finished] = await Promise.all([read, ...busy]);

    expect(done.value).toEqual({ home: 'A' });
    expect(done.at).toBeLessThan(Math.min(...finished));
    await db.close();
  });
});

describe("dynalite's LevelDB write buffer", () => {
  it("holds 12 MB of writes in memory where classic-level's default of 4 MB writes tables", async () => {
    const patched = await openDb(patchedClass(largerWriteBuffer));
    // Named, not left to the default: another test of this worker may have patched the module.
    const unpatched = await openDb(classicLevel.ClassicLevel, { writeBufferSize: 4 << 20 });

    expect(await tablesAfterWriting(patched, 12)).toBe(0);
    expect(await tablesAfterWriting(unpatched, 12)).toBeGreaterThan(0);
  });

  it('is what the opener names when it names one', async () => {
    const db = await openDb(patchedClass(largerWriteBuffer), { writeBufferSize: 1 << 20 });

    expect(await tablesAfterWriting(db, 12)).toBeGreaterThan(0);
  });
});

/** A class whose LevelDB writes are counted: each batch's size, and the writes that went alone. */
function countingClass() {
  const batches: number[] = [];
  const alone: string[] = [];
  const Counting = class extends (classicLevel.ClassicLevel as unknown as new (
    ...args: unknown[]
  ) => {
    _batch(operations: { key: unknown }[], options: object): Promise<void>;
    _put(key: unknown, value: unknown, options: object): Promise<void>;
  }) {
    override async _batch(operations: { key: unknown }[], options: object) {
      batches.push(operations.length);
      if (operations.some((o) => String(o.key) === 'refused')) throw new Error('disk full');
      return super._batch(operations, options);
    }
    override async _put(key: unknown, value: unknown, options: object) {
      alone.push(String(key));
      return super._put(key, value, options);
    }
  };
  const Patched = class extends Counting {};
  batchedWrites({ ClassicLevel: Patched as unknown as DbClass });
  return { Db: Patched as unknown as DbClass, batches, alone };
}

describe("dynalite's LevelDB writes", () => {
  it('go as one batch per turn of the event loop, in the order asked, each resolved with it', async () => {
    const { Db, batches, alone } = countingClass();
    const db = await openDb(Db);
    await Promise.all([
      db.put('a', 1),
      db.put('b', 2),
      db.put('a', 3),
      db.del('b'),
      db.put('c', { nested: [1, 2] }),
    ]);
    expect(batches).toEqual([5]);
    expect(alone).toEqual([]);
    expect(await db.get('a')).toBe(3);
    expect(await db.get('b')).toBeUndefined();
    expect(await db.get('c')).toEqual({ nested: [1, 2] });

    // The next turn's writes are a batch of their own, seen once resolved.
    await db.put('d', 4);
    expect(batches).toEqual([5, 1]);
    expect(await db.get('d')).toBe(4);
    await db.close();
  });

  it('a batch that fails fails each of its writes, and none of the next', async () => {
    const { Db } = countingClass();
    const db = await openDb(Db);
    const outcomes = await Promise.allSettled([db.put('x', 1), db.put('refused', 2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await db.get('x')).toBeUndefined();
    await db.put('y', 3);
    expect(await db.get('y')).toBe(3);
    await db.close();
  });

  it('a write asked to sync goes alone', async () => {
    const { Db, batches, alone } = countingClass();
    const db = await openDb(Db);
    await db.put('s', 1, { sync: true });
    expect(alone).toEqual(['s']);
    expect(batches).toEqual([]);
    expect(await db.get('s')).toBe(1);
    await db.close();
  });

  it('closing writes what was gathered, which a new opening reads', async () => {
    const { Db } = countingClass();
    const db = await openDb(Db);
    const written = Promise.all(Array.from({ length: 50 }, (_, i) => db.put(`k${i}`, i)));
    await db.close();
    await written;
    const again = new Db(db.folder, { valueEncoding: 'json' });
    await again.open();
    expect(await again.get('k0')).toBe(0);
    expect(await again.get('k49')).toBe(49);
    await again.close();
  });
});

describe("dynalite's writes to the tables a process watches", () => {
  const key = Symbol.for(WRITE_COUNTER);
  const globals = globalThis as Record<symbol, unknown>;
  afterEach(() => {
    delete globals[key];
  });

  it('count once written, one a write or batch for each prefix, and only items of the tables named', async () => {
    const Db = patchedClass((level) => {
      batchedWrites(level);
      countedWrites(level);
    });
    const db = await openDb(Db);
    const counter = new Int32Array(new SharedArrayBuffer(3 * 4));
    globals[key] = {
      counter,
      prefixes: ['matchstream-rm-standings-', 'matchstream-rm-matches-', 'matchstream-projections'],
    };
    const counts = () => [...counter];

    // Another table's item, a table's description, an index entry: not counted.
    await db.put('item-matchstream-events~abc', { n: 1 });
    await db.put('table~matchstream-rm-standings-v2', { n: 1 });
    await db.put('index-global~matchstream-rm-standings-v2~byName~abc', { n: 1 });
    expect(counts()).toEqual([0, 0, 0]);

    const written = db.put('item-matchstream-rm-standings-v2~abc', { n: 1 });
    // Not before it is written: the write is gathered until the turn ends.
    expect(counts()).toEqual([0, 0, 0]);
    await written;
    expect(counts()).toEqual([1, 0, 0]);
    await db.del('item-matchstream-projections~read-model');
    expect(counts()).toEqual([1, 0, 1]);
    await (db as unknown as { batch(ops: object[]): Promise<void> }).batch([
      { type: 'put', key: 'item-matchstream-rm-matches-v2~a', value: { n: 1 } },
      { type: 'put', key: 'item-matchstream-rm-matches-v2-g2~b', value: { n: 2 } },
      { type: 'put', key: 'item-matchstream-rm-standings-v2~c', value: { n: 3 } },
    ]);
    expect(counts()).toEqual([2, 1, 1]);
    await db.close();
  });

  it('count nothing without a counter', async () => {
    const Db = patchedClass(countedWrites);
    const db = await openDb(Db);
    await db.put('item-matchstream-rm-teams-v1~abc', { n: 1 });
    expect(await db.get('item-matchstream-rm-teams-v1~abc')).toEqual({ n: 1 });
    await db.close();
  });
});

describe('the patches in a server thread', () => {
  it('run from their own source, on the classic-level dynalite loads', async () => {
    const [reads, writeBuffer, openFailures, batches, counts, countsInMemory] =
      classicLevelPatches();
    const run = (source: string | undefined, prototype: object) =>
      (new Function(`return (${source})`)() as (level: object) => void)({
        ClassicLevel: { prototype },
      });

    expect(createRequire(import.meta.url)(reads?.module ?? '')).toBe(classicLevel);
    expect(writeBuffer?.module).toBe(reads?.module);
    const reader = { _get: () => Promise.resolve('pool'), _getSync: () => 'in place' };
    run(reads?.source, reader);
    expect(await reader._get()).toBe('in place');
    const opened: object[] = [];
    const opener = { _open: async (options: object) => void opened.push(options) };
    run(writeBuffer?.source, opener);
    await opener._open({ createIfMissing: true });
    expect(opened).toEqual([{ createIfMissing: true, writeBufferSize: 32 << 20 }]);
    // A store that cannot be opened: the reason goes to the server thread's hook, where one is
    // set, and the open fails as it did.
    expect(openFailures?.module).toBe(reads?.module);
    const locked = new Error('IO error: lock D/LOCK: already held by process');
    const failing = { _open: () => Promise.reject(locked) };
    run(openFailures?.source, failing);
    await expect(failing._open()).rejects.toBe(locked);
    const heard: unknown[] = [];
    const hook = Symbol.for('matchstream.serverFailed');
    (globalThis as Record<symbol, unknown>)[hook] = (error: unknown) => heard.push(error);
    try {
      await expect(failing._open()).rejects.toBe(locked);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[hook];
    }
    expect(heard).toEqual([locked]);
    expect(batches?.module).toBe(reads?.module);
    expect(counts?.module).toBe(reads?.module);
    expect(countsInMemory?.module).toBe(dynalitesMemoryLevel());
    const written: object[][] = [];
    const writer = {
      _put: async (_key: string, _value: unknown, _options: object) => {},
      _del: async (_key: string, _options: object) => {},
      _batch: async (operations: object[]) => void written.push(operations),
      _close: async () => {},
    };
    run(batches?.source, writer);
    await Promise.all([writer._put('a', 1, {}), writer._del('b', {})]);
    expect(written).toEqual([
      [
        { type: 'put', key: 'a', value: 1 },
        { type: 'del', key: 'b' },
      ],
    ]);
  });
});
