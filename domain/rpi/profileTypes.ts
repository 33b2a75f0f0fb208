// The shape of an RPI profile; the built-in profiles and their checks are in RpiProfile.ts.

/**
 * How a win counts in a team's own WP depending on where it was played.
 * A home win weighs `homeWin`, a road win `roadWin`; a loss mirrors it (a home loss weighs
 * `roadWin`, a road loss `homeWin`); neutral-site games weigh 1. `{1, 1}` is no weighting.
 */
export interface LocationWeights {
  readonly homeWin: number;
  readonly roadWin: number;
}

/** A named set of RPI parameters. */
export interface RpiProfile {
  readonly name: string;
  readonly description: string;
  /** Weights of WP, OWP and OOWP; they sum to 1. */
  readonly weights: readonly [wp: number, owp: number, oowp: number];
  /** What a tie is worth, as a fraction of a win, in the team's own WP. */
  readonly tieValue: number;
  /** What a tie is worth inside OWP and OOWP. */
  readonly sosTieValue: number;
  readonly locationWeights: LocationWeights;
  /** A game decided on penalty kicks (or a shootout) counts as a tie, whatever the score says. */
  readonly penaltiesAreTies: boolean;
  /**
   * How OWP and OOWP average over the team's games: `per-game` counts every game once (the
   * classic formula, the default); `site-weighted` counts each game with its WP weight, so a
   * road win counts 1.2 games and a home win 0.8 (men's ice hockey since 2013-14).
   */
  readonly sosAveraging?: SosAveraging;
  /** Wins that would lower the team's RPI are left out of its own calculation. */
  readonly badWins?: BadWinRule;
  /** A bonus added to the RPI for wins (and ties) over the top-ranked teams. */
  readonly qualityWinBonus?: QualityWinBonus;
  /** The bonus and penalty table of the `adjusted` variant. */
  readonly adjustments?: AdjustmentTable;
  /** Where each rule comes from, keyed by the profile field it sources. */
  readonly sources?: Readonly<Record<string, readonly RuleSource[]>>;
}

export type SosAveraging = 'per-game' | 'site-weighted';

/** A published statement a rule's value is taken from. */
export interface RuleSource {
  readonly title: string;
  readonly url: string;
  /** What the source says (or what its figures show), in a few words. */
  readonly says: string;
}

/**
 * Bad-win removal: once every RPI is computed, each win that lowers the team's RPI (its RPI
 * without the game is higher) is left out of the team's own WP, OWP and OOWP, once
 * (`passes: 'once'`, the rule's wording), or again until no win lowers it (`until-stable`).
 * Other teams' figures are unchanged.
 */
export interface BadWinRule {
  readonly passes: 'once' | 'until-stable';
}

/**
 * Quality-win bonus: `points[r - 1]` for a win over the team ranked r in the RPI after bad-win
 * removal, times the game's WP site weight when `siteWeighted` (road win 1.2, home win 0.8), a
 * tie earning `tieShare` of it; the sum is divided by the team's total game weight (removed
 * bad wins included) and multiplied by `scale` to become RPI.
 */
export interface QualityWinBonus {
  readonly points: readonly number[];
  readonly scale: number;
  readonly tieShare: number;
  readonly siteWeighted: boolean;
}

/**
 * One value of an adjustment table: `null` where no published source gave it (it must then be
 * supplied, see `resolveAdjustments`), `confirmed: false` where a source gave it but no
 * published source confirmed it.
 */
export interface TableValue {
  readonly value: number | null;
  readonly confirmed: boolean;
  readonly source?: string;
}

/** An amount per site of the game, from the rated team's side. */
export interface SiteAmounts {
  readonly home: TableValue;
  readonly neutral: TableValue;
  readonly away: TableValue;
}

/**
 * One tier: opponents ranked `first`..`last` (inclusive) in the unadjusted RPI, counted from
 * the top for a bonus tier and from the bottom (1 = last) for a penalty tier. Amounts are
 * positive; a penalty is subtracted.
 */
export interface AdjustmentTier {
  readonly id: string;
  readonly kind: 'bonus' | 'penalty';
  readonly first: TableValue;
  readonly last: TableValue;
  readonly win?: SiteAmounts;
  readonly tie?: SiteAmounts;
  readonly loss?: SiteAmounts;
}

/** The bonus and penalty table that turns the unadjusted RPI into the adjusted one. */
export interface AdjustmentTable {
  readonly description: string;
  /** Which games earn a bonus or penalty: only non-conference games, or every game. */
  readonly games: 'non-conference' | 'all';
  readonly gamesConfirmed: boolean;
  readonly tiers: readonly AdjustmentTier[];
}
