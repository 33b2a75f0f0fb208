import {
  dependencyModule,
  forThread,
  type ModulePatch,
  replacedInProcess,
} from './modulePatches.js';

/** What of `node:zlib` the patch uses (Node 20.15 and later). */
interface Zlib {
  crc32(data: string | NodeJS.ArrayBufferView, value?: number): number;
}

/** `buffer-crc32`'s API: the checksum as 4 bytes, and `signed` and `unsigned` as numbers. */
interface Crc32 {
  (input: Buffer | string | number, previous?: Buffer | number): Buffer;
  signed(input: Buffer | string | number, previous?: Buffer | number): number;
  unsigned(input: Buffer | string | number, previous?: Buffer | number): number;
}

/**
 * dynalite answers every request with the CRC-32 of its body (`x-amz-crc32`), computed by
 * `buffer-crc32` in JavaScript a byte at a time: 1.5–1.8 ms for a page of 2,000 documents
 * (320 KB), where `node:zlib`'s `crc32` takes 0.085 ms, and 0.39 s of the 3.9 s dynalite's
 * thread was busy in `matchstream status` on a 113,000-event folder (bench/README.md,
 * "dynalite's checksums in native code"). This is `buffer-crc32`'s API over `zlib.crc32`: the
 * same checksum (CRC-32, a string taken as UTF-8, a number as that many zero bytes, `previous`
 * as the checksum to go on from, a number or 4 bytes), so every answer carries the same header.
 *
 * Self-contained on purpose: a server thread runs its source text (`dynaliteChecksumPatches`).
 * It is given `node:zlib` and gives back the module that replaces `buffer-crc32`.
 */
export function checksumsInNativeCode(zlib: Zlib): Crc32 {
  const bytesOf = (input: Buffer | string | number): Buffer | string => {
    if (Buffer.isBuffer(input) || typeof input === 'string') return input;
    if (typeof input === 'number') return Buffer.alloc(input);
    throw new Error(`input must be buffer, number, or string, received ${typeof input}`);
  };
  const from = (previous: Buffer | number | undefined): number =>
    Buffer.isBuffer(previous) ? previous.readUInt32BE(0) : ~~(previous ?? 0) >>> 0;
  const unsigned = (input: Buffer | string | number, previous?: Buffer | number): number =>
    zlib.crc32(bytesOf(input), from(previous));
  const signed = (input: Buffer | string | number, previous?: Buffer | number): number =>
    unsigned(input, previous) | 0;
  const crc32 = (input: Buffer | string | number, previous?: Buffer | number): Buffer => {
    const out = Buffer.alloc(4);
    out.writeInt32BE(signed(input, previous), 0);
    return out;
  };
  return Object.assign(crc32, { signed, unsigned });
}

/** The `buffer-crc32` dynalite loads. */
export const dynalitesCrc32 = (): string => dependencyModule('dynalite', 'buffer-crc32');

/** The patch as a server thread takes it: given `node:zlib`, its module replaces `buffer-crc32`. */
export const dynaliteChecksumPatches = (): readonly ModulePatch[] => [
  { ...forThread(checksumsInNativeCode, 'node:zlib'), replaces: dynalitesCrc32() },
];

/** The patch, in this process: for the dynalite loaded after it. */
export const patchDynaliteChecksums = (): void =>
  replacedInProcess(checksumsInNativeCode, 'node:zlib', dynalitesCrc32());
