import type { RpiResult, TeamRating } from '../../domain/rpi/computeRpi.js';
import type { VariantRating, VariantResult } from '../../domain/rpi/computeRpiVariant.js';
import type { RpiProfile } from '../../domain/rpi/RpiProfile.js';
import { csvField } from '../../feeds/writeGames.js';
import { counted } from './plural.js';
import type { RankingFormat } from './rankingFormats.js';
import { formatTable } from './table.js';

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

/** A team's rating as the formats show it: with a variant's figures where the result has them. */
export type ShownRating = TeamRating &
  Partial<Pick<VariantRating, 'unadjustedRank' | 'unadjustedRpi' | 'adjustment'>>;

/** The columns shown beyond rank, team, record, WP, OWP, OOWP and RPI. */
export interface Columns {
  readonly unadjusted: boolean;
  readonly adjustment: boolean;
  readonly bonus: boolean;
}

const PLAIN: Columns = { unadjusted: false, adjustment: false, bonus: false };

/** `rank,team,wp,owp,oowp,rpi`, best first, numbers at full precision, unrated teams blank. */
export function rankingsCsv(ratings: readonly TeamRating[]): string {
  return ratingsCsv(ratings, PLAIN);
}

/**
 * `rank,team,wp,owp,oowp,rpi` then `unadjusted_rank,unadjusted_rpi`, `adjustment`, `bonus` as
 * the columns say, best first, numbers at full precision, what a team lacks blank.
 */
export function ratingsCsv(ratings: readonly ShownRating[], columns: Columns): string {
  const header = ['rank', 'team', 'wp', 'owp', 'oowp', 'rpi'];
  if (columns.unadjusted) header.push('unadjusted_rank', 'unadjusted_rpi');
  if (columns.adjustment) header.push('adjustment');
  if (columns.bonus) header.push('bonus');
  const lines = [header.join(',')];
  for (const r of ratings) {
    const cells: (number | string | null | undefined)[] = [
      r.rank,
      csvField(r.team),
      r.wp,
      r.owp,
      r.oowp,
      r.rpi,
    ];
    if (columns.unadjusted) cells.push(r.unadjustedRank, r.unadjustedRpi);
    if (columns.adjustment) cells.push(r.adjustment);
    if (columns.bonus) cells.push(r.bonus);
    lines.push(cells.map((v) => (v === null || v === undefined ? '' : String(v))).join(','));
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
    games: gamesJson(result, context),
    teams: result.ratings.length,
    rankings: ratings.map((r) => ({ ...ratingJson(r), ...recordJson(r) })),
  };
}

/** What the games were: rows read, refused, superseded, counted, and why others were not. */
export function gamesJson(result: RpiResult, context: RankingContext) {
  return {
    rows: context.rows,
    invalid: context.invalid,
    superseded: context.superseded,
    counted: result.games.counted,
    after_as_of: result.games.afterAsOf,
    other_season: result.games.otherSeason,
    not_between_listed_teams: result.games.notBetweenListedTeams,
  };
}

/** A team's rank, name and percentages in the JSON documents. */
export function ratingJson(r: TeamRating) {
  return { rank: r.rank, team: r.team, wp: r.wp, owp: r.owp, oowp: r.oowp, rpi: r.rpi };
}

/** A team's record in the JSON documents. */
export function recordJson(r: TeamRating) {
  return { games: r.games, wins: r.wins, losses: r.losses, ties: r.ties };
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
  return ratingsTable(result, ratings, PLAIN);
}

/**
 * An aligned table for people, four decimals, the record as W-L-T; under a variant, its RPI
 * with the adjustment, bonus, unadjusted RPI and rank beside as the columns say.
 */
export function ratingsTable(
  result: RpiResult | VariantResult,
  ratings: readonly ShownRating[],
  columns: Columns,
): string {
  const fixed = (v: number | null | undefined) =>
    v === null || v === undefined ? '-' : v.toFixed(4);
  const signed = (v: number | null | undefined) =>
    v === null || v === undefined ? '-' : `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(4)}`;
  const variant = 'variant' in result ? result.variant : undefined;
  const label =
    variant === 'adjusted' ? 'Adj RPI' : variant === 'non-conference' ? 'NC RPI' : 'RPI';
  const header = ['Rank', 'Team', 'W-L-T', 'WP', 'OWP', 'OOWP', label];
  if (columns.adjustment) header.push('Adj');
  if (columns.bonus) header.push('Bonus');
  if (columns.unadjusted) header.push('Unadj RPI', 'Unadj rank');
  const rows = ratings.map((r) => {
    const row = [
      r.rank === null ? '-' : String(r.rank),
      r.team,
      `${r.wins}-${r.losses}-${r.ties}`,
      fixed(r.wp),
      fixed(r.owp),
      fixed(r.oowp),
      fixed(r.rpi),
    ];
    if (columns.adjustment) row.push(signed(r.adjustment));
    if (columns.bonus) row.push(fixed(r.bonus));
    if (columns.unadjusted)
      row.push(
        fixed(r.unadjustedRpi),
        r.unadjustedRank === null || r.unadjustedRank === undefined
          ? '-'
          : String(r.unadjustedRank),
      );
    return row;
  });
  const table = formatTable(
    [header, ...rows],
    header.map((_, i) => (i === 1 ? 'left' : 'right')),
  );
  const nonConference = 'variant' in result ? result.games.nonConference : null;
  const scope = [
    result.profile.name,
    variant,
    `${counted(result.games.counted, 'game')} counted`,
    nonConference !== null ? `${nonConference} non-conference` : undefined,
    result.season ? `season ${result.season}` : undefined,
    result.asOf ? `as of ${result.asOf}` : undefined,
  ].filter((s) => s !== undefined);
  const shown =
    ratings.length < result.ratings.length
      ? `top ${ratings.length} of ${result.ratings.length} teams`
      : counted(result.ratings.length, 'team');
  return `${[`RPI — ${scope.join(' · ')} · ${shown}`, '', ...table].join('\n')}\n`;
}
