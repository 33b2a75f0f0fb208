import { dependencyModule, forThread, inProcess, type ModulePatch } from './modulePatches.js';

/** A sequence number's fields, as kinesalite's `db` module gives and takes them. */
interface SequenceFields {
  shardCreateTime?: number;
  shardIx?: number;
  seqIx?: number | string;
  seqTime?: number;
  byte1?: string;
  seqRand?: string;
  version?: number | null;
}

/** What of kinesalite's `db` module (`kinesalite/db/index.js`) the patch below replaces. */
interface KinesaliteDb {
  parseSequence(seq: unknown): SequenceFields;
  stringifySequence(fields: SequenceFields): string;
  partitionKeyToHashKey(partitionKey: string): unknown;
}

/**
 * kinesalite converts every sequence number between decimal (what the API shows) and
 * hexadecimal (where its fields are) with bignumber.js, several times per record: a shard's
 * first sequence number is parsed for each record put, each record's number is built, and
 * parsed again for each consumer that reads it; and each partition key's MD5 is compared with
 * each shard's hash-key range, parsed from decimal each time. In a CPU profile of `matchstream
 * start` (1,000 teams) that was 1.0 s of the 3.5 s kinesalite's thread was busy, on a machine
 * whose two cores the pipeline keeps busy (bench/README.md, "Fewer CPU cycles for the embedded
 * pipeline"). This does the same with the engine's BigInt, with the same results.
 *
 * The layout, as kinesalite writes it (hex digits of the number, most significant first):
 * - version 2, the one it makes: `2`, the shard's creation in seconds (9), the shard index's
 *   last digit (1), the sequence index (16), a byte (2), the record's time in seconds (9), the
 *   shard index (8, two's complement), `2`;
 * - version 1: `2`, creation (9), a digit, a byte (2), time (9), random (14), sequence index
 *   (2), shard index (8), `1`;
 * - version 0: below 2^129 once 2^124 is added to what is smaller: `1`, creation (9), a byte
 *   (2), random (16), shard index (4).
 * Anything else (not a string of digits, a version it does not know) goes to kinesalite's own
 * functions, which throw as they did.
 *
 * Self-contained on purpose: a server thread runs its source text (`kinesaliteSequencePatches`).
 */
