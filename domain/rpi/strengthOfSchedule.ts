import { LOSS, TIE, WIN } from './outcome.js';
import type { CountedGames } from './selectGames.js';
import type { TeamRecords } from './tallyRecords.js';

/** OWP and OOWP per team id; `NaN` where no opponent contributed (see `computeRpi`). */
export interface StrengthOfSchedule {
  readonly owp: Float64Array;
  readonly oowp: Float64Array;
}

/**
 * OWP and OOWP of every team in time linear in the number of games. Each team's games are
 * laid out as an adjacency list; per-opponent totals against the current team go into
 * scratch arrays stamped with that team, so nothing is cleared between teams.
 */
export function strengthOfSchedule(
  games: CountedGames,
  records: TeamRecords,
  sosTieValue: number,
): StrengthOfSchedule {
  const teamCount = games.names.length;
  const { offset, opponent, result } = adjacency(games, records.played);
  const { played, wins, ties } = records;

  const owp = new Float64Array(teamCount).fill(Number.NaN);
  const stamp = new Int32Array(teamCount).fill(-1);
  const pairGames = new Int32Array(teamCount);
  const pairLosses = new Int32Array(teamCount);
  const pairTies = new Int32Array(teamCount);
  for (let t = 0; t < teamCount; t++) {
    const start = offset[t] as number;
    const end = offset[t + 1] as number;
    for (let e = start; e < end; e++) {
      const o = opponent[e] as number;
      if (stamp[o] !== t) {
        stamp[o] = t;
        pairGames[o] = 0;
        pairLosses[o] = 0;
        pairTies[o] = 0;
      }
      pairGames[o] = (pairGames[o] as number) + 1;
      const r = result[e];
      if (r === LOSS) pairLosses[o] = (pairLosses[o] as number) + 1;
      else if (r === TIE) pairTies[o] = (pairTies[o] as number) + 1;
    }
    let sum = 0;
    let n = 0;
    for (let e = start; e < end; e++) {
      const o = opponent[e] as number;
      const remaining = (played[o] as number) - (pairGames[o] as number);
      if (remaining > 0) {
        // The opponent's record without this team: its wins against us are our losses.
        const oppWins = (wins[o] as number) - (pairLosses[o] as number);
        const oppTies = (ties[o] as number) - (pairTies[o] as number);
        sum += (oppWins + sosTieValue * oppTies) / remaining;
        n++;
      }
    }
    if (n > 0) owp[t] = sum / n;
  }

  const oowp = new Float64Array(teamCount).fill(Number.NaN);
  for (let t = 0; t < teamCount; t++) {
    let sum = 0;
    let n = 0;
    const end = offset[t + 1] as number;
    for (let e = offset[t] as number; e < end; e++) {
      const value = owp[opponent[e] as number] as number;
      if (!Number.isNaN(value)) {
        sum += value;
        n++;
      }
    }
    if (n > 0) oowp[t] = sum / n;
  }
  return { owp, oowp };
}

/** Each team's games as compressed rows: `opponent[e]` and `result[e]` for e in offset[t]..offset[t+1]. */
function adjacency(games: CountedGames, played: Int32Array) {
  const teamCount = games.names.length;
  const offset = new Int32Array(teamCount + 1);
  for (let t = 0; t < teamCount; t++) offset[t + 1] = (offset[t] as number) + (played[t] as number);
  const cursor = offset.slice(0, teamCount);
  const opponent = new Int32Array(2 * games.count);
  const result = new Uint8Array(2 * games.count);
  const { home, away, homeResult } = games;
  for (let i = 0; i < games.count; i++) {
    const h = home[i] as number;
    const a = away[i] as number;
    const r = homeResult[i] as number;
    const hi = cursor[h] as number;
    opponent[hi] = a;
    result[hi] = r;
    cursor[h] = hi + 1;
    const ai = cursor[a] as number;
    opponent[ai] = h;
    result[ai] = WIN - r;
    cursor[a] = ai + 1;
  }
  return { offset, opponent, result };
}
