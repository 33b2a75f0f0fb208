import { DomainError } from '../DomainError.js';
import type { Game } from '../games/Game.js';
import {
  type AdjustmentOverrides,
  type ResolvedAdjustments,
  resolveAdjustments,
} from './adjustments.js';
import { computeRpi, type GameCounts, type RpiOptions, type TeamRating } from './computeRpi.js';
import { LOSS, TIE, WIN } from './outcome.js';
import { hasWeightedRules, type RpiProfile, resolveProfile } from './RpiProfile.js';
import type { RpiVariant } from './rpiVariants.js';
import { type CountedGames, selectGames } from './selectGames.js';
import { strengthOfSchedule } from './strengthOfSchedule.js';
import { tallyRecords } from './tallyRecords.js';

// Apart, so that offering the variants (the CLI's --variant) loads no calculation.
export { RPI_VARIANTS, type RpiVariant } from './rpiVariants.js';

/** A conference label that never makes a game a conference game (compared case-insensitively). */
export const INDEPENDENT = 'independent';

export interface VariantOptions extends RpiOptions {
  /** Defaults to `unadjusted`. */
  readonly variant?: RpiVariant;
  /**
   * Each team's conference, needed by `non-conference` and by an `adjusted` table that counts
   * only non-conference games. Two teams with the same conference play a conference game,
   * unless it is `Independent`. A game with a team missing here is of unknown status: it is
   * left out of the non-conference RPI and earns no adjustment, and is counted in
   * `games.unknownConference`.
   */
  readonly conferences?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Values laid over the profile's adjustment table (see `parseAdjustmentOverrides`). */
  readonly adjustments?: AdjustmentOverrides;
}

/** A team's rating under the variant (`rank`, record, percentages, `rpi`) and its unadjusted RPI. */
export interface VariantRating extends TeamRating {
  readonly unadjustedRank: number | null;
  readonly unadjustedRpi: number | null;
  /** Under `adjusted`: bonuses minus penalties, already part of `rpi`. */
  readonly adjustment?: number | null;
}

export interface VariantGameCounts extends GameCounts {
  /** Counted games between teams of different conferences; null without conferences. */
  readonly nonConference: number | null;
  /** Counted games whose status is unknown (a team without a conference); null without conferences. */
  readonly unknownConference: number | null;
}

export interface VariantResult {
  readonly profile: RpiProfile;
  readonly variant: RpiVariant;
  readonly asOf: string | null;
  readonly season: string | null;
  readonly games: VariantGameCounts;
  /** Best first by the variant's RPI; equal values share a rank; unrated teams last. */
  readonly ratings: readonly VariantRating[];
  /** Adjustment values used that no published source confirmed (README, "The RPI"). */
  readonly unconfirmed: readonly string[];
  /** Under `adjusted`: the table used. */
  readonly adjustments?: ResolvedAdjustments;
}

/**
 * The RPI variant asked for, each team keeping its unadjusted RPI and rank beside it.
 *
 * - `unadjusted`: `computeRpi` as it is.
 * - `adjusted`: the unadjusted RPI plus the profile's bonuses (wins and ties against teams
 *   ranked high in the unadjusted RPI) minus its penalties (losses and ties against teams
 *   ranked low), by the game's site; refused by profiles without an adjustment table.
 * - `non-conference`: WP over the team's non-conference games; OWP and OOWP averaged over
 *   those games of each opponent's full-season figures (its winning percentage without its
 *   games against the team, and its classic OWP). A team with no such game is unrated.
 *
 * @example computeRpiVariant(games, { variant: 'non-conference', conferences: { A: 'ACC', B: 'SEC' } })
 */
