import { DomainError } from '../DomainError.js';
import type { Game } from '../games/Game.js';
import { resultForHome } from './outcome.js';
import type { RpiProfile } from './RpiProfile.js';

/** What happened to the games given to `computeRpi`. */
export interface GameCounts {
  readonly total: number;
  readonly counted: number;
  readonly afterAsOf: number;
  readonly otherSeason: number;
  readonly notBetweenListedTeams: number;
}

/** The counted games as typed arrays over dense team ids (`names[id]`). */
export interface CountedGames {
  readonly names: readonly string[];
  readonly count: number;
  readonly home: Int32Array;
  readonly away: Int32Array;
  /** `LOSS`, `TIE` or `WIN` for the home side. */
  readonly homeResult: Uint8Array;
  /** 1 when the home side played at home, 0 at a neutral site. */
  readonly atHome: Uint8Array;
  readonly counts: GameCounts;
}

export interface Selection {
  readonly profile: RpiProfile;
  readonly listed: ReadonlySet<string> | undefined;
  readonly asOf: string | undefined;
  readonly season: string | undefined;
}

/**
 * Keeps the games that count (season, as-of day, both teams listed) and gives every team a
 * dense integer id, so each later pass works on typed arrays. A listed team whose games were
 * all against unlisted opponents still gets an id: it played, and is listed unrated.
 */
export function selectGames(games: readonly Game[], selection: Selection): CountedGames {
  const { profile, listed, asOf, season } = selection;
  const ids = new Map<string, number>();
  const names: string[] = [];
  const idOf = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      id = names.length;
      ids.set(name, id);
      names.push(name);
    }
    return id;
  };

  const total = games.length;
  const home = new Int32Array(total);
  const away = new Int32Array(total);
  const homeResult = new Uint8Array(total);
  const atHome = new Uint8Array(total);
  let count = 0;
  let afterAsOf = 0;
  let otherSeason = 0;
  let notBetweenListedTeams = 0;

  for (const game of games) {
    if (season !== undefined && game.season !== season) {
      otherSeason++;
      continue;
    }
    if (asOf !== undefined && game.date.slice(0, 10) > asOf) {
      afterAsOf++;
      continue;
    }
    if (game.homeTeam === game.awayTeam) {
      const where = game.matchId ? ` (match ${game.matchId})` : '';
      throw new DomainError('INVALID_GAME', `team "${game.homeTeam}" cannot play itself${where}`);
    }
    if (listed) {
      const homeListed = listed.has(game.homeTeam);
      const awayListed = listed.has(game.awayTeam);
      if (!(homeListed && awayListed)) {
        if (homeListed) idOf(game.homeTeam);
        if (awayListed) idOf(game.awayTeam);
        notBetweenListedTeams++;
        continue;
      }
    }
    home[count] = idOf(game.homeTeam);
    away[count] = idOf(game.awayTeam);
    homeResult[count] = resultForHome(game, profile);
    atHome[count] = game.neutral ? 0 : 1;
    count++;
  }
  return {
    names,
    count,
    home,
    away,
    homeResult,
    atHome,
    counts: { total, counted: count, afterAsOf, otherSeason, notBetweenListedTeams },
  };
}
