import type { EventEnvelope } from '../EventEnvelope.js';
import type { EventStore, ReadOptions } from './EventStore.js';

/** What a read of whole streams may ask besides the streams: how to treat undecodable events. */
export type WholeStreamOptions = Pick<ReadOptions, 'unreadable'>;

/**
 * A store that reads many whole streams in fewer requests than a `read` each
 * (`ArchivedEventStore`: an expired season's streams, checked in the table a hundred keys a
 * request instead of a Query each). Each stream comes back as `read(id, options)` gives it.
 */
export interface ReadsManyStreams {
  readMany(ids: readonly string[], options?: WholeStreamOptions): Promise<EventEnvelope[][]>;
}

/**
 * Streams read at once where each is a request of its own (a Query, and for an expired
 * season's stream the archive's index): one at a time would wait on every round trip.
 */
const STREAM_READS = 16;

/**
 * Each stream's events, in the order of `ids`, read `lanes` streams at a time. The first
 * failure stops the lanes from taking more streams, and is thrown.
 */
export async function readEach(
  ids: readonly string[],
  read: (id: string) => Promise<EventEnvelope[]>,
  lanes = STREAM_READS,
): Promise<EventEnvelope[][]> {
  const out: EventEnvelope[][] = new Array(ids.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < ids.length) {
      const i = next++;
      try {
        out[i] = await read(ids[i] as string);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, ids.length) }, lane));
  if (failure) throw failure.error;
  return out;
}

/**
 * Whole streams, each as `store.read(id, options)` gives it, in the order of `ids`: through
 * the store's own `readMany` where it has one, else `STREAM_READS` reads at a time.
 */
export function readStreams(
  store: Pick<EventStore, 'read'> & Partial<ReadsManyStreams>,
  ids: readonly string[],
  options: WholeStreamOptions = {},
): Promise<EventEnvelope[][]> {
  if (store.readMany) return store.readMany(ids, options);
  return readEach(ids, (id) => store.read(id, options));
}