export function computeRpiVariant(
  games: readonly Game[],
  options: VariantOptions = {},
): VariantResult {
  const variant = options.variant ?? 'unadjusted';
  const profile = options.profile ?? resolveProfile();
  const unadjusted = computeRpi(games, { ...options, profile });
  const conferenceOf = conferenceLookup(options.conferences);

  switch (variant) {
    case 'unadjusted':
      return {
        profile,
        variant,
        asOf: unadjusted.asOf,
        season: unadjusted.season,
        games: {
          ...unadjusted.games,
          ...(conferenceOf ? statusCounts(counted(games, options, profile), conferenceOf) : none),
        },
        ratings: unadjusted.ratings.map((r) => ({
          ...r,
          unadjustedRank: r.rank,
          unadjustedRpi: r.rpi,
        })),
        unconfirmed: [],
      };
    case 'adjusted': {
      const resolved = checkVariant(variant, profile, options.adjustments);
      if (!resolved) throw new Error('an adjusted RPI without its table');
      if (resolved.games === 'non-conference' && !conferenceOf) {
        throw missingConferences(
          'the adjusted RPI counts bonuses and penalties only in non-conference games',
        );
      }
      const games_ = counted(games, options, profile);
      const { net, status } = adjustmentsOf(games_, unadjusted.ratings, resolved, conferenceOf);
      const ratings = unadjusted.ratings.map((r) => {
        const adjustment = r.rpi === null ? null : (net.get(r.team) ?? 0);
        return {
          ...r,
          rpi: r.rpi === null || adjustment === null ? null : r.rpi + adjustment,
          unadjustedRank: r.rank,
          unadjustedRpi: r.rpi,
          adjustment,
        };
      });
      return {
        profile,
        variant,
        asOf: unadjusted.asOf,
        season: unadjusted.season,
        games: { ...unadjusted.games, ...(status ?? none) },
        ratings: ranked(ratings),
        unconfirmed: resolved.unconfirmed,
        adjustments: resolved,
      };
    }
    case 'non-conference': {
      checkVariant(variant, profile);
      if (!conferenceOf)
        throw missingConferences("the non-conference RPI needs each team's conference");
      const games_ = counted(games, options, profile);
      const { ratings, status } = nonConferenceRatings(
        games_,
        profile,
        conferenceOf,
        unadjusted.ratings,
      );
      return {
        profile,
        variant,
        asOf: unadjusted.asOf,
        season: unadjusted.season,
        games: { ...unadjusted.games, ...status },
        ratings: ranked(ratings),
        unconfirmed: [],
      };
    }
  }
}

/**
 * Refuses what `computeRpiVariant` would refuse before reading a game: a variant the profile
 * has no rules for, an adjusted RPI whose table lacks a value nobody supplied, overrides that
 * do not fit the table. Answers the table an adjusted RPI would use.
 */
export function checkVariant(
  variant: RpiVariant,
  profile: RpiProfile,
  adjustments?: AdjustmentOverrides,
): ResolvedAdjustments | undefined {
  switch (variant) {
    case 'unadjusted':
      return undefined;
    case 'adjusted': {
      const table = profile.adjustments;
      if (!table) {
        throw new DomainError(
          'INVALID_OPTION',
          `profile "${profile.name}" has no bonus and penalty table, so it has no adjusted RPI (use --variant unadjusted${hasWeightedRules(profile) ? '' : ' or non-conference'})`,
        );
      }
      return resolveAdjustments(profile.name, table, adjustments);
    }
    case 'non-conference':
      if (hasWeightedRules(profile)) {
        throw new DomainError(
          'INVALID_OPTION',
          `profile "${profile.name}" removes bad wins and adds a quality-win bonus; no non-conference RPI is published for those rules (use --variant unadjusted)`,
        );
      }
      return undefined;
  }
}

const none = { nonConference: null, unknownConference: null } as const;

type ConferenceOf = (team: string) => string | undefined;

function conferenceLookup(conferences: VariantOptions['conferences']): ConferenceOf | undefined {
  if (conferences === undefined) return undefined;
  if (conferences instanceof Map) return (team) => conferences.get(team);
  const record = conferences as Readonly<Record<string, string>>;
  return (team) => (Object.hasOwn(record, team) ? record[team] : undefined);
}

function missingConferences(why: string): DomainError {
  return new DomainError(
    'INVALID_OPTION',
    `${why}: give the conferences (CLI: a "conference" column in --teams-file)`,
  );
}

/** The games the unadjusted RPI counted, as typed arrays (the same selection). */
function counted(games: readonly Game[], options: RpiOptions, profile: RpiProfile): CountedGames {
  return selectGames(games, {
    profile,
    listed: options.teams ? new Set(options.teams) : undefined,
    asOf: options.asOf,
    season: options.season,
  });
}

const CONFERENCE = 0;
const NON_CONFERENCE = 1;
const UNKNOWN = 2;

/** Per team id: 0-based conference id, or -1 unknown, or -2 independent. */
function conferenceIds(names: readonly string[], conferenceOf: ConferenceOf): Int32Array {
  const ids = new Map<string, number>();
  const out = new Int32Array(names.length);
  names.forEach((name, t) => {
    const raw = conferenceOf(name)?.trim();
    if (raw === undefined || raw === '') out[t] = -1;
    else if (raw.toLowerCase() === INDEPENDENT) out[t] = -2;
    else {
      let id = ids.get(raw);
      if (id === undefined) {
        id = ids.size;
        ids.set(raw, id);
      }
      out[t] = id;
    }
  });
  return out;
}

function statusOf(conference: Int32Array, h: number, a: number): number {
  const ch = conference[h] as number;
  const ca = conference[a] as number;
  if (ch === -1 || ca === -1) return UNKNOWN;
  if (ch === -2 || ca === -2 || ch !== ca) return NON_CONFERENCE;
  return CONFERENCE;
}

