/** The formats `rpi --format` prints rankings in (`rankings.ts`, `variantRankings.ts`). */
export const RANKING_FORMATS = ['table', 'csv', 'json'] as const;
export type RankingFormat = (typeof RANKING_FORMATS)[number];
