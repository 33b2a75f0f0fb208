import { DomainError } from '../DomainError.js';
import type { Game } from '../games/Game.js';
import { collegeNames, conferenceNames } from './names.js';
import { Random } from './Random.js';

export interface SeasonOptions {
  /** Number of teams, 2 to 100,000. */
  readonly teams: number;
  /** Regular-season games per team, 1 to 500 (conference tournaments add a few). */
  readonly gamesPerTeam: number;
  /** Any integer; the same seed gives the same season. */
  readonly seed: number;
  /** Season label and calendar year of the dates; defaults to `2026`. */
  readonly season?: string;
}

export interface TeamInfo {
  readonly team: string;
  readonly conference: string;
}

export interface Season {
  readonly season: string;
  readonly teams: readonly TeamInfo[];
  /** Ordered by date, then match id. */
  readonly games: readonly Game[];
}

const CONFERENCE_SIZE = 10;
const CONFERENCE_SHARE = 0.55;
const NEUTRAL_SHARE = 0.08;
const BASE_GOALS = 1.3;
const HOME_EDGE = 0.12;
const STRENGTH_EFFECT = 0.3;

interface Pairing {
  readonly home: number;
  readonly away: number;
  readonly neutral: boolean;
  readonly day: number;
  readonly conference: boolean;
}

/**
 * A realistic synthetic season, deterministic for a seed: conferences of about ten teams
 * playing each other in the second half of the season after non-conference games, home,
 * away and neutral sites, soccer-like scores (about a fifth of games tied) from team
 * strengths, and a four-team conference tournament whose drawn games go to overtime or
 * penalty kicks.
 *
 * @example generateSeason({ teams: 330, gamesPerTeam: 18, seed: 2026 })
 */
export function generateSeason(options: SeasonOptions): Season {
  const { teams: teamCount, gamesPerTeam, seed } = options;
  checkInteger('teams', teamCount, 2, 100_000);
  checkInteger('games per team', gamesPerTeam, 1, 500);
  if (!Number.isSafeInteger(seed)) {
    throw new DomainError('INVALID_OPTION', `seed must be an integer, got ${seed}`);
  }
  const season = options.season ?? '2026';
  const year = Number.parseInt(season, 10);
  const calendarYear = Number.isFinite(year) && year >= 1900 && year <= 9999 ? year : 2026;

  const random = new Random(seed);
  const names = collegeNames(random, teamCount);
  const conferenceCount = Math.max(1, Math.round(teamCount / CONFERENCE_SIZE));
  const conferenceLabels = conferenceNames(random, conferenceCount);
  const conferenceLevel = conferenceLabels.map(() => random.normal() * 0.5);
  const conferenceOf = names.map((_, i) => i % conferenceCount);
  const strength = conferenceOf.map((c) => (conferenceLevel[c] ?? 0) + random.normal() * 0.8);
  const members: number[][] = conferenceLabels.map(() => []);
  conferenceOf.forEach((c, team) => {
    members[c]?.push(team);
  });

  const scheduled = new Int32Array(teamCount);
  const pairings: Pairing[] = [];
  const schedule = (a: number, b: number, conference: boolean): void => {
    const neutral = !conference && random.chance(NEUTRAL_SHARE);
    const [home, away] = random.chance(0.5) ? [a, b] : [b, a];
    // Non-conference games fill the first weeks, conference play the rest of the season.
    const day = conference ? 34 + random.int(40) : random.int(34);
    pairings.push({ home, away, neutral, day, conference });
    scheduled[a] = (scheduled[a] ?? 0) + 1;
    scheduled[b] = (scheduled[b] ?? 0) + 1;
  };

  const conferenceTarget = Math.round(gamesPerTeam * CONFERENCE_SHARE);
  for (const group of members) {
    const target = Math.min(group.length - 1, conferenceTarget);
    const pairs: [number, number][] = [];
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) pairs.push([group[i] ?? 0, group[j] ?? 0]);
    }
    for (const [a, b] of random.shuffle(pairs)) {
      if ((scheduled[a] ?? 0) < target && (scheduled[b] ?? 0) < target) schedule(a, b, true);
    }
  }

  // Non-conference games: every open slot of every team goes into one shuffled pool,
  // and consecutive slots are paired; a slot paired with its own team swaps with another.
  const slots: number[] = [];
  for (let team = 0; team < teamCount; team++) {
    for (let k = scheduled[team] ?? 0; k < gamesPerTeam; k++) slots.push(team);
  }
  random.shuffle(slots);
  for (let i = 0; i + 1 < slots.length; i += 2) {
    const a = slots[i] ?? 0;
    let b = slots[i + 1] ?? 0;
    for (let attempt = 0; a === b && attempt < 8 && i + 2 < slots.length; attempt++) {
      const j = i + 2 + random.int(slots.length - i - 2);
      slots[i + 1] = slots[j] ?? 0;
      slots[j] = b;
      b = slots[i + 1] ?? 0;
    }
    if (a !== b) schedule(a, b, conferenceOf[a] === conferenceOf[b]);
  }

  const games: Omit<Game, 'matchId'>[] = [];
  const played = (p: Pairing): Omit<Game, 'matchId'> => {
    const edge = STRENGTH_EFFECT * ((strength[p.home] ?? 0) - (strength[p.away] ?? 0));
    const homeEdge = p.neutral ? 0 : HOME_EDGE;
    return {
      season,
      date: dayOf(calendarYear, p.day),
      homeTeam: names[p.home] ?? '',
      awayTeam: names[p.away] ?? '',
      homeScore: random.poisson(BASE_GOALS * Math.exp(edge + homeEdge)),
      awayScore: random.poisson(BASE_GOALS * Math.exp(-edge)),
      neutral: p.neutral,
      decidedBy: 'regulation',
    };
  };
  // Conference standings (3 points a win, 1 a tie) seed the conference tournaments.
  const points = new Int32Array(teamCount);
  for (const p of pairings) {
    const g = played(p);
    games.push(g);
    if (!p.conference) continue;
    const homePoints = g.homeScore > g.awayScore ? 3 : g.homeScore < g.awayScore ? 0 : 1;
    points[p.home] = (points[p.home] as number) + homePoints;
    points[p.away] = (points[p.away] as number) + (homePoints === 1 ? 1 : 3 - homePoints);
  }
  for (const group of members) {
    if (group.length >= 4) games.push(...tournament(group, points, random, played));
  }

  games.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0));
  const width = Math.max(5, String(games.length).length);
  return {
    season,
    teams: names.map((team, i) => ({
      team,
      conference: conferenceLabels[conferenceOf[i] ?? 0] ?? '',
    })),
    games: games.map((g, i) => ({
      matchId: `${season}-${String(i + 1).padStart(width, '0')}`,
      season: g.season,
      date: g.date,
      homeTeam: g.homeTeam,
      awayTeam: g.awayTeam,
      homeScore: g.homeScore,
      awayScore: g.awayScore,
      neutral: g.neutral,
      decidedBy: g.decidedBy,
    })),
  };
}

