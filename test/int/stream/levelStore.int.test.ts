import { randomBytes } from 'node:crypto';
import {
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dynalitesClassicLevel } from '../../../stream/local/classicLevelPatches.js';
import {
  damagedStore,
  damagedTable,
  refuseDamagedStore,
  VERIFIED_FILE,
} from '../../../stream/local/levelStore.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('level-store-');

interface Db {
  open(): Promise<void>;
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  compactRange(start: string, end: string): Promise<void>;
  close(): Promise<void>;
}

/** The classic-level dynalite stores its tables in. */
const { ClassicLevel } = createRequire(import.meta.url)(dynalitesClassicLevel()) as {
  ClassicLevel: new (location: string) => Db;
};

const tables = (dir: string) => readdirSync(dir).filter((f) => /^\d+\.ldb$/.test(f));

/**
 * A LevelDB store with table files: 3,000 values, half that compress (snappy blocks) and half
 * random (blocks stored as they are), compacted out of the log into tables.
 */
async function storeWithTables(name: string): Promise<string> {
  const dir = tmp.path(name);
  const db = new ClassicLevel(dir);
  await db.open();
  for (let i = 0; i < 3_000; i++)
    await db.put(
      `key-${String(i).padStart(5, '0')}`,
      i % 2 ? `value ${i} `.repeat(30) : randomBytes(150).toString('base64'),
    );
  await db.compactRange('key-', 'key-~');
  await db.close();
  expect(tables(dir).length).toBeGreaterThan(0);
  return dir;
}

/** A log's record whose checksum fails: a header (CRC, length 10, a whole record) and its data. */
const BAD_RECORD = Buffer.from([0x12, 0x34, 0x56, 0x78, 10, 0, 1, ...Array(10).fill(0x61)]);

/** Flips a byte of a file in place. */
function flip(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  writeFileSync(file, bytes);
}

describe('a LevelDB store checked before it is opened', () => {
  it('is whole as LevelDB leaves it, and its table files are remembered as verified', async () => {
    const dir = await storeWithTables('whole');

    expect(damagedStore(dir)).toBeUndefined();
    for (const table of tables(dir))
      expect(damagedTable(readFileSync(join(dir, table)))).toBeUndefined();
    const kept = JSON.parse(readFileSync(join(dir, VERIFIED_FILE), 'utf8')) as {
      tables: Record<string, number>;
    };
    expect(kept.tables).toEqual(
      Object.fromEntries(tables(dir).map((t) => [t, statSync(join(dir, t)).size])),
    );

    // LevelDB opens it with the list in its folder, and leaves the list alone.
    const db = new ClassicLevel(dir);
    await db.open();
    expect(await db.get('key-00007')).toBe('value 7 '.repeat(30));
    await db.close();
    expect(readdirSync(dir)).toContain(VERIFIED_FILE);
  });

  it('shows a table file whose block changed, at the block, and refuses it naming the file', async () => {
    const dir = await storeWithTables('changed-table');
    const [table] = tables(dir);
    const file = join(dir, table as string);
    // A byte in the table's first data block, which starts at byte 0.
    flip(file, 100);

    expect(damagedTable(readFileSync(file))).toEqual({
      offset: 0,
      reason: 'a block fails its checksum',
    });
    expect(damagedStore(dir)).toMatchObject({ file, offset: 0 });
    expect(() => refuseDamagedStore(dir, "the tables' store")).toThrow(
      `the tables' store is damaged: ${file}: a block fails its checksum at byte 0; reading it would give wrong items, or none, without an error, so it was left as it is (restore the folder from a copy)`,
    );
    // Nothing was remembered as verified of a store found damaged.
    expect(readdirSync(dir)).not.toContain(VERIFIED_FILE);
  });

  it('shows a table file cut short, and one the MANIFEST names that is gone', async () => {
    const dir = await storeWithTables('short-table');
    const [table] = tables(dir);
    const file = join(dir, table as string);
    const size = statSync(file).size;
    truncateSync(file, size - 10);

    expect(damagedStore(dir)?.reason).toBe(
      `the table file has ${size - 10} bytes where the MANIFEST says ${size}`,
    );
    unlinkSync(file);
    expect(damagedStore(dir)?.reason).toBe(
      `the table file is missing (the MANIFEST names it, of ${size} bytes)`,
    );
  });

  it('reads a table file verified before no more, until another takes its name', async () => {
    const dir = await storeWithTables('verified');
    expect(damagedStore(dir)).toBeUndefined();
    const [table] = tables(dir);
    const file = join(dir, table as string);

    // Table files never change once written: one verified whole is not read again...
    flip(file, 100);
    expect(damagedStore(dir)).toBeUndefined();
    // ...but the list names it by its size too, and without the list every file is read.
    unlinkSync(join(dir, VERIFIED_FILE));
    expect(damagedStore(dir)).toMatchObject({ file, offset: 0 });
  });

  it('leaves alone the files LevelDB would not use: a table a crash left half written, an obsolete log', async () => {
    const dir = await storeWithTables('unused');
    const live = readdirSync(dir)
      .filter((f) => /^\d+\.(log|ldb)$/.test(f))
      .map((f) => Number.parseInt(f, 10));
    // Numbers past every file of the store: a table no MANIFEST names yet. Below them all:
    // a log older than the one the MANIFEST replays from.
    writeFileSync(join(dir, `${String(Math.max(...live) + 5).padStart(6, '0')}.ldb`), 'half');
    writeFileSync(join(dir, '000001.log'), BAD_RECORD);

    expect(Math.min(...live)).toBeGreaterThan(1);
    expect(damagedStore(dir)).toBeUndefined();

    // A log of a number LevelDB would replay is read.
    const replayed = join(dir, `${String(Math.max(...live) + 6).padStart(6, '0')}.log`);
    writeFileSync(replayed, BAD_RECORD);
    expect(damagedStore(dir)?.file).toBe(replayed);
  });

  it('shows a damaged MANIFEST, and a CURRENT that names none', async () => {
    const dir = await storeWithTables('manifest');
    const manifest = readdirSync(dir).find((f) => f.startsWith('MANIFEST-')) as string;
    const original = readFileSync(join(dir, manifest));
    // The first record's data begins after its 7-byte header.
    flip(join(dir, manifest), 10);

    expect(damagedStore(dir)).toMatchObject({
      file: join(dir, manifest),
      offset: 0,
      reason: 'a record fails its checksum',
      consequence: 'LevelDB cannot tell which files make the store',
    });
    writeFileSync(join(dir, manifest), original);
    writeFileSync(join(dir, 'CURRENT'), 'garbage\n');
    expect(damagedStore(dir)).toMatchObject({
      file: join(dir, 'CURRENT'),
      reason: 'CURRENT names no MANIFEST ("garbage")',
    });
  });
});
