import type { VariantRating, VariantResult } from '../../domain/rpi/computeRpiVariant.js';
import { csvField } from '../../feeds/writeGames.js';
import { counted } from './plural.js';
import { profileJson, type RankingContext, type RankingFormat } from './rankings.js';
import { formatTable } from './table.js';

/**
 * The rankings of `matchstream rpi --variant adjusted|non-conference` (and of a profile with a
 * quality-win bonus): the variant's figures with the unadjusted RPI and rank beside them.
 */
export function formatVariantRankings(
  result: VariantResult,
  format: RankingFormat,
  context: RankingContext,
  top?: number,
): string {
  const ratings = top === undefined ? result.ratings : result.ratings.slice(0, top);
  const columns = extraColumns(result);
  switch (format) {
    case 'csv':
      return variantCsv(ratings, columns);
    case 'json':
      return `${JSON.stringify(variantJson(result, context, ratings), null, 2)}\n`;
    case 'table':
      return variantTable(result, ratings, columns);
  }
}

interface Columns {
  readonly unadjusted: boolean;
  readonly adjustment: boolean;
  readonly bonus: boolean;
}

function extraColumns(result: VariantResult): Columns {
  return {
    unadjusted: result.variant !== 'unadjusted',
    adjustment: result.variant === 'adjusted',
    bonus: result.ratings.some((r) => r.bonus !== undefined),
  };
}

/** `rank,team,wp,owp,oowp,rpi` then `unadjusted_rank,unadjusted_rpi`, `adjustment`, `bonus` as they apply. */
function variantCsv(ratings: readonly VariantRating[], columns: Columns): string {
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

/** The JSON document: that of `--format json` plus the variant and the unadjusted figures. */
export function variantJson(
  result: VariantResult,
  context: RankingContext,
  ratings: readonly VariantRating[] = result.ratings,
) {
  return {
    variant: result.variant,
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
      non_conference: result.games.nonConference,
      unknown_conference: result.games.unknownConference,
    },
    teams: result.ratings.length,
    unconfirmed_adjustments: result.unconfirmed,
    rankings: ratings.map((r) => ({
      rank: r.rank,
      team: r.team,
      wp: r.wp,
      owp: r.owp,
      oowp: r.oowp,
      rpi: r.rpi,
      unadjusted_rank: r.unadjustedRank,
      unadjusted_rpi: r.unadjustedRpi,
      ...(r.adjustment !== undefined ? { adjustment: r.adjustment } : {}),
      ...(r.bonus !== undefined ? { bonus: r.bonus, removed_wins: r.removedWins ?? 0 } : {}),
      games: r.games,
      wins: r.wins,
      losses: r.losses,
      ties: r.ties,
    })),
  };
}

/** An aligned table for people, four decimals; the unadjusted RPI and rank beside the variant's. */
function variantTable(
  result: VariantResult,
  ratings: readonly VariantRating[],
  columns: Columns,
): string {
  const fixed = (v: number | null | undefined) =>
    v === null || v === undefined ? '-' : v.toFixed(4);
  const signed = (v: number | null | undefined) =>
    v === null || v === undefined ? '-' : `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(4)}`;
  const label =
    result.variant === 'unadjusted' ? 'RPI' : result.variant === 'adjusted' ? 'Adj RPI' : 'NC RPI';
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
    if (columns.unadjusted) {
      row.push(fixed(r.unadjustedRpi), r.unadjustedRank === null ? '-' : String(r.unadjustedRank));
    }
    return row;
  });
  const table = formatTable(
    [header, ...rows],
    header.map((_, i) => (i === 1 ? 'left' : 'right')),
  );
  const { games } = result;
  const scope = [
    result.profile.name,
    result.variant,
    `${counted(games.counted, 'game')} counted`,
    games.nonConference !== null ? `${games.nonConference} non-conference` : undefined,
    result.season ? `season ${result.season}` : undefined,
    result.asOf ? `as of ${result.asOf}` : undefined,
  ].filter((s) => s !== undefined);
  const shown =
    ratings.length < result.ratings.length
      ? `top ${ratings.length} of ${result.ratings.length} teams`
      : counted(result.ratings.length, 'team');
  return `${[`RPI — ${scope.join(' · ')} · ${shown}`, '', ...table].join('\n')}\n`;
}
