import { describe, expect, it } from 'vitest';
import { archivedEventCounter } from '../../../../stream/archive/archivedEventCounts.js';
import type { IndexedStream } from '../../../../stream/archive/SeasonArchive.js';
import type { SeasonIndex } from '../../../../stream/archive/seasonIndex.js';

/** An index of `season` listing streams by id and last sequence (commits left out: unused). */
function indexed(season: string, streams: Record<string, number>): [string, IndexedStream][] {
  const index = { season } as SeasonIndex;
  return Object.entries(streams).map(([id, last]) => [
    id,
    { index, stream: { aggregate_id: id, last_sequence: last, commits: [] } },
  ]);
}

const item = (id: string, sequence: number) => ({
  aggregate_id: { S: id },
  sequence: { N: String(sequence) },
});

describe('the events only the archive holds', () => {
  it("counts each indexed stream below the table's first commit of it, by season", () => {
    // Prepare: 2024's a (3 events, all expired) and b (4, its commits from 3 kept in the
    // table), 2025's c (2, its last commit appended again after the index: 2 and 3 in the
    // table), d (1, still whole in the table); e is not indexed.
    const counter = archivedEventCounter(
      new Map([...indexed('2024', { a: 3, b: 4 }), ...indexed('2025', { c: 2, d: 1 })]),
    );

    // Act: the table's items in any order.
    for (const i of [
      item('b', 4),
      item('e', 1),
      item('c', 3),
      item('b', 3),
      item('c', 2),
      item('d', 1),
    ])
      counter.onItem(i);

    // Assess
    expect(counter.counts()).toEqual({
      events: 3 + 2 + 1,
      streams: 3,
      by_season: { '2024': 5, '2025': 1 },
    });
  });

  it('counts nothing when no stream is indexed, and ignores items without a sequence', () => {
    const counter = archivedEventCounter(new Map());
    counter.onItem({ aggregate_id: { S: 'a' } });
    expect(counter.counts()).toEqual({ events: 0, streams: 0, by_season: {} });
  });
});
