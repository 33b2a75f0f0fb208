import type { VariantRating, VariantResult } from '../../domain/rpi/computeRpiVariant.js';
import type { RankingFormat } from './rankingFormats.js';
import {
  type Columns,
  gamesJson,
  profileJson,
  type RankingContext,
  ratingJson,
  ratingsCsv,
  ratingsTable,
  recordJson,
} from './rankings.js';

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
      return ratingsCsv(ratings, columns);
    case 'json':
      return `${JSON.stringify(variantJson(result, context, ratings), null, 2)}\n`;
    case 'table':
      return ratingsTable(result, ratings, columns);
  }
}

function extraColumns(result: VariantResult): Columns {
  return {
    unadjusted: result.variant !== 'unadjusted',
    adjustment: result.variant === 'adjusted',
    bonus: result.ratings.some((r) => r.bonus !== undefined),
  };
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
      ...gamesJson(result, context),
      non_conference: result.games.nonConference,
      unknown_conference: result.games.unknownConference,
    },
    teams: result.ratings.length,
    unconfirmed_adjustments: result.unconfirmed,
    rankings: ratings.map((r) => ({
      ...ratingJson(r),
      unadjusted_rank: r.unadjustedRank,
      unadjusted_rpi: r.unadjustedRpi,
      ...(r.adjustment !== undefined ? { adjustment: r.adjustment } : {}),
      ...(r.bonus !== undefined ? { bonus: r.bonus, removed_wins: r.removedWins ?? 0 } : {}),
      ...recordJson(r),
    })),
  };
}
