import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classicLevelPatches,
  dynalitesClassicLevel,
  largerWriteBuffer,
  readInPlace,
} from '../../../stream/local/classicLevelPatches.js';

interface Db {
  open(): Promise<void>;
  close(): Promise<void>;
  put(key: string, value: unknown): Promise<void>;
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

describe('the patches in a server thread', () => {
  it('run from their own source, on the classic-level dynalite loads', async () => {
    const [reads, writeBuffer] = classicLevelPatches();
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
  });
});
