import { describe, expect, it } from 'vitest';
import { InMemoryDocumentStore, type QueryRange } from '../../../projections/DocumentStore.js';
import type { StoredDoc } from '../../../projections/Projection.js';
import { Projector } from '../../../projections/Projector.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { collectGames } from '../../../sagas/rpi/rpiCalculation.js';
import { envelope, result } from '../../support/envelopes.js';

/** Documents in memory, served two to a page, counting the pages read. */
class PagedStore extends InMemoryDocumentStore {
  pages = 0;

  override async *queryPages(pk: string, range?: QueryRange): AsyncGenerator<StoredDoc[]> {
    const all = await this.query(pk, range);
    for (let i = 0; i < all.length; i += 2) {
      this.pages++;
      yield all.slice(i, i + 2);
    }
  }
}

describe('collectGames', () => {
  it('takes the games the RPI counts from every page of the season', async () => {
    const store = new PagedStore();
    await new Projector(matchesProjection, store).apply([
      result('m1', 'A 2-1 B', { playedOn: '2026-09-01' }),
      result('m2', 'C 0-0 D', { playedOn: '2026-09-02' }),
      result('m3', 'A 1-3 C', { playedOn: '2026-09-03' }),
      result('m4', 'B 2-2 D', { playedOn: '2026-09-04' }),
      envelope('MatchCancelled', 'match:m4', 2, { match_id: 'm4', reason: 'storm' }),
      result('m5', 'D 4-0 A', { playedOn: '2026-09-05', decidedBy: 'penalties' }),
      result('m6', 'B 1-0 C', { playedOn: '2026-09-06', season: '2027' }),
    ]);

    const games = await collectGames(store, '2026');

    expect(store.pages).toBe(3);
    expect(games.map((g) => [g.matchId, g.homeTeam, g.homeScore, g.awayScore, g.awayTeam])).toEqual(
      [
        ['m1', 'A', 2, 1, 'B'],
        ['m2', 'C', 0, 0, 'D'],
        ['m3', 'A', 1, 3, 'C'],
        ['m5', 'D', 4, 0, 'A'],
      ],
    );
    expect(games.at(-1)?.decidedBy).toBe('penalties');
    expect((await collectGames(store, '2026', '2026-09-02')).map((g) => g.matchId)).toEqual([
      'm1',
      'm2',
    ]);
  });
});
