import type { Game } from '../../domain/games/Game.js';
import type { RpiProfile } from '../../domain/rpi/RpiProfile.js';

export interface NaiveRating {
  wins: number;
  losses: number;
  ties: number;
  wp: number;
  owp: number;
  oowp: number;
  rpi: number;
}

/**
 * The RPI straight from its definition, one nested loop per term, quadratic and obviously
 * right: the reference the linear engine is checked against.
 */
export function naiveRpi(
  games: readonly Game[],
  profile: RpiProfile,
  teamList?: readonly string[],
): Map<string, NaiveRating> {
  const listed = teamList ? new Set(teamList) : undefined;
  const counted = games.filter(
    (g) => !listed || (listed.has(g.homeTeam) && listed.has(g.awayTeam)),
  );
  const teams = new Set(counted.flatMap((g) => [g.homeTeam, g.awayTeam]));

  const outcome = (g: Game, team: string): 'W' | 'L' | 'T' => {
    const tie =
      g.homeScore === g.awayScore || (g.decidedBy === 'penalties' && profile.penaltiesAreTies);
    if (tie) return 'T';
    const homeWon = g.homeScore > g.awayScore;
    return (team === g.homeTeam) === homeWon ? 'W' : 'L';
  };
  const opponentOf = (g: Game, team: string) => (g.homeTeam === team ? g.awayTeam : g.homeTeam);
  const gamesOf = (team: string) =>
    counted.filter((g) => g.homeTeam === team || g.awayTeam === team);

  const wp = (team: string): number => {
    let credit = 0;
    let weight = 0;
    for (const g of gamesOf(team)) {
      const { homeWin, roadWin } = profile.locationWeights;
      const home = !g.neutral && g.homeTeam === team;
      const road = !g.neutral && g.awayTeam === team;
      const winWeight = home ? homeWin : road ? roadWin : 1;
      const lossWeight = home ? roadWin : road ? homeWin : 1;
      const o = outcome(g, team);
      if (o === 'W') {
        credit += winWeight;
        weight += winWeight;
      } else if (o === 'L') {
        weight += lossWeight;
      } else {
        credit += profile.tieValue * winWeight;
        weight += profile.tieValue * winWeight + (1 - profile.tieValue) * lossWeight;
      }
    }
    return credit / weight;
  };

  const wpWithout = (team: string, without: string): number | undefined => {
    const own = gamesOf(team).filter((g) => opponentOf(g, team) !== without);
    if (own.length === 0) return undefined;
    let credit = 0;
    for (const g of own) {
      const o = outcome(g, team);
      credit += o === 'W' ? 1 : o === 'T' ? profile.sosTieValue : 0;
    }
    return credit / own.length;
  };

  const average = (values: (number | undefined)[]): number | undefined => {
    const defined = values.filter((v): v is number => v !== undefined);
    return defined.length === 0 ? undefined : defined.reduce((a, b) => a + b, 0) / defined.length;
  };
  const owp = (team: string) =>
    average(gamesOf(team).map((g) => wpWithout(opponentOf(g, team), team)));
  const oowp = (team: string) => average(gamesOf(team).map((g) => owp(opponentOf(g, team))));

  const ratings = new Map<string, NaiveRating>();
  for (const team of teams) {
    const own = gamesOf(team).map((g) => outcome(g, team));
    const r = {
      wins: own.filter((o) => o === 'W').length,
      losses: own.filter((o) => o === 'L').length,
      ties: own.filter((o) => o === 'T').length,
      wp: wp(team),
      owp: owp(team) ?? 0,
      oowp: oowp(team) ?? 0,
    };
    const [w1, w2, w3] = profile.weights;
    ratings.set(team, { ...r, rpi: w1 * r.wp + w2 * r.owp + w3 * r.oowp });
  }
  return ratings;
}
