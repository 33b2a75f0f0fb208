import type { Game } from '../games/Game.js';
import { computeRpi, type RpiOptions } from '../rpi/computeRpi.js';
import { LOSS, TIE, WIN } from '../rpi/outcome.js';
import { resolveProfile } from '../rpi/RpiProfile.js';
import { selectGames } from '../rpi/selectGames.js';

/** A team's rating as of the end of one week of the season. */
export interface TeamWeek {
  /** The week's Sunday, or the season's last game day for the week it falls in. */
  readonly week_end: string;
  /** The team's counted games up to that day. */
  readonly games: number;
  readonly rank: number | null;
  readonly rpi: number | null;
  readonly wp: number | null;
  readonly owp: number | null;
  readonly oowp: number | null;
  /** Teams with a rating that day. */
  readonly teams_rated: number;
}

/**
 * An opponent's part in a team's strength of schedule: its winning percentage without its
 * games against the team (what OWP averages, per game), and how far it moved the team's OWP
 * from an average opponent's: `(opponent_wp − OWP) × games ÷ games averaged`. The effects of
 * all opponents add up to 0; above 0 the opponent helped, below it hurt.
 */
export interface OpponentEffect {
  readonly opponent: string;
  /** Games against it (counted). */
  readonly games: number;
  /** The team's results against it. */
  readonly wins: number;
  readonly losses: number;
  readonly ties: number;
  /** Null when its only counted games were against the team (OWP leaves it out). */
  readonly opponent_wp: number | null;
  readonly effect: number;
}

export interface TeamSeason {
  readonly weeks: readonly TeamWeek[];
  /** Best effect first. */
  readonly opponents: readonly OpponentEffect[];
}

/** The Sunday on or after a day (`YYYY-MM-DD`, UTC). */
export function weekEnd(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + ((7 - date.getUTCDay()) % 7));
  return date.toISOString().slice(0, 10);
}

/**
 * A season week by week, for every team: the ratings as of each week's end (see
 * `teamSeason`), and the counted games. What a team's page needs of the whole season, worked
 * out once for all its teams.
 */
export interface SeasonWeeks {
  readonly weeks: readonly {
    readonly week_end: string;
    readonly ratings: ReadonlyMap<string, Omit<TeamWeek, 'week_end' | 'teams_rated'>>;
    readonly teams_rated: number;
  }[];
  readonly counted: ReturnType<typeof selectGames>;
  readonly sosTieValue: number;
}

/**
 * The ratings of every team as of each week's end, from the week of the first game of the
 * season to the week of the last (the last week ends on that game's day), and the games
 * counted in the whole season. `options` are those of `computeRpi` (profile, listed teams,
 * season).
 */
export function seasonWeeks(
  games: readonly Game[],
  options: Omit<RpiOptions, 'asOf'> = {},
): SeasonWeeks {
  const profile = options.profile ?? resolveProfile();
  const counted = selectGames(games, {
    profile,
    listed: options.teams ? new Set(options.teams) : undefined,
    asOf: undefined,
    season: options.season,
  });
  let first: string | undefined;
  let last: string | undefined;
  for (const game of games) {
    if (options.season !== undefined && game.season !== options.season) continue;
    const day = game.date.slice(0, 10);
    if (first === undefined || day < first) first = day;
    if (last === undefined || day > last) last = day;
  }
  const weeks: SeasonWeeks['weeks'][number][] = [];
  if (first !== undefined && last !== undefined) {
    for (let end = weekEnd(first); ; end = weekEnd(nextDay(end))) {
      const asOf: string = end < last ? end : last;
      const result = computeRpi(games, { ...options, profile, asOf });
      const ratings = new Map<string, Omit<TeamWeek, 'week_end' | 'teams_rated'>>();
      let rated = 0;
      for (const r of result.ratings) {
        ratings.set(r.team, {
          games: r.games,
          rank: r.rank ?? null,
          rpi: r.rpi ?? null,
          wp: r.wp ?? null,
          owp: r.owp ?? null,
          oowp: r.oowp ?? null,
        });
        if (r.rank !== null) rated++;
      }
      weeks.push({ week_end: asOf, ratings, teams_rated: rated });
      if (asOf === last) break;
    }
  }
  return { weeks, counted, sosTieValue: profile.sosTieValue };
}

