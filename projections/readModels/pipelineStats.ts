import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import {
  type DocChanges,
  type DocKey,
  type DocView,
  keyString,
  type Projection,
  type StoredDoc,
} from '../Projection.js';

/** One stream's events of one day, by type, with the last sequence counted. */
interface DayContribution {
  readonly counts: Readonly<Record<string, number>>;
  readonly version: number;
}

const contributionKey = (day: string, aggregateId: string): DocKey => ({
  pk: `day#${day}`,
  sk: aggregateId,
});
const dayKey = (day: string): DocKey => ({ pk: 'days', sk: day });

/**
 * Pipeline statistics: events by type and day. Each stream's count for a day is its own
 * document, guarded by the stream's sequence, so counting an event twice is impossible;
 * the totals are summed when asked. A day's document is its mark (`DocChanges.marks`),
 * written after the counts of every batch with events of the day, a repeated one too: a
 * reader sums a day again only once its mark has changed (`eventCounts`). (Consumer lag and
 * dead letters are live figures of the runtime, not stored here.)
 */
export const pipelineStatsProjection: Projection = {
  name: 'pipeline-stats',
  version: 1,
  guardsRepeats: true,
  eventTypes: '*',
  reads: (event) => [contributionKey(event.timestamp.slice(0, 10), event.aggregate_id)],
  evolve(view: DocView, event: EventEnvelope): DocChanges {
    const day = event.timestamp.slice(0, 10);
    const key = contributionKey(day, event.aggregate_id);
    const marks = [{ ...dayKey(day), doc: { day } }];
    const current = view.get(key) as DayContribution | undefined;
    if (current && current.version >= event.sequence) return { marks };
    const counts = { ...(current?.counts ?? {}) };
    counts[event.event_type] = (counts[event.event_type] ?? 0) + 1;
    return { put: [{ ...key, doc: { counts, version: event.sequence } }], marks };
  },
};

/**
 * Of these stored events (each with the day of its timestamp when known), those the read
 * model has not counted: its count of the event's stream and day does not reach the event's
 * sequence. An event whose day is not known is taken as not counted.
 */
export async function uncounted<E extends { aggregate_id: string; sequence: number; day?: string }>(
  store: DocumentStore,
  events: readonly E[],
): Promise<E[]> {
  const keys = events.flatMap((e) =>
    e.day === undefined ? [] : [contributionKey(e.day, e.aggregate_id)],
  );
  const found = keys.length === 0 ? new Map() : await store.getMany(keys);
  return events.filter((e) => {
    if (e.day === undefined) return true;
    const counted = found.get(keyString(contributionKey(e.day, e.aggregate_id))) as
      | DayContribution
      | undefined;
    return counted === undefined || counted.version < e.sequence;
  });
}

/** A day's counts by type, as summed under a mark of the day. */
interface DaySum {
  readonly mark: string;
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * The days each store's readers summed, by the mark they read first. A mark is new at each
 * write (a random id), so a sum found under the mark a day holds now is that of its counts
 * written before the mark: later ones come with a new mark. A day written without a mark
 * (by an earlier release) is summed every time.
 */
const sums = new WeakMap<DocumentStore, Map<string, DaySum>>();

/** Days whose counts `eventCounts` reads at once. */
const DAYS_AT_ONCE = 8;

/**
 * Events by day and type, and in all. The days' marks are read first; a day whose mark is
 * the one a sum of it was kept under is not read again (the counts queries are consistent
 * reads, so they hold every count written before the mark they follow).
 */
export async function eventCounts(store: DocumentStore): Promise<{
  total: number;
  by_type: Record<string, number>;
  by_day: Record<string, Record<string, number>>;
}> {
  const days = await store.query('days');
  const kept = sums.get(store) ?? new Map<string, DaySum>();
  sums.set(store, kept);
  const sum = async ({ sk: day, mark }: StoredDoc): Promise<[string, Record<string, number>]> => {
    const known = kept.get(day);
    if (mark !== undefined && known?.mark === mark) return [day, { ...known.counts }];
    const counts: Record<string, number> = {};
    for await (const page of store.queryPages(`day#${day}`))
      for (const c of page)
        for (const [type, n] of Object.entries((c.doc as DayContribution).counts))
          counts[type] = (counts[type] ?? 0) + n;
    if (mark !== undefined) kept.set(day, { mark, counts });
    return [day, counts];
  };
  // A few days at a time, each a page at a time: a day holds an item per stream of the day
  // (1,300 on a day of a 10,000-team season), so every day at once held the season's items.
  const summed: [string, Record<string, number>][] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(DAYS_AT_ONCE, days.length) }, async () => {
      for (let i = next++; i < days.length; i = next++) summed[i] = await sum(days[i] as StoredDoc);
    }),
  );
  const byType: Record<string, number> = {};
  let total = 0;
  for (const [, counts] of summed)
    for (const [type, n] of Object.entries(counts)) {
      byType[type] = (byType[type] ?? 0) + n;
      total += n;
    }
  return { total, by_type: byType, by_day: Object.fromEntries(summed) };
}
