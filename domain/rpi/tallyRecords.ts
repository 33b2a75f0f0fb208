import { TIE, WIN } from './outcome.js';
import type { RpiProfile } from './RpiProfile.js';
import type { CountedGames } from './selectGames.js';

/** Per-team totals, indexed by team id. */
export interface TeamRecords {
  readonly played: Int32Array;
  readonly wins: Int32Array;
  readonly losses: Int32Array;
  readonly ties: Int32Array;
  /** Wins credited to the team's own WP (site-weighted, ties worth `tieValue`). */
  readonly wpCredit: Float64Array;
  /** Everything the team's WP is divided by (the same weights, losses included). */
  readonly wpWeight: Float64Array;
}

/** One pass over the counted games: each team's record and the parts of its WP. */
export function tallyRecords(games: CountedGames, profile: RpiProfile): TeamRecords {
  const teamCount = games.names.length;
  const played = new Int32Array(teamCount);
  const wins = new Int32Array(teamCount);
  const losses = new Int32Array(teamCount);
  const ties = new Int32Array(teamCount);
  const wpCredit = new Float64Array(teamCount);
  const wpWeight = new Float64Array(teamCount);
  const { homeWin, roadWin } = profile.locationWeights;
  const { tieValue } = profile;
  const { home, away, homeResult, atHome } = games;

  for (let i = 0; i < games.count; i++) {
    const h = home[i] as number;
    const a = away[i] as number;
    const r = homeResult[i] as number;
    // A home win weighs `homeWin` and a home loss `roadWin`; the road side mirrors it, so the
    // road side's win weight is the home side's loss weight and the other way round.
    const neutral = atHome[i] === 0;
    const homeWinWeight = neutral ? 1 : homeWin;
    const homeLossWeight = neutral ? 1 : roadWin;
    played[h] = (played[h] as number) + 1;
    played[a] = (played[a] as number) + 1;
    if (r === TIE) {
      // A tie is part win, part loss: weighted as a win for its win share, as a loss for the rest.
      ties[h] = (ties[h] as number) + 1;
      ties[a] = (ties[a] as number) + 1;
      wpCredit[h] = (wpCredit[h] as number) + tieValue * homeWinWeight;
      wpWeight[h] =
        (wpWeight[h] as number) + tieValue * homeWinWeight + (1 - tieValue) * homeLossWeight;
      wpCredit[a] = (wpCredit[a] as number) + tieValue * homeLossWeight;
      wpWeight[a] =
        (wpWeight[a] as number) + tieValue * homeLossWeight + (1 - tieValue) * homeWinWeight;
    } else {
      const homeWon = r === WIN;
      const winner = homeWon ? h : a;
      const loser = homeWon ? a : h;
      // The winner's win and the loser's loss weigh the same: a home win is a road loss.
      const weight = homeWon ? homeWinWeight : homeLossWeight;
      wins[winner] = (wins[winner] as number) + 1;
      losses[loser] = (losses[loser] as number) + 1;
      wpCredit[winner] = (wpCredit[winner] as number) + weight;
      wpWeight[winner] = (wpWeight[winner] as number) + weight;
      wpWeight[loser] = (wpWeight[loser] as number) + weight;
    }
  }
  return { played, wins, losses, ties, wpCredit, wpWeight };
}
