import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * An event's data of this many bytes or more is stored gzipped. Every event of a season's
 * feed is far below it (results take about 400 bytes); a calculation's `RpiCalculated` takes
 * about 80 bytes a team rated, so it is stored gzipped from about 800 teams on. Gzipped, a
 * calculation takes about half its Avro bytes (5,000 teams playing 20 games each: 396,378
 * bytes as Avro, 199,627 gzipped), so a season of about 10,000 teams fits in DynamoDB's 400 KB
 * item instead of about 5,000.
 */
export const GZIP_FROM_BYTES = 64 * 1024;

/** The encoding an event's stored data is in, named by the item's `encoding` attribute. */
export type DataEncoding = 'gzip';

/** The last data gzipped, by its Avro bytes: an append sizes its item and writes it. */
const gzipped = new WeakMap<Uint8Array, Uint8Array>();

/** An event's data as stored in its item: its Avro bytes, gzipped from `GZIP_FROM_BYTES`. */
export function storedData(data: Uint8Array): {
  readonly bytes: Uint8Array;
  readonly encoding?: DataEncoding;
} {
  if (data.byteLength < GZIP_FROM_BYTES) return { bytes: data };
  let bytes = gzipped.get(data);
  if (!bytes) {
    bytes = gzipSync(data);
    gzipped.set(data, bytes);
  }
  return { bytes, encoding: 'gzip' };
}

/** The Avro bytes of data stored in `encoding` (none: as they are). */
export function avroData(stored: Uint8Array, encoding: string | undefined): Uint8Array {
  if (encoding === undefined) return stored;
  if (encoding === 'gzip') return gunzipSync(stored);
  throw new Error(`unknown data encoding "${encoding}"`);
}
