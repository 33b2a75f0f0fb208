/// <reference path="./bloomfilter.d.ts" />
import { BloomFilter } from 'bloomfilter';

/**
 * 64 Mbit (8 MB) and 7 hashes: a false positive for under 0.1 % of the keys never written
 * while up to 4 million were (measured: 0.05 % at 4 million), about 5 % at 10 million. Each costs
 * no more than the lookup it would have been without the filter.
 */
const BITS = 64 * 2 ** 20;
const HASHES = 7;

/**
 * A set of document keys as a Bloom filter: a key it says was never added certainly was not;
 * one it may hold may not have been (under 0.1 % of keys never added, up to 4 million added).
 * Fixed at 8 MB whatever the number of keys. Used where holding every key would grow with the
 * store: a rebuild into a new generation's table skips the reads of documents its flushes
 * have not written (the read of a document a stream's first event reads), and the comparison
 * of two generations finds the documents only the rebuilt one holds. (The `bloomfilter`
 * package: 0.3 µs an add and 0.1 µs a test on the benchmark machine; `bloom-filters` had not
 * added 400,000 keys after ten minutes.)
 */
export class KeyFilter {
  private readonly filter = new BloomFilter(BITS, HASHES);

  add(key: string): void {
    this.filter.add(key);
  }

  /** False when the key was never added. */
  mayHold(key: string): boolean {
    return this.filter.test(key);
  }
}
