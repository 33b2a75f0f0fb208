import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uncompress } from 'snappyjs';
import { crc32c, damagedRecord, logRecords, unmask } from './levelLogs.js';

/**
 * What a LevelDB store (dynalite's tables, kinesalite's change stream, each a folder of a data
 * folder) is made of, checked before the store is opened. The bindings open it without
 * paranoid checks and read it without verifying checksums (classic-level and leveldown offer
 * neither), so LevelDB takes damage in silence:
 *
 * - a damaged record of a write-ahead log (`NNNNNN.log`) is dropped with the rest of its
 *   block when the store opens, and the log deleted once flushed: what it held is gone;
 * - a damaged block of a table file (`NNNNNN.ldb`) is read as it is: an item whose key bytes
 *   changed falls outside its table's range and a scan passes over it (a scan of a damaged
 *   `matchstream-bus-archive` returned 33,909 of its 33,913 items, with no error), and a
 *   block that no longer uncompresses stops the server at the first read that meets it;
 * - a MANIFEST (which table files make the store, and which logs to replay) that is missing
 *   or damaged fails the open with LevelDB's own words, as the server stopping
 *   (`the tables' store stopped: ...`), with nothing said of what the user can do.
 *
 * The MANIFEST is read as LevelDB reads it (CURRENT names it; its records are version edits),
 * to know the files LevelDB will use: the logs it will replay (not an obsolete one it would
 * delete) and the table files it holds (not one a crash left half written, which LevelDB
 * deletes unread). Table files never change once written, so each is verified once, and its
 * name and size are kept in the store's folder (`VERIFIED_FILE`, a name LevelDB leaves alone);
 * a later open verifies only the tables written since.
 */

/** Kept in the store's folder: the table files verified whole, by name, with their sizes. */
export const VERIFIED_FILE = 'matchstream-verified-tables.json';

/** The first damage found in a store: the file, where in it, and what is wrong. */
export interface StoreDamage {
  readonly file: string;
  /** The byte where the damaged record or block starts; absent when the file as a whole is wrong. */
  readonly offset?: number;
  readonly reason: string;
  /** What opening or reading the store would do with it. */
  readonly consequence: string;
  /** What the user can do. */
  readonly remedy: string;
}

const RESTORE = 'restore the folder from a copy';

// ---------------------------------------------------------------------------------------------
// Reading LevelDB's encodings

/** A reader of LevelDB's varints and length-prefixed slices (util/coding.h). */
class Cursor {
  constructor(
    private readonly bytes: Uint8Array,
    public at = 0,
  ) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const byte = this.bytes[this.at++];
      if (byte === undefined) throw new Error('a number runs past the end');
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error('a number of more than ten bytes');
  }

  slice(): Uint8Array {
    const length = this.varint();
    if (this.at + length > this.bytes.length) throw new Error('a slice runs past the end');
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  skip(length: number): void {
    if (this.at + length > this.bytes.length) throw new Error('an entry runs past the end');
    this.at += length;
  }
}

// ---------------------------------------------------------------------------------------------
// The MANIFEST

/** What the MANIFEST says LevelDB will use. */
interface Manifest {
  readonly file: string;
  /** Logs numbered from this one on are replayed; older ones are obsolete. */
  readonly logNumber: number;
  /** A log of an older format's recovery, replayed too (0: none). */
  readonly prevLogNumber: number;
  /** The store's table files: number to size in bytes. */
  readonly tables: ReadonlyMap<number, number>;
}

/** Version edit tags (LevelDB's db/version_edit.cc). */
const TAG = {
  comparator: 1,
  logNumber: 2,
  nextFileNumber: 3,
  lastSequence: 4,
  compactPointer: 5,
  deletedFile: 6,
  newFile: 7,
  prevLogNumber: 9,
} as const;

/** The MANIFEST's version edits applied in turn, as LevelDB's recovery applies them. */
function replayEdits(records: readonly Uint8Array[], file: string): Manifest {
  let logNumber = 0;
  let prevLogNumber = 0;
  const tables = new Map<number, number>();
  for (const record of records) {
    const edit = new Cursor(record);
    while (!edit.done) {
      const tag = edit.varint();
      switch (tag) {
        case TAG.comparator:
          edit.slice();
          break;
        case TAG.logNumber:
          logNumber = edit.varint();
          break;
        case TAG.prevLogNumber:
          prevLogNumber = edit.varint();
          break;
        case TAG.nextFileNumber:
        case TAG.lastSequence:
          edit.varint();
          break;
        case TAG.compactPointer:
          edit.varint();
          edit.slice();
          break;
        // An edit lists the files it deletes before those it adds, and a file moved down a
        // level is both: deleted from its level, added to the next.
        case TAG.deletedFile:
          edit.varint();
          tables.delete(edit.varint());
          break;
        case TAG.newFile: {
          edit.varint();
          const number = edit.varint();
          const size = edit.varint();
          edit.slice();
          edit.slice();
          tables.set(number, size);
          break;
        }
        default:
          throw new Error(`a version edit of unknown tag ${tag}`);
      }
    }
  }
  return { file, logNumber, prevLogNumber, tables };
}

