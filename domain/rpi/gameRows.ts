import { WIN } from './outcome.js';
import type { CountedGames } from './selectGames.js';

/** Where a team played a game, as stored in `GameRows.site`. */
export const NEUTRAL = 0;
export const HOME = 1;
export const AWAY = 2;

/**
 * Each team's games as compressed rows: team t's rows are e in offset[t]..offset[t+1], each
 * against `opponent[e]`, with t's result `result[e]` (`LOSS`, `TIE`, `WIN`) and site `site[e]`.
 */
export interface GameRows {
  readonly offset: Int32Array;
  readonly opponent: Int32Array;
  readonly result: Uint8Array;
  readonly site: Uint8Array;
}

/** Lays the counted games out by team, each game once for either side, in game order. */
export function gameRows(games: CountedGames, played: Int32Array): GameRows {
  const teamCount = games.names.length;
  const offset = new Int32Array(teamCount + 1);
  for (let t = 0; t < teamCount; t++) offset[t + 1] = (offset[t] as number) + (played[t] as number);
  const cursor = offset.slice(0, teamCount);
  const size = 2 * games.count;
  const opponent = new Int32Array(size);
  const result = new Uint8Array(size);
  const site = new Uint8Array(size);
  const put = (team: number, other: number, r: number, s: number) => {
    const e = cursor[team] as number;
    cursor[team] = e + 1;
    opponent[e] = other;
    result[e] = r;
    site[e] = s;
  };
  for (let i = 0; i < games.count; i++) {
    const h = games.home[i] as number;
    const a = games.away[i] as number;
    const r = games.homeResult[i] as number;
    const neutral = games.atHome[i] === 0;
    put(h, a, r, neutral ? NEUTRAL : HOME);
    put(a, h, WIN - r, neutral ? NEUTRAL : AWAY);
  }
  return { offset, opponent, result, site };
}
