import { AWAY, type GameRows, gameRows, HOME } from './gameRows.js';
import { LOSS, TIE, WIN } from './outcome.js';
import type { RpiProfile } from './RpiProfile.js';
import type { CountedGames } from './selectGames.js';
import { meanPerTeam, opponentPercentages } from './strengthOfSchedule.js';
import type { TeamRecords } from './tallyRecords.js';

/** Per team id; `NaN` where the team has no counted game. */
export interface WeightedRatings {
  readonly wp: Float64Array;
  readonly owp: Float64Array;
  readonly oowp: Float64Array;
  /** The RPI before the quality-win bonus. */
  readonly base: Float64Array;
  /** The quality-win bonus (0 without one). */
  readonly bonus: Float64Array;
  /** `base + bonus`. */
  readonly rpi: Float64Array;
  readonly removedWins: Int32Array;
}

/** A win that changes the RPI by less than this is not a bad win (rounding, not a rule). */
const EPSILON = 1e-12;

/**
 * The RPI under men's ice hockey's rules since 2013-14 (and any profile with site-weighted
 * averaging, bad-win removal or a quality-win bonus), in time linear in the number of games.
 *
 * Each game g of team t has a WP credit c and weight w (a road win 1.2, a home win 0.8, a tie
 * half of each side), the opponent's winning percentage without its games against t (p) and
 * the opponent's classic per-game OWP (q). With averaging weight a = w (site-weighted) or 1:
 * WP = Σc/Σw, OWP = Σa·p/Σa, OOWP = Σa·q/Σa. A win is a bad win when t's RPI without it is
 * higher; bad wins leave t's own sums (and only t's). The bonus ranks teams by that RPI.
 */
export function weightedRpi(
  games: CountedGames,
  records: TeamRecords,
  profile: RpiProfile,
): WeightedRatings {
  const teamCount = games.names.length;
  const rows = gameRows(games, records.played);
  const { offset, opponent, result, site } = rows;
  const { credit, weight } = wpWeights(rows, profile);
  const pct = opponentPercentages(rows, records, profile.sosTieValue);
  const owpClassic = meanPerTeam(offset, pct);
  const siteWeighted = profile.sosAveraging === 'site-weighted';
  const [w1, w2, w3] = profile.weights;

  const wp = new Float64Array(teamCount).fill(Number.NaN);
  const owp = new Float64Array(teamCount).fill(Number.NaN);
  const oowp = new Float64Array(teamCount).fill(Number.NaN);
  const base = new Float64Array(teamCount).fill(Number.NaN);
  const removedWins = new Int32Array(teamCount);
  const removed = new Uint8Array(opponent.length);
  // A team's running sums: Σc, Σw, Σa·p and Σa over known p, Σa·q and Σa over known q, and
  // how many games are in each (a count, so an emptied sum is empty, not a rounding residue).
  const sums = new Float64Array(6);
  const terms = new Int32Array(3);
  const add = (e: number, sign: number) => {
    const a = siteWeighted ? (weight[e] as number) : 1;
    sums[0] = (sums[0] as number) + sign * (credit[e] as number);
    sums[1] = (sums[1] as number) + sign * (weight[e] as number);
    terms[0] = (terms[0] as number) + sign;
    const p = pct[e] as number;
    if (!Number.isNaN(p)) {
      sums[2] = (sums[2] as number) + sign * a * p;
      sums[3] = (sums[3] as number) + sign * a;
      terms[1] = (terms[1] as number) + sign;
    }
    const q = owpClassic[opponent[e] as number] as number;
    if (!Number.isNaN(q)) {
      sums[4] = (sums[4] as number) + sign * a * q;
      sums[5] = (sums[5] as number) + sign * a;
      terms[2] = (terms[2] as number) + sign;
    }
  };
  const rpiOfSums = () => {
    if (terms[0] === 0) return Number.NaN;
    return w1 * wpOfSums() + w2 * owpOfSums() + w3 * oowpOfSums();
  };
  const wpOfSums = () => (sums[0] as number) / (sums[1] as number);
  const owpOfSums = () => (terms[1] === 0 ? 0 : (sums[2] as number) / (sums[3] as number));
  const oowpOfSums = () => (terms[2] === 0 ? 0 : (sums[4] as number) / (sums[5] as number));
  /** The sums over the team's games still counted, added afresh (no subtraction residue). */
  const sumKept = (start: number, end: number) => {
    sums.fill(0);
    terms.fill(0);
    for (let e = start; e < end; e++) if (removed[e] === 0) add(e, 1);
  };

  for (let t = 0; t < teamCount; t++) {
    const start = offset[t] as number;
    const end = offset[t + 1] as number;
    if (start === end) continue;
    sumKept(start, end);
    if (profile.badWins) removeBadWins(t);
    wp[t] = wpOfSums();
    owp[t] = owpOfSums();
    oowp[t] = oowpOfSums();
    base[t] = rpiOfSums();
  }

  function removeBadWins(t: number): void {
    const start = offset[t] as number;
    const end = offset[t + 1] as number;
    const once = profile.badWins?.passes === 'once';
    for (;;) {
      const current = rpiOfSums();
      const bad: number[] = [];
      for (let e = start; e < end; e++) {
        if (result[e] !== WIN || removed[e] === 1) continue;
        add(e, -1);
        if (rpiOfSums() - current > EPSILON) bad.push(e);
        add(e, 1);
      }
      // Never leave a team without games: its RPI would be undefined, not higher.
      let remaining = 0;
      for (let e = start; e < end; e++) if (removed[e] === 0) remaining++;
      if (bad.length === 0 || bad.length >= remaining) return;
      for (const e of bad) removed[e] = 1;
      sumKept(start, end);
      // Each bad win alone raises the RPI; together they could lower it only where an
      // average loses its last term (an opponent with no other game): then keep them all.
      if (!(rpiOfSums() - current > EPSILON)) {
        for (const e of bad) removed[e] = 0;
        sumKept(start, end);
        return;
      }
      removedWins[t] = (removedWins[t] as number) + bad.length;
      if (once) return;
    }
  }

  const bonus = new Float64Array(teamCount);
  const qwb = profile.qualityWinBonus;
  if (qwb && qwb.points.length > 0) {
    const rank = competitionRanks(base);
    const { homeWin, roadWin } = profile.locationWeights;
    for (let t = 0; t < teamCount; t++) {
      const start = offset[t] as number;
      const end = offset[t + 1] as number;
      let points = 0;
      let totalWeight = 0;
      for (let e = start; e < end; e++) {
        totalWeight += weight[e] as number;
        const r = result[e];
        if (r === LOSS) continue;
        const opponentRank = rank[opponent[e] as number] as number;
        if (opponentRank < 1 || opponentRank > qwb.points.length) continue;
        const s = site[e];
        const siteFactor = !qwb.siteWeighted ? 1 : s === HOME ? homeWin : s === AWAY ? roadWin : 1;
        const share = r === TIE ? qwb.tieShare : 1;
        points += (qwb.points[opponentRank - 1] as number) * siteFactor * share;
      }
      if (totalWeight > 0) bonus[t] = (points / totalWeight) * qwb.scale;
    }
  }

  const rpi = new Float64Array(teamCount);
  for (let t = 0; t < teamCount; t++) rpi[t] = (base[t] as number) + (bonus[t] as number);
  return { wp, owp, oowp, base, bonus, rpi, removedWins };
}