/**
 * A team's season week by week: its RPI and rank computed as of each week's end, from the
 * week of the first counted game of the season to the week of the last (the last week ends on
 * that game's day), and the opponents that helped or hurt its strength of schedule in the whole
 * season. `options` are those of `computeRpi` (profile, listed teams, season); a team that never
 * played has no weeks with a rating, and no opponents.
 *
 * @example teamSeason(games, 'Akron', { season: '2026' }).weeks.at(-1)?.rank
 */
export function teamSeason(
  games: readonly Game[],
  team: string,
  options: Omit<RpiOptions, 'asOf'> = {},
): TeamSeason {
  return teamSeasonOf(seasonWeeks(games, options), team);
}

/** A week of a team the week's ratings do not name: no games, no rating. */
const UNRATED: Omit<TeamWeek, 'week_end' | 'teams_rated'> = {
  games: 0,
  rank: null,
  rpi: null,
  wp: null,
  owp: null,
  oowp: null,
};

/** A team's season from the season's weeks (`seasonWeeks`): see `teamSeason`. */
export function teamSeasonOf(season: SeasonWeeks, team: string): TeamSeason {
  return {
    weeks: season.weeks.map((week) => ({
      week_end: week.week_end,
      ...(week.ratings.get(team) ?? UNRATED),
      teams_rated: week.teams_rated,
    })),
    opponents: opponentEffects(season.counted, team, season.sosTieValue),
  };
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** Each opponent's part in the team's OWP, over the counted games. */
function opponentEffects(
  counted: ReturnType<typeof selectGames>,
  team: string,
  sosTieValue: number,
): OpponentEffect[] {
  const t = counted.names.indexOf(team);
  if (t < 0) return [];
  const n = counted.names.length;
  // Every team's totals, then the pairs with the team, so an opponent's record without its
  // games against the team is the difference.
  const played = new Int32Array(n);
  const credit = new Float64Array(n);
  const vs = new Map<
    number,
    { games: number; wins: number; losses: number; ties: number; credit: number }
  >();
  for (let i = 0; i < counted.count; i++) {
    const h = counted.home[i] as number;
    const a = counted.away[i] as number;
    const r = counted.homeResult[i] as number;
    const homeCredit = r === WIN ? 1 : r === TIE ? sosTieValue : 0;
    const awayCredit = r === LOSS ? 1 : r === TIE ? sosTieValue : 0;
    played[h] = (played[h] as number) + 1;
    played[a] = (played[a] as number) + 1;
    credit[h] = (credit[h] as number) + homeCredit;
    credit[a] = (credit[a] as number) + awayCredit;
    if (h !== t && a !== t) continue;
    const opponent = h === t ? a : h;
    // The opponent's credit in this game, and the team's result.
    const theirs = h === t ? awayCredit : homeCredit;
    const ours = h === t ? r : r === WIN ? LOSS : r === LOSS ? WIN : TIE;
    const pair = vs.get(opponent) ?? { games: 0, wins: 0, losses: 0, ties: 0, credit: 0 };
    pair.games++;
    if (ours === WIN) pair.wins++;
    else if (ours === LOSS) pair.losses++;
    else pair.ties++;
    pair.credit += theirs;
    vs.set(opponent, pair);
  }
  const rows = [...vs].map(([o, pair]) => {
    const others = (played[o] as number) - pair.games;
    return {
      opponent: counted.names[o] as string,
      pair,
      wp: others > 0 ? ((credit[o] as number) - pair.credit) / others : null,
    };
  });
  // OWP as the engine averages it: per game, over opponents with games besides the team's.
  let sum = 0;
  let averaged = 0;
  for (const row of rows) {
    if (row.wp === null) continue;
    sum += row.wp * row.pair.games;
    averaged += row.pair.games;
  }
  const owp = averaged > 0 ? sum / averaged : 0;
  return rows
    .map(({ opponent, pair, wp }) => ({
      opponent,
      games: pair.games,
      wins: pair.wins,
      losses: pair.losses,
      ties: pair.ties,
      opponent_wp: wp,
      effect: wp === null || averaged === 0 ? 0 : ((wp - owp) * pair.games) / averaged,
    }))
    .sort((x, y) => y.effect - x.effect || (x.opponent < y.opponent ? -1 : 1));
}
