// bloomfilter ships no types: the part of its API this project uses.
declare module 'bloomfilter' {
  export class BloomFilter {
    /** `m` bits (rounded up to a multiple of 32), `k` hash functions. */
    constructor(m: number, k: number);
    add(value: string): void;
    /** False: never added; true: added, or a false positive. */
    test(value: string): boolean;
  }
}