/**
 * Semi-finals (1 v 4, 2 v 3, at the higher seed) and a neutral-site final between the top
 * four of the conference by points. A draw is settled in overtime or on penalty kicks, so
 * the winner always advances.
 */
function tournament(
  group: readonly number[],
  points: Int32Array,
  random: Random,
  played: (p: Pairing) => Omit<Game, 'matchId'>,
): Omit<Game, 'matchId'>[] {
  const seeds = [...group].sort((x, y) => (points[y] as number) - (points[x] as number) || x - y);
  const [s1, s2, s3, s4] = seeds as [number, number, number, number];
  const knockout = (home: number, away: number, day: number, neutral: boolean) => {
    const { game, homeWins } = settle(
      played({ home, away, day, neutral, conference: true }),
      random,
    );
    return { game, winner: homeWins ? home : away };
  };
  const semi1 = knockout(s1, s4, 76, false);
  const semi2 = knockout(s2, s3, 76, false);
  const final = knockout(semi1.winner, semi2.winner, 79, true);
  return [semi1.game, semi2.game, final.game];
}

/** A knockout game that ended level goes to golden-goal overtime (40 %) or penalty kicks. */
function settle(
  game: Omit<Game, 'matchId'>,
  random: Random,
): { game: Omit<Game, 'matchId'>; homeWins: boolean } {
  if (game.homeScore !== game.awayScore) {
    return { game, homeWins: game.homeScore > game.awayScore };
  }
  const homeWins = random.chance(0.5);
  if (random.chance(0.4)) {
    const overtime: Omit<Game, 'matchId'> = {
      ...game,
      homeScore: game.homeScore + (homeWins ? 1 : 0),
      awayScore: game.awayScore + (homeWins ? 0 : 1),
      decidedBy: 'overtime',
    };
    return { game: overtime, homeWins };
  }
  // The score stays level: the shootout only decides who advances; the RPI counts a tie.
  return { game: { ...game, decidedBy: 'penalties' }, homeWins };
}

function dayOf(year: number, offset: number): string {
  // Day 0 is August 20, the first weekend of the fall season.
  return new Date(Date.UTC(year, 7, 20 + offset)).toISOString().slice(0, 10);
}

function checkInteger(label: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DomainError(
      'INVALID_OPTION',
      `${label} must be a whole number from ${min} to ${max}, got ${value}`,
    );
  }
}
