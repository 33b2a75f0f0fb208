import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { feedRows, game } from '../../support/games.js';

let pipeline: EmbeddedPipeline;

const ingest = (lines: readonly string[], first: number) =>
  ingestGames(
    feedRows(
      lines.map((line, i) =>
        game(line, { season: 'S1', date: '2026-09-06', matchId: `S1-${first + i}` }),
      ),
    ),
    { store: pipeline.runtime.store, concurrency: 4 },
  );

beforeAll(async () => {
  pipeline = await startPipeline({ memory: true, debounceMs: 100 });
  await ingest(['A 2-0 B', 'C 1-1 D', 'B 0-3 C'], 1);
  await pipeline.runtime.settle();
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
});

/** What `work` gives, and how often it read pages of this read model's store. */
async function withPagesCounted<T>(
  name: 'standings' | 'matches',
  work: () => Promise<T>,
): Promise<{ answer: T; reads: number }> {
  const store = pipeline.stores[name];
  const query = store.queryPages.bind(store);
  let reads = 0;
  store.queryPages = (...args) => {
    reads++;
    return query(...args);
  };
  try {
    return { answer: await work(), reads };
  } finally {
    store.queryPages = query;
  }
}

/** The season's standings as "team W-L-T", and how often the read model was read for them. */
async function standingsRead() {
  const { answer, reads } = await withPagesCounted('standings', () =>
    pipeline.queries.standings('S1'),
  );
  const rows = answer
    .flatMap((c) => c.teams)
    .map((t) => `${t.team} ${t.wins}-${t.losses}-${t.ties}`)
    .sort();
  return { rows, reads };
}

describe("the embedded pipeline's queries over a whole season", () => {
  it('work out the standings once while no read model is written, and again once one is', async () => {
    const counted = pipeline.runtime.writesCounted();
    const first = await standingsRead();
    const again = await standingsRead();
    expect(pipeline.runtime.writesCounted()).toBe(counted);
    expect(first).toEqual({ rows: ['A 1-0-0', 'B 0-2-0', 'C 1-0-1', 'D 0-0-1'], reads: 1 });
    expect(again).toEqual({ rows: first.rows, reads: 0 });

    // A result goes through the pipeline: the read models' writes move the count.
    await ingest(['D 2-1 A'], 4);
    await pipeline.runtime.settle();
    expect(pipeline.runtime.writesCounted()).toBeGreaterThan(counted ?? 0);
    const after = await standingsRead();
    expect(after).toEqual({ rows: ['A 1-1-0', 'B 0-2-0', 'C 1-0-1', 'D 1-0-1'], reads: 1 });
  });

  it("work out a season's weeks once for every team's page, whatever another read model does", async () => {
    // The recalculation the result above asked for, ended first: nothing writes meanwhile.
    await pipeline.sagas.settle(30_000);
    await pipeline.runtime.settle();
    const weeks = async (team: string) => {
      const season = await pipeline.queries.teamSeason(team, { season: 'S1' });
      return season && 'weeks' in season ? season.weeks : undefined;
    };
    const { answer, reads } = await withPagesCounted('matches', async () => {
      const a = await weeks('A');
      // A write to a read model the weeks do not read: counted, and the weeks kept.
      const counted = pipeline.runtime.writesCounted();
      await pipeline.stores['pipeline-stats'].write([{ pk: 'test', sk: 'x', doc: { n: 1 } }], []);
      expect(pipeline.runtime.writesCounted()).toBe((counted ?? 0) + 1);
      return [a, await weeks('D')];
    });
    for (const teamWeeks of answer)
      expect(teamWeeks?.at(-1)).toMatchObject({ games: 2, teams_rated: 4 });
    expect(reads).toBe(1);
    // A write to one it reads: worked out again.
    await pipeline.stores.teams.write([{ pk: 'test', sk: 'x', doc: { n: 1 } }], []);
    expect((await withPagesCounted('matches', () => weeks('B'))).reads).toBe(1);
  });
});
