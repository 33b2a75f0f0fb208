import { describe, expect, it } from 'vitest';
import type { GameProblem, GameRow } from '../../../feeds/readGames.js';
import { refuseClosedSeasons } from '../../../ingest/closedSeasons.js';
import { closeSeason } from '../../../ingest/seasons.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { registry } from '../../support/registry.js';

/** A feed row of `season` at `line`. */
function row(line: number, season: string): GameRow {
  return {
    kind: 'game',
    line,
    fields: { season },
    game: {
      matchId: `${season}-${line}`,
      season,
      date: `${season}-09-01`,
      homeTeam: 'A',
      awayTeam: 'B',
      homeScore: 1,
      awayScore: 0,
      neutral: false,
      decidedBy: 'regulation',
    },
  };
}

async function* batches(...of: (GameRow | GameProblem)[][]) {
  yield* of;
}

describe('refuseClosedSeasons', () => {
  it("turns a closed season's rows into rejects saying where they can go, reading each season once", async () => {
    const store = new InMemoryEventStore(registry);
    await closeSeason(store, '2025');
    const reads: string[] = [];
    const counted = {
      read: (id: string) => {
        reads.push(id);
        return store.read(id);
      },
    };
    const problem: GameProblem = { kind: 'problem', line: 4, reason: 'bad date' };

    const out: (GameRow | GameProblem)[] = [];
    for await (const batch of refuseClosedSeasons(
      batches([row(2, '2025'), row(3, '2026'), problem], [row(5, '2025'), row(6, '2026')]),
      counted,
      'give --bucket',
    ))
      out.push(...batch);

    const refused = {
      kind: 'problem',
      reason:
        'season 2025 is closed, and may have been expired from the table into the archive, which this store does not read: give --bucket',
    };
    expect(out).toEqual([
      { ...refused, line: 2, fields: { season: '2025' } },
      row(3, '2026'),
      problem,
      { ...refused, line: 5, fields: { season: '2025' } },
      row(6, '2026'),
    ]);
    expect(reads).toEqual(['season:2025', 'season:2026']);
  });
});
