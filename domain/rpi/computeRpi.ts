import { DomainError } from '../DomainError.js';
import type { Game } from '../games/Game.js';
import { isCalendarDay } from '../games/parseDate.js';
import {
  assertValidProfile,
  hasWeightedRules,
  type RpiProfile,
  resolveProfile,
} from './RpiProfile.js';
import { type GameCounts, selectGames } from './selectGames.js';
import { strengthOfSchedule } from './strengthOfSchedule.js';
import { tallyRecords } from './tallyRecords.js';
import { weightedRpi } from './weightedRpi.js';

export type { GameCounts } from './selectGames.js';

export interface RpiOptions {
  /** Parameters of the calculation; defaults to `ncaa-soccer-2024`. */
  readonly profile?: RpiProfile;
  /**
   * The Division I list. When given, only games between two listed teams count, and only
   * listed teams are rated.
   */
  readonly teams?: Iterable<string>;
  /** Count only games played on or before this day (`YYYY-MM-DD`). */
  readonly asOf?: string;
  /** Count only games of this season. */
  readonly season?: string;
}

/**
 * One team's rating. A team that played but has no counted game (all its opponents were
 * unlisted) has `null` rank, percentages and RPI, and is listed last.
 */
export interface TeamRating {
  readonly rank: number | null;
  readonly team: string;
  /** Counted games, after the penalty rule: a penalty-kick result is a tie. */
  readonly games: number;
  readonly wins: number;
  readonly losses: number;
  readonly ties: number;
  readonly wp: number | null;
  readonly owp: number | null;
  readonly oowp: number | null;
  readonly rpi: number | null;
  /**
   * Only under a profile with a quality-win bonus: the bonus, already part of `rpi` (so the
   * RPI before it is `rpi - bonus`), and the wins left out as bad wins.
   */
  readonly bonus?: number | null;
  readonly removedWins?: number;
}

export interface RpiResult {
  readonly profile: RpiProfile;
  readonly asOf: string | null;
  readonly season: string | null;
  readonly games: GameCounts;
  /** Best first; teams with the same RPI share a rank (1, 2, 2, 4) and are in name order. */
  readonly ratings: readonly TeamRating[];
}

/**
 * Computes the Rating Percentage Index of every team that played:
 * RPI = w1·WP + w2·OWP + w3·OOWP.
 *
 * - WP: the team's winning percentage, ties worth `tieValue`, weighted by site.
 * - OWP: per game, the opponent's winning percentage without its games against this team
 *   (ties worth `sosTieValue`, no site weighting); an opponent met twice counts twice.
 *   An opponent whose only counted games are against this team has no such percentage and
 *   is left out of the average; if every opponent is left out, OWP is 0.
 * - OOWP: per game, the opponent's OWP (opponents whose OWP had nothing to average are left
 *   out; if all are, OOWP is 0).
 *
 * A profile with site-weighted averaging, bad-win removal or a quality-win bonus
 * (`ncaa-hockey-2013`) is computed by `weightedRpi`: OWP and OOWP weigh each game like WP,
 * bad wins leave the team's own figures, and `rpi` includes the bonus, given as `bonus`.
 *
 * Runs in time linear in the number of games: per-team and per-pair totals are built once
 * and each team's games are visited a constant number of times.
 *
 * @example computeRpi(games, { profile: resolveProfile('ncaa-soccer-2024'), asOf: '2024-10-31' })
 */
export function computeRpi(games: readonly Game[], options: RpiOptions = {}): RpiResult {
  const profile = options.profile ?? resolveProfile();
  assertValidProfile(profile);
  const { asOf, season } = options;
  if (asOf !== undefined && !isCalendarDay(asOf)) {
    throw new DomainError('INVALID_OPTION', `as-of date "${asOf}" is not a YYYY-MM-DD date`);
  }

  const counted = selectGames(games, {
    profile,
    listed: options.teams ? new Set(options.teams) : undefined,
    asOf,
    season,
  });
  const records = tallyRecords(counted, profile);
  const teamCount = counted.names.length;
  let wp: Float64Array;
  let owp: Float64Array;
  let oowp: Float64Array;
  let rpi: Float64Array;
  let extra: ((t: number, rated: boolean) => Pick<TeamRating, 'bonus' | 'removedWins'>) | undefined;
  if (hasWeightedRules(profile)) {
    const weighted = weightedRpi(counted, records, profile);
    ({ wp, owp, oowp, rpi } = weighted);
    if (profile.qualityWinBonus) {
      extra = (t, rated) => ({
        bonus: rated ? (weighted.bonus[t] as number) : null,
        removedWins: weighted.removedWins[t] as number,
      });
    }
  } else {
    ({ owp, oowp } = strengthOfSchedule(counted, records, profile.sosTieValue));
    const [w1, w2, w3] = profile.weights;
    wp = new Float64Array(teamCount).fill(Number.NaN);
    rpi = new Float64Array(teamCount).fill(Number.NaN);
    for (let t = 0; t < teamCount; t++) {
      if (records.played[t] === 0) continue;
      const own = (records.wpCredit[t] as number) / (records.wpWeight[t] as number);
      wp[t] = own;
      rpi[t] = w1 * own + w2 * zeroIfNaN(owp[t]) + w3 * zeroIfNaN(oowp[t]);
    }
  }

  const order = rankOrder(rpi, counted.names);
  const ratings: TeamRating[] = [];
  let previousRank = 0;
  for (let i = 0; i < teamCount; i++) {
    const t = order[i] as number;
    const value = rpi[t] as number;
    const rated = !Number.isNaN(value);
    let rank: number | null = null;
    if (rated) {
      rank = i > 0 && value === rpi[order[i - 1] as number] ? previousRank : i + 1;
      previousRank = rank;
    }
    const rating: TeamRating = {
      rank,
      team: counted.names[t] as string,
      games: records.played[t] as number,
      wins: records.wins[t] as number,
      losses: records.losses[t] as number,
      ties: records.ties[t] as number,
      wp: rated ? (wp[t] as number) : null,
      owp: rated ? zeroIfNaN(owp[t]) : null,
      oowp: rated ? zeroIfNaN(oowp[t]) : null,
      rpi: rated ? value : null,
    };
    ratings.push(extra ? { ...rating, ...extra(t, rated) } : rating);
  }

  return {
    profile,
    asOf: asOf ?? null,
    season: season ?? null,
    games: counted.counts,
    ratings,
  };
}

/** Team ids best first; the name breaks ties so the order is deterministic; unrated (NaN) last. */
function rankOrder(rpi: Float64Array, names: readonly string[]): number[] {
  const order = Array.from({ length: rpi.length }, (_, t) => t);
  return order.sort((x, y) => {
    const a = rpi[x] as number;
    const b = rpi[y] as number;
    const aRated = !Number.isNaN(a);
    if (aRated !== !Number.isNaN(b)) return aRated ? -1 : 1;
    if (aRated && a !== b) return b - a;
    const p = names[x] as string;
    const q = names[y] as string;
    return p < q ? -1 : p > q ? 1 : 0;
  });
}

function zeroIfNaN(value: number | undefined): number {
  return value === undefined || Number.isNaN(value) ? 0 : value;
}