export function bigIntSequences(db: KinesaliteDb): void {
  const marked = db as KinesaliteDb & Record<symbol, unknown>;
  const patched = Symbol.for('matchstream.bigIntSequences');
  if (marked[patched]) return;
  marked[patched] = true;
  const { parseSequence, stringifySequence, partitionKeyToHashKey } = db;
  const { createHash } = process.getBuiltinModule('node:crypto');
  const ONE = BigInt(1);
  const SMALLEST = ONE << BigInt(124);
  const VERSION_0_BELOW = ONE << BigInt(129);
  const VERSION_1_2_ABOVE = ONE << BigInt(185);
  const VERSION_1_2_BELOW = VERSION_1_2_ABOVE + (VERSION_1_2_ABOVE >> ONE);
  const DATE_LIMIT_SECONDS = 16025175000;
  const digits = /^\d+$/;
  const hex = (n: number | bigint, width: number) =>
    n.toString(16).padStart(width, '0').slice(-width);
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const shardHex = (shardIx: number | undefined) => hex(shardIx || 0, 8);
  const decimal = (hexDigits: string) => BigInt(`0x${hexDigits}`).toString();
  const int = (hexDigits: string) => Number.parseInt(hexDigits, 16);
  const createdAt = (hexDigits: string) => {
    const created = int(hexDigits);
    if (created >= DATE_LIMIT_SECONDS) throw new Error(`Date too large: ${created}`);
    return created * 1000;
  };

  db.parseSequence = (seq) => {
    if (typeof seq !== 'string' || !digits.test(seq)) return parseSequence(seq);
    let n = BigInt(seq);
    if (n < SMALLEST) n += SMALLEST;
    const h = n.toString(16);
    if (n < VERSION_0_BELOW)
      return {
        shardCreateTime: createdAt(h.slice(1, 10)),
        byte1: h.slice(10, 12),
        seqRand: h.slice(12, 28),
        shardIx: int(h.slice(28, 32)),
        version: 0,
      };
    const version =
      n > VERSION_1_2_ABOVE && n < VERSION_1_2_BELOW ? int(h.slice(h.length - 1)) : undefined;
    if (version === 2) {
      const seqIx = h.slice(11, 27);
      if (int(seqIx[0] as string) > 7) throw new Error('Sequence index too high');
      const shard = h.slice(38, 46);
      return {
        shardCreateTime: createdAt(h.slice(1, 10)),
        seqIx: decimal(seqIx),
        byte1: h.slice(27, 29),
        seqTime: int(h.slice(29, 38)) * 1000,
        shardIx: int(shard[0] as string) > 7 ? int(`-${shard}`) : int(shard),
        version: 2,
      };
    }
    if (version === 1)
      return {
        shardCreateTime: int(h.slice(1, 10)) * 1000,
        byte1: h.slice(11, 13),
        seqTime: int(h.slice(13, 22)) * 1000,
        seqRand: h.slice(22, 36),
        seqIx: int(h.slice(36, 38)),
        shardIx: int(h.slice(38, 46)),
        version: 1,
      };
    return parseSequence(seq);
  };

  db.stringifySequence = (fields) => {
    try {
      return stringified(fields);
    } catch {
      // What BigInt refuses (a shard index below 0, a sequence index that is no integer), as
      // kinesalite builds it.
      return stringifySequence(fields);
    }
  };
  const stringified = (fields: SequenceFields) => {
    const version = fields.version;
    const created = hex(seconds(fields.shardCreateTime as number), 9);
    const time = hex(seconds((fields.seqTime || fields.shardCreateTime) as number), 9);
    const lastDigit = (fields.shardIx || 0).toString(16).slice(-1);
    let h: string;
    if (version == null || version === 2) {
      h = `2${created}${lastDigit}${hex(BigInt(fields.seqIx || 0), 16)}${fields.byte1 || '00'}${time}${shardHex(fields.shardIx)}2`;
    } else if (version === 1) {
      const seqIx = fields.seqIx || 0;
      const index = `0${typeof seqIx === 'number' ? seqIx.toString(16) : seqIx}`.slice(-2);
      h = `2${created}${lastDigit}${fields.byte1 || '00'}${time}${fields.seqRand || '00000000000000'}${index}${shardHex(fields.shardIx)}1`;
    } else if (version === 0) {
      h = `1${created}${fields.byte1 || '00'}${fields.seqRand || '0000000000000000'}${shardHex(fields.shardIx).slice(-4)}`;
    } else {
      return stringifySequence(fields);
    }
    return decimal(h);
  };

  // kinesalite compares the key's MD5 with each shard's range (decimal strings); nothing else
  // of what it returns is used.
  db.partitionKeyToHashKey = (partitionKey) => {
    const key = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
    return {
      comparedTo: (other: string | number): number | null => {
        let o: bigint;
        try {
          o = BigInt(other);
        } catch {
          const theirs = partitionKeyToHashKey(partitionKey) as {
            comparedTo(other: string | number): number | null;
          };
          return theirs.comparedTo(other);
        }
        return key < o ? -1 : key > o ? 1 : 0;
      },
      toFixed: () => key.toString(),
    };
  };
}

/** The patch as a server thread takes it: its source and kinesalite's `db` module. */
export const kinesaliteSequencePatches = (): readonly ModulePatch[] => [
  forThread(bigIntSequences, kinesalitesDb()),
];

/** The patch, in this process. */
export const patchKinesaliteSequences = (): void => inProcess(bigIntSequences, kinesalitesDb());

/** The path of kinesalite's `db` module. */
export const kinesalitesDb = (): string => dependencyModule('kinesalite', './db');