function statusCounts(games: CountedGames, conferenceOf: ConferenceOf) {
  const conference = conferenceIds(games.names, conferenceOf);
  let nonConference = 0;
  let unknownConference = 0;
  for (let i = 0; i < games.count; i++) {
    const s = statusOf(conference, games.home[i] as number, games.away[i] as number);
    if (s === NON_CONFERENCE) nonConference++;
    else if (s === UNKNOWN) unknownConference++;
  }
  return { nonConference, unknownConference };
}

/** Each team's net adjustment: bonuses minus penalties over the games the table counts. */
function adjustmentsOf(
  games: CountedGames,
  ratings: readonly TeamRating[],
  table: ResolvedAdjustments,
  conferenceOf: ConferenceOf | undefined,
) {
  const { names } = games;
  const top = new Map<string, number>();
  const bottom = new Map<string, number>();
  const rated = ratings.filter((r) => r.rpi !== null);
  for (const r of rated) top.set(r.team, r.rank as number);
  // From the bottom: the last team is 1; equal RPIs share the place nearest the bottom.
  const ascending = [...rated].reverse();
  ascending.forEach((r, i) => {
    const previous = ascending[i - 1];
    bottom.set(
      r.team,
      previous && previous.rpi === r.rpi ? (bottom.get(previous.team) as number) : i + 1,
    );
  });

  const conference = conferenceOf ? conferenceIds(names, conferenceOf) : undefined;
  const net = new Float64Array(names.length);
  let nonConference = 0;
  let unknownConference = 0;
  const amount = (result: number, opponent: string, site: 'home' | 'neutral' | 'away') => {
    const key = result === WIN ? 'win' : result === TIE ? 'tie' : 'loss';
    let sum = 0;
    for (const tier of table.tiers) {
      const place = tier.kind === 'bonus' ? top.get(opponent) : bottom.get(opponent);
      if (place === undefined || place < tier.first || place > tier.last) continue;
      const amounts = tier.amounts[key];
      if (!amounts) continue;
      sum += tier.kind === 'bonus' ? amounts[site] : -amounts[site];
    }
    return sum;
  };
  for (let i = 0; i < games.count; i++) {
    const h = games.home[i] as number;
    const a = games.away[i] as number;
    if (conference) {
      const s = statusOf(conference, h, a);
      if (s === UNKNOWN) unknownConference++;
      else if (s === NON_CONFERENCE) nonConference++;
      if (table.games === 'non-conference' && s !== NON_CONFERENCE) continue;
    }
    const r = games.homeResult[i] as number;
    const neutral = games.atHome[i] === 0;
    net[h] = (net[h] as number) + amount(r, names[a] as string, neutral ? 'neutral' : 'home');
    net[a] = (net[a] as number) + amount(WIN - r, names[h] as string, neutral ? 'neutral' : 'away');
  }
  return {
    net: new Map(names.map((name, t) => [name, net[t] as number])),
    status: conference ? { nonConference, unknownConference } : undefined,
  };
}

