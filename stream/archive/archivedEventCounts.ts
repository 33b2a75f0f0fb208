import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { IndexedStream } from './SeasonArchive.js';

/** The events of expired seasons that only the archive holds. */
export interface ArchivedEventCounts {
  readonly events: number;
  readonly streams: number;
  /** Events by season. */
  readonly by_season: Record<string, number>;
}

/**
 * Counts the events only the archive holds, from a scan of the events table: of each stream a
 * season index lists, the events below the table's first commit of it (all of them when the
 * table holds none), which is how `ArchivedEventStore` reads a stream. Give `onItem` every
 * item of the scan, then ask for `counts()`.
 */
export function archivedEventCounter(indexed: ReadonlyMap<string, IndexedStream>) {
  const firstInTable = new Map<string, number>();
  return {
    onItem(item: Record<string, AttributeValue>): void {
      const id = item.aggregate_id?.S;
      if (id === undefined || !indexed.has(id)) return;
      const sequence = Number(item.sequence?.N);
      if (!Number.isSafeInteger(sequence)) return;
      const first = firstInTable.get(id);
      if (first === undefined || sequence < first) firstInTable.set(id, sequence);
    },
    counts(): ArchivedEventCounts {
      const bySeason: Record<string, number> = {};
      let events = 0;
      let streams = 0;
      for (const [id, { index, stream }] of indexed) {
        const first = firstInTable.get(id);
        const archived =
          first === undefined ? stream.last_sequence : Math.min(first - 1, stream.last_sequence);
        if (archived <= 0) continue;
        events += archived;
        streams++;
        bySeason[index.season] = (bySeason[index.season] ?? 0) + archived;
      }
      return {
        events,
        streams,
        by_season: Object.fromEntries(
          Object.entries(bySeason).sort(([a], [b]) => (a < b ? -1 : 1)),
        ),
      };
    },
  };
}
