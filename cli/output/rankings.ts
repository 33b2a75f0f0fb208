import type { RpiResult, TeamRating } from '../../domain/rpi/computeRpi.js';
import type { RpiProfile } from '../../domain/rpi/RpiProfile.js';
import { csvField } from '../../feeds/writeGames.js';
import { counted } from './plural.js';
import { formatTable } from './table.js';

export const RANKING_FORMATS = ['table', 'csv', 'json'] as const;
export type RankingFormat = (typeof RANKING_FORMATS)[number];

/** What the rankings were computed from, for the JSON document and the table heading. */
export interface RankingContext {
  readonly rows: number;
  readonly invalid: number;
  readonly superseded: number;
}

/** The rankings in the requested format, ending with a line break. */
export function formatRankings(
  result: RpiResult,
  format: RankingFormat,
  context: RankingContext,
  top?: number,
): string {
  const ratings = top === undefined ? result.ratings : result.ratings.slice(0, top);
  switch (format) {
    case 'csv':
      return rankingsCsv(ratings);
    case 'json':
      return `${JSON.stringify(rankingsJson(result, context, ratings), null, 2)}\n`;
    case 'table':
      return rankingsTable(result, ratings);
  }
}

/** `rank,team,wp,owp,oowp,rpi`, best first, numbers at full precision, unrated teams blank. */
export function rankingsCsv(ratings: readonly TeamRating[]): string {
  const lines = ['rank,team,wp,owp,oowp,rpi'];
  for (const r of ratings) {
    lines.push(
      [r.rank, csvField(r.team), r.wp, r.owp, r.oowp, r.rpi]
        .map((v) => (v === null ? '' : String(v)))
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The JSON document of `matchstream rpi --format json`. */
export function rankingsJson(
  result: RpiResult,
  context: RankingContext,
  ratings: readonly TeamRating[] = result.ratings,
) {
  return {
    profile: profileJson(result.profile),
    as_of: result.asOf,
    season: result.season,
    games: {
      rows: context.rows,
      invalid: context.invalid,
      superseded: context.superseded,
      counted: result.games.counted,
      after_as_of: result.games.afterAsOf,
      other_season: result.games.otherSeason,
      not_between_listed_teams: result.games.notBetweenListedTeams,
    },
    teams: result.ratings.length,
    rankings: ratings.map((r) => ({
      rank: r.rank,
      team: r.team,
      wp: r.wp,
      owp: r.owp,
      oowp: r.oowp,
      rpi: r.rpi,
      games: r.games,
      wins: r.wins,
      losses: r.losses,
      ties: r.ties,
    })),
  };
}

export function profileJson(profile: RpiProfile) {
  return {
    name: profile.name,
    weights: profile.weights,
    tie_value: profile.tieValue,
    sos_tie_value: profile.sosTieValue,
    location_weights: {
      home_win: profile.locationWeights.homeWin,
      road_win: profile.locationWeights.roadWin,
    },
    penalties_are_ties: profile.penaltiesAreTies,
  };
}

/** An aligned table for people: four decimals, the record as W-L-T. */
export function rankingsTable(result: RpiResult, ratings: readonly TeamRating[]): string {
  const fixed = (v: number | null) => (v === null ? '-' : v.toFixed(4));
  const rows = ratings.map((r) => [
    r.rank === null ? '-' : String(r.rank),
    r.team,
    `${r.wins}-${r.losses}-${r.ties}`,
    fixed(r.wp),
    fixed(r.owp),
    fixed(r.oowp),
    fixed(r.rpi),
  ]);
  const header = ['Rank', 'Team', 'W-L-T', 'WP', 'OWP', 'OOWP', 'RPI'];
  const table = formatTable(
    [header, ...rows],
    ['right', 'left', 'right', 'right', 'right', 'right', 'right'],
  );
  const scope = [
    result.profile.name,
    `${counted(result.games.counted, 'game')} counted`,
    result.season ? `season ${result.season}` : undefined,
    result.asOf ? `as of ${result.asOf}` : undefined,
  ].filter((s) => s !== undefined);
  const shown =
    ratings.length < result.ratings.length
      ? `top ${ratings.length} of ${result.ratings.length} teams`
      : counted(result.ratings.length, 'team');
  return `${[`RPI — ${scope.join(' · ')} · ${shown}`, '', ...table].join('\n')}\n`;
}