/** The store's MANIFEST read, or where it is damaged; undefined for a folder with no store yet. */
function readManifest(storeDir: string): Manifest | StoreDamage | undefined {
  let current: string;
  try {
    current = readFileSync(join(storeDir, 'CURRENT'), 'utf8');
  } catch {
    return undefined;
  }
  const name = current.trim();
  const file = join(storeDir, name);
  const damage = (reason: string, offset?: number): StoreDamage => ({
    file,
    ...(offset === undefined ? {} : { offset }),
    reason,
    consequence: 'LevelDB cannot tell which files make the store',
    remedy: RESTORE,
  });
  if (!/^MANIFEST-\d+$/.test(name) || !current.endsWith('\n'))
    return {
      ...damage(`CURRENT names no MANIFEST ("${name.slice(0, 40)}")`),
      file: join(storeDir, 'CURRENT'),
    };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return damage('the MANIFEST that CURRENT names is missing');
  }
  const broken = damagedRecord(bytes);
  if (broken) return damage(broken.reason, broken.offset);
  try {
    return replayEdits(logRecords(bytes), file);
  } catch (error) {
    return damage(`a record does not read as a version edit: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Table files (LevelDB's doc/table_format.md)

/** The footer's length and its last 8 bytes, the table's magic number. */
const FOOTER = 48;
const MAGIC = 0xdb4775248b80fb57n;
/** After each block: its compression type (1 byte) and masked CRC-32C (4 bytes). */
const TRAILER = 5;
const NO_COMPRESSION = 0;
const SNAPPY = 1;

interface Handle {
  readonly offset: number;
  readonly size: number;
}

type Damage = { readonly offset: number; readonly reason: string };

/**
 * A block's contents, uncompressed, once its checksum holds (with `read` false, its bytes as
 * stored: a block written whole uncompresses as it did); or where it is damaged.
 */
function blockAt(table: Uint8Array, handle: Handle, end: number, read = true): Uint8Array | Damage {
  const { offset, size } = handle;
  if (offset + size + TRAILER > end)
    return { offset, reason: `a block of ${size} bytes runs past the table's data` };
  const type = table[offset + size] as number;
  const stored = new DataView(table.buffer, table.byteOffset + offset + size + 1, 4).getUint32(
    0,
    true,
  );
  if (crc32c(table.subarray(offset, offset + size + 1)) !== unmask(stored))
    return { offset, reason: 'a block fails its checksum' };
  if (type !== NO_COMPRESSION && type !== SNAPPY)
    return { offset, reason: `a block of unknown compression type ${type}` };
  const raw = table.subarray(offset, offset + size);
  if (type === NO_COMPRESSION || !read) return raw;
  try {
    return uncompress(raw);
  } catch (error) {
    return { offset, reason: `a block does not uncompress: ${(error as Error).message}` };
  }
}

/** The values of a block's entries (each entry: shared, unshared and value lengths, key, value). */
function blockValues(block: Uint8Array): Uint8Array[] {
  if (block.length < 4) throw new Error('a block too short for its restart count');
  const restarts = new DataView(block.buffer, block.byteOffset, block.length).getUint32(
    block.length - 4,
    true,
  );
  const end = block.length - 4 - 4 * restarts;
  if (end < 0) throw new Error('a block whose restart points run past its start');
  const entries = new Cursor(block.subarray(0, end));
  const values: Uint8Array[] = [];
  while (!entries.done) {
    entries.varint();
    const unshared = entries.varint();
    const valueLength = entries.varint();
    entries.skip(unshared);
    const at = entries.at;
    entries.skip(valueLength);
    values.push(block.subarray(at, at + valueLength));
  }
  return values;
}

function handleOf(bytes: Uint8Array, at = 0): Handle {
  const cursor = new Cursor(bytes, at);
  return { offset: cursor.varint(), size: cursor.varint() };
}

/**
 * The first damaged block of a table file's bytes, or undefined when every block's checksum
 * holds: the footer's two index blocks, the blocks the meta index names (the filter), and
 * every data block the index names.
 */
export function damagedTable(table: Uint8Array): Damage | undefined {
  if (table.length < FOOTER)
    return { offset: 0, reason: `a table file of ${table.length} bytes, too short for its footer` };
  const footerAt = table.length - FOOTER;
  const view = new DataView(table.buffer, table.byteOffset, table.length);
  if (view.getBigUint64(table.length - 8, true) !== MAGIC)
    return { offset: table.length - 8, reason: 'a table file whose footer has no magic number' };
  try {
    const footer = new Cursor(table, footerAt);
    const metaIndex = { offset: footer.varint(), size: footer.varint() };
    const index = { offset: footer.varint(), size: footer.varint() };
    const handles: Handle[] = [];
    for (const [handle, ofBlocks] of [
      [metaIndex, 'meta index'],
      [index, 'index'],
    ] as const) {
      const block = blockAt(table, handle, footerAt);
      if (!(block instanceof Uint8Array)) return block;
      try {
        for (const value of blockValues(block)) handles.push(handleOf(value));
      } catch (error) {
        return {
          offset: handle.offset,
          reason: `the ${ofBlocks} block does not read: ${(error as Error).message}`,
        };
      }
    }
    for (const handle of handles) {
      const block = blockAt(table, handle, footerAt, false);
      if (!(block instanceof Uint8Array)) return block;
    }
  } catch (error) {
    return { offset: footerAt, reason: `the footer does not read: ${(error as Error).message}` };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The store

const tableName = (n: number, ext: string) => `${String(n).padStart(6, '0')}.${ext}`;

/** The table files verified before, by name, with their sizes. */
function verifiedBefore(storeDir: string): Map<string, number> {
  try {
    const kept = JSON.parse(readFileSync(join(storeDir, VERIFIED_FILE), 'utf8')) as {
      tables?: Record<string, unknown>;
    };
    return new Map(
      Object.entries(kept.tables ?? {}).filter(
        (entry): entry is [string, number] => typeof entry[1] === 'number',
      ),
    );
  } catch {
    return new Map();
  }
}

/** Keeps the list (a new file, then renamed over the old); a folder it cannot write to keeps none. */
function keepVerified(storeDir: string, tables: ReadonlyMap<string, number>): void {
  const file = join(storeDir, VERIFIED_FILE);
  try {
    writeFileSync(
      `${file}.${process.pid}`,
      `${JSON.stringify({ tables: Object.fromEntries(tables) })}\n`,
    );
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // Verified again next time.
  }
}

/**
 * The first damage in the files of a LevelDB store that LevelDB would use, or undefined: its
 * MANIFEST, the write-ahead logs it would replay, and the table files it holds that were not
 * verified before. Table files found whole are remembered (`VERIFIED_FILE`). A folder with no
 * store (no CURRENT) has every log it holds checked, as LevelDB would replay them all.
 */
export function damagedStore(storeDir: string): StoreDamage | undefined {
  let names: string[];
  try {
    names = readdirSync(storeDir);
  } catch {
    return undefined;
  }
  const manifest = readManifest(storeDir);
  if (manifest && 'reason' in manifest) return manifest;
  const replayed = (n: number) =>
    !manifest || n >= manifest.logNumber || n === manifest.prevLogNumber;
  for (const name of names.filter((n) => /^\d+\.log$/.test(n)).sort()) {
    if (!replayed(Number.parseInt(name, 10))) continue;
    const file = join(storeDir, name);
    const damage = damagedRecord(readFileSync(file));
    if (damage)
      return {
        file,
        ...damage,
        consequence: 'opening it would drop that record and the rest of its block for good',
        remedy: `${RESTORE}, or move that file away to open the store without anything it holds`,
      };
  }
  if (!manifest) return undefined;
  const present = new Set(names);
  const before = verifiedBefore(storeDir);
  const verified = new Map<string, number>();
  for (const [number, size] of manifest.tables) {
    const name = [tableName(number, 'ldb'), tableName(number, 'sst')].find((n) => present.has(n));
    const file = join(storeDir, name ?? tableName(number, 'ldb'));
    const damage = (
      reason: string,
      offset?: number,
      consequence = 'reading it would give wrong items, or none, without an error',
    ): StoreDamage => ({
      file,
      ...(offset === undefined ? {} : { offset }),
      reason,
      consequence,
      remedy: RESTORE,
    });
    if (!name)
      return damage(
        `the table file is missing (the MANIFEST names it, of ${size} bytes)`,
        undefined,
        'LevelDB would not open the store',
      );
    if (before.get(name) === size) {
      verified.set(name, size);
      continue;
    }
    const actual = statSync(file).size;
    if (actual !== size)
      return damage(
        `the table file has ${actual} bytes where the MANIFEST says ${size}`,
        undefined,
        'reading it would fail, or give wrong items',
      );
    const broken = damagedTable(readFileSync(file));
    if (broken) return damage(broken.reason, broken.offset);
    verified.set(name, size);
  }
  const same =
    verified.size === before.size && [...verified].every(([n, s]) => before.get(n) === s);
  if (!same) keepVerified(storeDir, verified);
  return undefined;
}

/** Refuses a damaged store (`damagedStore`), naming what and where, and leaves it as it is. */
export function refuseDamagedStore(storeDir: string, what: string): void {
  const damage = damagedStore(storeDir);
  if (!damage) return;
  const where = damage.offset === undefined ? '' : ` at byte ${damage.offset}`;
  throw new Error(
    `${what} is damaged: ${damage.file}: ${damage.reason}${where}; ` +
      `${damage.consequence}, so it was left as it is (${damage.remedy})`,
  );
}
