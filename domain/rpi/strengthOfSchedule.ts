import { type GameRows, gameRows } from './gameRows.js';
import { LOSS, TIE } from './outcome.js';
import type { CountedGames } from './selectGames.js';
import type { TeamRecords } from './tallyRecords.js';

/** OWP and OOWP per team id; `NaN` where no opponent contributed (see `computeRpi`). */
export interface StrengthOfSchedule {
  readonly owp: Float64Array;
  readonly oowp: Float64Array;
}

/**
 * The classic OWP and OOWP of every team, in time linear in the number of games: OWP the
 * per-game mean of its opponents' percentages, OOWP the per-game mean of its opponents' OWP.
 */
export function strengthOfSchedule(
  games: CountedGames,
  records: TeamRecords,
  sosTieValue: number,
): StrengthOfSchedule {
  const rows = gameRows(games, records.played);
  const owp = meanPerTeam(rows.offset, opponentPercentages(rows, records, sosTieValue));
  const opponentOwp = Float64Array.from(rows.opponent, (o) => owp[o] as number);
  return { owp, oowp: meanPerTeam(rows.offset, opponentOwp) };
}

/**
 * Per game row: the opponent's winning percentage without its games against the team (NaN if
 * it has none left). Per-opponent totals against the current team go into scratch arrays
 * stamped with that team, so nothing is cleared between teams.
 */
export function opponentPercentages(
  rows: GameRows,
  records: TeamRecords,
  sosTieValue: number,
): Float64Array {
  const { offset, opponent, result } = rows;
  const { played, wins, ties } = records;
  const teamCount = offset.length - 1;
  const pct = new Float64Array(opponent.length).fill(Number.NaN);
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
      if (result[e] === LOSS) pairLosses[o] = (pairLosses[o] as number) + 1;
      else if (result[e] === TIE) pairTies[o] = (pairTies[o] as number) + 1;
    }
    for (let e = start; e < end; e++) {
      const o = opponent[e] as number;
      const remaining = (played[o] as number) - (pairGames[o] as number);
      if (remaining > 0) {
        // The opponent's record without this team: its wins against us are our losses.
        const oppWins = (wins[o] as number) - (pairLosses[o] as number);
        const oppTies = (ties[o] as number) - (pairTies[o] as number);
        pct[e] = (oppWins + sosTieValue * oppTies) / remaining;
      }
    }
  }
  return pct;
}

/** Per team: the mean of its game rows' values, NaN ones left out; `NaN` where none is left. */
export function meanPerTeam(offset: Int32Array, perGame: Float64Array): Float64Array {
  const teamCount = offset.length - 1;
  const mean = new Float64Array(teamCount).fill(Number.NaN);
  for (let t = 0; t < teamCount; t++) {
    let sum = 0;
    let n = 0;
    const end = offset[t + 1] as number;
    for (let e = offset[t] as number; e < end; e++) {
      const value = perGame[e] as number;
      if (!Number.isNaN(value)) {
        sum += value;
        n++;
      }
    }
    if (n > 0) mean[t] = sum / n;
  }
  return mean;
}
