import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dynalitesClassicLevel } from '../../../stream/local/classicLevelPatches.js';
import { damagedRecord, logRecords } from '../../../stream/local/levelLogs.js';
import { damagedStore, refuseDamagedStore } from '../../../stream/local/levelStore.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('level-logs-');

interface Db {
  open(): Promise<void>;
  put(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** The classic-level dynalite stores its tables in. */
const { ClassicLevel } = createRequire(import.meta.url)(dynalitesClassicLevel()) as {
  ClassicLevel: new (location: string) => Db;
};

/**
 * A LevelDB store's one write-ahead log, as classic-level leaves it when closed unflushed: the
 * store's folder, the log's file and its bytes.
 */
async function logOf(
  name: string,
  values: readonly string[],
): Promise<{ dir: string; file: string; bytes: Buffer }> {
  const dir = tmp.path(name);
  const db = new ClassicLevel(dir);
  await db.open();
  for (const [i, value] of values.entries()) await db.put(`key-${i}`, value);
  await db.close();
  const logs = readdirSync(dir).filter((f) => /^\d+\.log$/.test(f));
  expect(logs).toHaveLength(1);
  const file = join(dir, logs[0] as string);
  return { dir, file, bytes: readFileSync(file) };
}

describe("LevelDB's write-ahead logs", () => {
  // Small records and records of several fragments (over a 32 KiB block).
  const values = Array.from({ length: 60 }, (_, i) => `v${i}-`.repeat(i % 7 === 0 ? 9_000 : 20));

  it('are whole as LevelDB writes them, and whole when cut short at the end', async () => {
    const { bytes: log } = await logOf('whole', values);

    expect(log.length).toBeGreaterThan(3 * 32 * 1024);
    expect(damagedRecord(log)).toBeUndefined();
    for (const end of [1, 7, 100, 40_000, log.length - 3])
      expect(damagedRecord(log.subarray(0, end))).toBeUndefined();
  });

  it('show the first record whose bytes changed, at the offset where that record starts', async () => {
    const { bytes: log } = await logOf('changed', values);
    // The first record: header at 0; its data from byte 7.
    const inData = Buffer.from(log);
    inData[20] = (inData[20] as number) ^ 0x01;
    // A record's length made longer than its block.
    const inLength = Buffer.from(log);
    inLength.writeUInt16LE(0xffff, 4);
    // A byte in the middle of the log, in the second block's first record.
    const later = Buffer.from(log);
    later[32 * 1024 + 10] = (later[32 * 1024 + 10] as number) ^ 0xff;

    expect(damagedRecord(inData)).toEqual({ offset: 0, reason: 'a record fails its checksum' });
    expect(damagedRecord(inLength)).toEqual({
      offset: 0,
      reason: 'a record of 65535 bytes runs past its block',
    });
    expect(damagedRecord(later)).toEqual({
      offset: 32 * 1024,
      reason: 'a record fails its checksum',
    });
  });

  it('are found in a store folder, and a damaged one refused naming the file and the offset', async () => {
    const { dir, file, bytes } = await logOf('store', values);
    bytes[32 * 1024 + 10] = (bytes[32 * 1024 + 10] as number) ^ 0xff;
    writeFileSync(file, bytes);

    expect(damagedStore(tmp.path('none'))).toBeUndefined();
    expect(damagedStore(dir)).toMatchObject({
      file,
      offset: 32 * 1024,
      reason: 'a record fails its checksum',
    });
    expect(() => refuseDamagedStore(dir, "the tables' store")).toThrow(
      `the tables' store is damaged: ${file}: a record fails its checksum at byte 32768; opening it would drop that record and the rest of its block for good, so it was left as it is (restore the folder from a copy, or move that file away to open the store without anything it holds)`,
    );
  });

  it('give back their records whole, fragments put together, as they were written', async () => {
    const { bytes: log } = await logOf('records', values);

    // Each put is a write batch of its own: a 12-byte header (sequence, count), then the
    // put's tag, key and value, each length-prefixed. The value is the record's last bytes.
    const records = logRecords(log);
    expect(records).toHaveLength(values.length);
    records.forEach((record, i) => {
      const value = values[i] as string;
      expect(Buffer.from(record.subarray(record.length - value.length)).toString()).toBe(value);
    });
    // Cut inside the last record: it is left out, as LevelDB leaves it.
    expect(logRecords(log.subarray(0, log.length - 3))).toHaveLength(values.length - 1);
  });
});
