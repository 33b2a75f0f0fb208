import { describe, expect, it } from 'vitest';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import type { Doc, DocKey, Projection } from '../../../projections/Projection.js';
import { keyString } from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { result } from '../../support/envelopes.js';

const dayItem = (day: string): DocKey => ({ pk: 'day', sk: day });
const indexItem = (team: string): DocKey => ({ pk: 'team', sk: team });

interface Entry {
  readonly goals: number;
  readonly version: number;
}

/**
 * Results by day, one shared item per day with an entry per match stream that guards by the
 * stream's sequence, and an unread index item per home team: what a read model built on
 * entries does.
 */
const byDay: Projection = {
  name: 'by-day',
  version: 1,
  eventTypes: ['MatchRecorded', 'MatchResultCorrected'],
  reads: (event) =>
    event.event_type === 'MatchRecorded' || event.event_type === 'MatchResultCorrected'
      ? [dayItem(event.data.played_on)]
      : [],
  evolve(view, event) {
    if (event.event_type !== 'MatchRecorded' && event.event_type !== 'MatchResultCorrected')
      return {};
    const item = view.get(dayItem(event.data.played_on)) as Record<string, Entry> | undefined;
    const seen = item?.[event.aggregate_id];
    if (seen && seen.version >= event.sequence) return {};
    const entry: Entry = {
      goals: event.data.home_goals + event.data.away_goals,
      version: event.sequence,
    };
    return {
      entries: [
        { ...dayItem(event.data.played_on), set: { [event.aggregate_id]: entry } },
        {
          ...indexItem(event.data.home_team),
          set: { [event.aggregate_id]: { day: event.data.played_on } },
        },
      ],
    };
  },
};

async function itemOf(store: InMemoryDocumentStore, key: DocKey): Promise<Doc | undefined> {
  return (await store.getMany([key])).get(keyString(key));
}

describe('a projector writing entries of shared items', () => {
  it('gathers many streams into one item, each stream its own entry', async () => {
    const store = new InMemoryDocumentStore();
    const projector = new Projector(byDay, store);

    await projector.apply([
      result('m1', 'A 2-1 B', { playedOn: '2026-09-01' }),
      result('m2', 'C 0-0 D', { playedOn: '2026-09-01' }),
      result('m3', 'A 3-0 D', { playedOn: '2026-09-02' }),
    ]);
    await projector.apply([result('m4', 'B 1-1 C', { playedOn: '2026-09-01' })]);

    expect(await itemOf(store, dayItem('2026-09-01'))).toEqual({
      'match:m1': { goals: 3, version: 1 },
      'match:m2': { goals: 0, version: 1 },
      'match:m4': { goals: 2, version: 1 },
    });
    expect(await itemOf(store, indexItem('A'))).toEqual({
      'match:m1': { day: '2026-09-01' },
      'match:m3': { day: '2026-09-02' },
    });
  });

  it('lets a later event of the batch see the entries an earlier one set, and applies nothing twice', async () => {
    const store = new InMemoryDocumentStore();
    const projector = new Projector(byDay, store);
    const events: EventEnvelope[] = [
      result('m1', 'A 2-1 B', { playedOn: '2026-09-01' }),
      result('m1', 'A 4-1 B', { playedOn: '2026-09-01', sequence: 2, corrected: true }),
    ];

    await projector.apply(events);
    const once = store.all();
    // A repeated batch (a consumer that crashed before moving its positions) changes nothing,
    // and an older event arriving alone does not overwrite the newer entry.
    await projector.apply(events);
    await projector.apply([events[0] as EventEnvelope]);

    expect(store.all()).toEqual(once);
    expect(await itemOf(store, dayItem('2026-09-01'))).toEqual({
      'match:m1': { goals: 5, version: 2 },
    });
  });

  it('writes the items it read (its guards) after the others', async () => {
    const calls: string[] = [];
    const inner = new InMemoryDocumentStore();
    const store = Object.assign(Object.create(inner) as InMemoryDocumentStore, {
      update: async (changes: Parameters<InMemoryDocumentStore['update']>[0]) => {
        calls.push(changes.map((c) => c.pk).join(','));
        await inner.update(changes);
      },
    });

    await new Projector(byDay, store).apply([result('m1', 'A 2-1 B', { playedOn: '2026-09-01' })]);

    expect(calls).toEqual(['team', 'day']);
  });

  it('refuses a key written both as a document and as entries', async () => {
    const both: Projection = {
      ...byDay,
      evolve: (_view, event) => ({
        put: [{ ...dayItem('x'), doc: {} }],
        entries: [{ ...dayItem('x'), set: { [event.aggregate_id]: {} } }],
      }),
    };

    await expect(
      new Projector(both, new InMemoryDocumentStore()).apply([result('m1', 'A 1-0 B')]),
    ).rejects.toThrow('projection by-day wrote day/x both as a document and as entries');
  });
});
