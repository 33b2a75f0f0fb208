import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection } from '../Projection.js';

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
 * the totals are summed when asked. (Consumer lag and dead letters are live figures of the
 * runtime, not stored here.)
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
    const current = view.get(key) as DayContribution | undefined;
    if (current && current.version >= event.sequence) return {};
    const counts = { ...(current?.counts ?? {}) };
    counts[event.event_type] = (counts[event.event_type] ?? 0) + 1;
    return {
      put: [
        { ...key, doc: { counts, version: event.sequence } },
        { ...dayKey(day), doc: { day } },
      ],
    };
  },
};

/** Events by day and type, and in all. */
export async function eventCounts(store: DocumentStore): Promise<{
  total: number;
  by_type: Record<string, number>;
  by_day: Record<string, Record<string, number>>;
}> {
  const days = (await store.query('days')).map((d) => d.sk);
  const byDay: Record<string, Record<string, number>> = {};
  const byType: Record<string, number> = {};
  let total = 0;
  await Promise.all(
    days.map(async (day) => {
      const counts: Record<string, number> = {};
      for (const c of await store.query(`day#${day}`)) {
        for (const [type, n] of Object.entries((c.doc as DayContribution).counts)) {
          counts[type] = (counts[type] ?? 0) + n;
          byType[type] = (byType[type] ?? 0) + n;
          total += n;
        }
      }
      byDay[day] = counts;
    }),
  );
  return { total, by_type: byType, by_day: byDay };
}
