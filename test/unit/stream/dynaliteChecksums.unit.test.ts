import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checksumsInNativeCode, dynalitesCrc32 } from '../../../stream/local/dynaliteChecksums.js';

/** The `buffer-crc32` dynalite loads, as it is (the patch replaces it only where it is applied). */
const reference = createRequire(import.meta.url)(dynalitesCrc32()) as ReturnType<
  typeof checksumsInNativeCode
>;
const native = checksumsInNativeCode(zlib);

const inputs: (string | Buffer | number)[] = [
  '',
  '{"TableNames":[]}',
  JSON.stringify({ team: 'Saint Mary’s (CA)', city: 'Moraga', note: 'é ✓ 🏟' }).repeat(50),
  Buffer.from([0, 1, 2, 254, 255]),
  Buffer.alloc(0),
  0,
  7,
];

describe("dynalite's checksum in native code", () => {
  it('gives what buffer-crc32 gives for every input it takes, as bytes, signed and unsigned', () => {
    for (const input of inputs) {
      expect(native.unsigned(input), String(input)).toBe(reference.unsigned(input));
      expect(native.signed(input), String(input)).toBe(reference.signed(input));
      expect(native(input).equals(reference(input)), String(input)).toBe(true);
    }
  });

  it('goes on from a previous checksum given as a number, signed or not, or as its bytes', () => {
    const first = reference.unsigned('{"a":');
    for (const previous of [first, first | 0, reference('{"a":'), 0, -1, 123456789])
      expect(native.unsigned('1}', previous)).toBe(reference.unsigned('1}', previous));
    expect(native.unsigned('1}', first)).toBe(reference.unsigned('{"a":1}'));
  });

  it('refuses what buffer-crc32 refuses, saying what it got', () => {
    const bad = {} as unknown as string;
    expect(() => native.unsigned(bad)).toThrow(/received object/);
    expect(() => reference.unsigned(bad)).toThrow(/received object/);
  });
});