/** The non-conference RPI of every team, as variant ratings (unranked). */
function nonConferenceRatings(
  games: CountedGames,
  profile: RpiProfile,
  conferenceOf: ConferenceOf,
  unadjusted: readonly TeamRating[],
) {
  const { names } = games;
  const teamCount = names.length;
  const conference = conferenceIds(names, conferenceOf);
  const records = tallyRecords(games, profile);
  const { owp: fullOwp } = strengthOfSchedule(games, records, profile.sosTieValue);

  // Per pair of teams, over all counted games: games played, and wins and ties of the lower id.
  const pairs = new Map<number, { games: number; lowWins: number; ties: number }>();
  const pairOf = (x: number, y: number) => {
    const key = x < y ? x * teamCount + y : y * teamCount + x;
    let pair = pairs.get(key);
    if (!pair) {
      pair = { games: 0, lowWins: 0, ties: 0 };
      pairs.set(key, pair);
    }
    return pair;
  };
  for (let i = 0; i < games.count; i++) {
    const h = games.home[i] as number;
    const a = games.away[i] as number;
    const r = games.homeResult[i] as number;
    const pair = pairOf(h, a);
    pair.games++;
    if (r === TIE) pair.ties++;
    else if ((r === WIN) === h < a) pair.lowWins++;
  }
  // The opponent's winning percentage without its games against the team (NaN if none left).
  const pctWithout = (o: number, t: number) => {
    const pair = pairOf(o, t);
    const remaining = (records.played[o] as number) - pair.games;
    if (remaining <= 0) return Number.NaN;
    const winsAgainst = o < t ? pair.lowWins : pair.games - pair.lowWins - pair.ties;
    const w = (records.wins[o] as number) - winsAgainst;
    const ties = (records.ties[o] as number) - pair.ties;
    return (w + profile.sosTieValue * ties) / remaining;
  };

  const played = new Int32Array(teamCount);
  const wins = new Int32Array(teamCount);
  const losses = new Int32Array(teamCount);
  const ties = new Int32Array(teamCount);
  const credit = new Float64Array(teamCount);
  const weight = new Float64Array(teamCount);
  const owpSum = new Float64Array(teamCount);
  const owpN = new Int32Array(teamCount);
  const oowpSum = new Float64Array(teamCount);
  const oowpN = new Int32Array(teamCount);
  const { homeWin, roadWin } = profile.locationWeights;
  let nonConference = 0;
  let unknownConference = 0;
  const side = (t: number, o: number, r: number, site: 'home' | 'neutral' | 'away') => {
    played[t] = (played[t] as number) + 1;
    const winWeight = site === 'home' ? homeWin : site === 'away' ? roadWin : 1;
    const lossWeight = site === 'home' ? roadWin : site === 'away' ? homeWin : 1;
    if (r === WIN) {
      wins[t] = (wins[t] as number) + 1;
      credit[t] = (credit[t] as number) + winWeight;
      weight[t] = (weight[t] as number) + winWeight;
    } else if (r === LOSS) {
      losses[t] = (losses[t] as number) + 1;
      weight[t] = (weight[t] as number) + lossWeight;
    } else {
      ties[t] = (ties[t] as number) + 1;
      credit[t] = (credit[t] as number) + profile.tieValue * winWeight;
      weight[t] =
        (weight[t] as number) + profile.tieValue * winWeight + (1 - profile.tieValue) * lossWeight;
    }
    const p = pctWithout(o, t);
    if (!Number.isNaN(p)) {
      owpSum[t] = (owpSum[t] as number) + p;
      owpN[t] = (owpN[t] as number) + 1;
    }
    const q = fullOwp[o] as number;
    if (!Number.isNaN(q)) {
      oowpSum[t] = (oowpSum[t] as number) + q;
      oowpN[t] = (oowpN[t] as number) + 1;
    }
  };
  for (let i = 0; i < games.count; i++) {
    const h = games.home[i] as number;
    const a = games.away[i] as number;
    const s = statusOf(conference, h, a);
    if (s === UNKNOWN) unknownConference++;
    if (s !== NON_CONFERENCE) continue;
    nonConference++;
    const r = games.homeResult[i] as number;
    const neutral = games.atHome[i] === 0;
    side(h, a, r, neutral ? 'neutral' : 'home');
    side(a, h, WIN - r, neutral ? 'neutral' : 'away');
  }

  const byTeam = new Map(unadjusted.map((r) => [r.team, r]));
  const [w1, w2, w3] = profile.weights;
  const ratings: VariantRating[] = names.map((team, t) => {
    const base = byTeam.get(team);
    const n = played[t] as number;
    const rated = n > 0;
    const wp = rated ? (credit[t] as number) / (weight[t] as number) : null;
    const owp = rated
      ? (owpN[t] as number) > 0
        ? (owpSum[t] as number) / (owpN[t] as number)
        : 0
      : null;
    const oowp = rated
      ? (oowpN[t] as number) > 0
        ? (oowpSum[t] as number) / (oowpN[t] as number)
        : 0
      : null;
    return {
      rank: null,
      team,
      games: n,
      wins: wins[t] as number,
      losses: losses[t] as number,
      ties: ties[t] as number,
      wp,
      owp,
      oowp,
      rpi: wp === null || owp === null || oowp === null ? null : w1 * wp + w2 * owp + w3 * oowp,
      unadjustedRank: base?.rank ?? null,
      unadjustedRpi: base?.rpi ?? null,
    };
  });
  return { ratings, status: { nonConference, unknownConference } };
}

/** Sorted best first by `rpi` (name breaks ties, unrated last) with shared ranks. */
function ranked(ratings: readonly VariantRating[]): VariantRating[] {
  const sorted = [...ratings].sort((x, y) => {
    if ((x.rpi === null) !== (y.rpi === null)) return x.rpi === null ? 1 : -1;
    if (x.rpi !== null && y.rpi !== null && x.rpi !== y.rpi) return y.rpi - x.rpi;
    return x.team < y.team ? -1 : x.team > y.team ? 1 : 0;
  });
  let previous: VariantRating | undefined;
  return sorted.map((r, i) => {
    let rank: number | null = null;
    if (r.rpi !== null) {
      rank = previous && previous.rpi === r.rpi ? (previous.rank as number) : i + 1;
    }
    const out = { ...r, rank };
    previous = out;
    return out;
  });
}
