import { BloomFilter } from 'bloomfilter';

/**
 * 64 Mbit (8 MB) and 7 hashes: a false positive for under 0.1 % of the keys never written
 * while up to 4 million were (measured: 0.05 % at 4 million), about 5 % at 10 million. Each costs
 * no more than the read it would have been without the filter.
 */
const BITS = 64 * 2 ** 20;
const HASHES = 7;

/**
 * The keys written into a store that started empty, as a Bloom filter: a key it says was
 * never written is certainly not in the store, so a rebuild into a new generation's table
 * need not read it (the read of a document its replay has not written yet, which is every
 * document a stream's first event reads). Fixed at 8 MB whatever the number of keys; a key
 * it may hold is read as before. (The `bloomfilter` package: 0.3 µs an add and 0.1 µs a test
 * on the benchmark machine; `bloom-filters` had not added 400,000 keys after ten minutes.)
 */
export class FlushedKeys {
  private readonly filter = new BloomFilter(BITS, HASHES);

  add(key: string): void {
    this.filter.add(key);
  }

  /** False when the key was never added. */
  mayHold(key: string): boolean {
    return this.filter.test(key);
  }
}
