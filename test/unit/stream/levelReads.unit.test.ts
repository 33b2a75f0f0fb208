import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dynalitesClassicLevel,
  levelReadsPatch,
  readInPlace,
} from '../../../stream/local/levelReads.js';

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
function patchedClass(): DbClass {
  const Patched = class extends classicLevel.ClassicLevel {};
  readInPlace({ ClassicLevel: Patched });
  return Patched;
}

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

async function openDb(Db: DbClass): Promise<Db> {
  const folder = mkdtempSync(join(tmpdir(), 'matchstream-level-'));
  folders.push(folder);
  const db = new Db(folder, { valueEncoding: 'json' });
  await db.open();
  return db;
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

  it('are patched in a server thread from the same source and module', () => {
    const patch = levelReadsPatch();

    expect(createRequire(import.meta.url)(patch.module)).toBe(classicLevel);
    const reader = { _get: () => Promise.resolve('pool'), _getSync: () => 'in place' };
    const run = new Function(`return (${patch.source})`)() as (level: object) => void;
    run({ ClassicLevel: { prototype: reader } });
    return expect(reader._get()).resolves.toBe('in place');
  });
});