/**
 * Each game row's WP credit and weight: a win weighs its site's win weight, a loss its loss
 * weight, and a tie `tieValue` of the one and the rest of the other.
 */
function wpWeights(rows: GameRows, profile: RpiProfile) {
  const { result, site } = rows;
  const credit = new Float64Array(result.length);
  const weight = new Float64Array(result.length);
  const { homeWin, roadWin } = profile.locationWeights;
  const { tieValue } = profile;
  for (let e = 0; e < result.length; e++) {
    const r = result[e];
    const s = site[e];
    const winWeight = s === HOME ? homeWin : s === AWAY ? roadWin : 1;
    const lossWeight = s === HOME ? roadWin : s === AWAY ? homeWin : 1;
    if (r === WIN) {
      credit[e] = winWeight;
      weight[e] = winWeight;
    } else if (r === LOSS) {
      weight[e] = lossWeight;
    } else {
      credit[e] = tieValue * winWeight;
      weight[e] = tieValue * winWeight + (1 - tieValue) * lossWeight;
    }
  }
  return { credit, weight };
}

/**
 * 1-based ranks by value, best first, values within `EPSILON` of the one before sharing its
 * rank (equal RPIs reached by different sums differ in the last bits); 0 for NaN.
 */
export function competitionRanks(values: Float64Array): Int32Array {
  const ids: number[] = [];
  for (let t = 0; t < values.length; t++) if (!Number.isNaN(values[t] as number)) ids.push(t);
  ids.sort((x, y) => (values[y] as number) - (values[x] as number));
  const rank = new Int32Array(values.length);
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i] as number;
    const previous = ids[i - 1];
    rank[t] =
      previous !== undefined && (values[previous] as number) - (values[t] as number) <= EPSILON
        ? (rank[previous] as number)
        : i + 1;
  }
  return rank;
}
