import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@aws-crypto/crc32c';

/**
 * LevelDB's write-ahead log (`NNNNNN.log` in the store's folder): what was written since the
 * last flush to a table file, replayed into a table when the store is next opened. Its format
 * (LevelDB's doc/log_format.md): 32 KiB blocks of records, each a 7-byte header (the masked
 * CRC-32C of the type byte and the data, little-endian; the data's length, 2 bytes; the type,
 * 1 byte) and its data; a block's last bytes, too few for a header, are zeros.
 */
const BLOCK = 32 * 1024;
const HEADER = 7;
/** Record types: whole, then a record's first, middle and last fragments. */
const FULL = 1;
const LAST = 4;
/** LevelDB's mask on stored CRCs (util/crc32c.h): rotate right by 15 bits, add a constant. */
const MASK_DELTA = 0xa282ead8;

/** The first damaged record of a log: where it starts, and what is wrong with it. */
export interface DamagedLog {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
}

function unmask(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

/**
 * The first damaged record of one log's bytes, or undefined when every record is whole. A
 * record cut short by the end of the file is not damage: it is what a write interrupted by the
 * machine stopping leaves, never acknowledged, and LevelDB drops it as such.
 */
export function damagedRecord(log: Uint8Array): { offset: number; reason: string } | undefined {
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  let offset = 0;
  while (offset < log.length) {
    const inBlock = BLOCK - (offset % BLOCK);
    if (inBlock < HEADER || offset + HEADER > log.length) {
      // The block's trailer, or a header cut short by the end of the file.
      offset += Math.min(inBlock, log.length - offset);
      continue;
    }
    const stored = view.getUint32(offset, true);
    const length = view.getUint16(offset + 4, true);
    const type = log[offset + 6] as number;
    if (type === 0 && length === 0 && stored === 0) {
      // Zeros to the block's end (LevelDB's padding, or space a file system kept).
      offset += inBlock;
      continue;
    }
    if (HEADER + length > inBlock)
      return { offset, reason: `a record of ${length} bytes runs past its block` };
    if (offset + HEADER + length > log.length) return undefined;
    if (type < FULL || type > LAST) return { offset, reason: `a record of unknown type ${type}` };
    const actual = crc32c(log.subarray(offset + 6, offset + HEADER + length));
    if (actual !== unmask(stored)) return { offset, reason: 'a record fails its checksum' };
    offset += HEADER + length;
  }
  return undefined;
}

/**
 * The first damaged record of the write-ahead logs in a LevelDB store's folder, or undefined.
 * LevelDB's recovery, as dynalite and kinesalite open their stores (no paranoid checks: the
 * bindings do not offer them), skips a damaged record and the rest of its block, logs that in
 * the folder's `LOG` and goes on; the log is then deleted once flushed, and what those records
 * held is gone without a word: read-model documents, positions, events. So a store whose log
 * is damaged is not opened.
 */
export function damagedLog(storeDir: string): DamagedLog | undefined {
  let names: string[];
  try {
    names = readdirSync(storeDir);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => /^\d+\.log$/.test(n)).sort()) {
    const file = join(storeDir, name);
    const damage = damagedRecord(readFileSync(file));
    if (damage) return { file, ...damage };
  }
  return undefined;
}

/** Refuses a store whose write-ahead log is damaged (`damagedLog`), naming what and where. */
export function refuseDamagedLog(storeDir: string, what: string): void {
  const damage = damagedLog(storeDir);
  if (!damage) return;
  throw new Error(
    `${what} is damaged: ${damage.file}: ${damage.reason} at byte ${damage.offset}; opening it ` +
      'would drop that record and the rest of its block for good, so it was left as it is ' +
      '(restore the folder from a copy, or move that file away to open the store without ' +
      'anything it holds)',
  );
}
