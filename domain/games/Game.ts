/** How a match was decided. Since 2022 college soccer has no regular-season overtime. */
export const DECIDED_BY = ['regulation', 'overtime', 'penalties'] as const;
export type DecidedBy = (typeof DECIDED_BY)[number];

/**
 * One played match, as read from a feed and validated.
 * `date` is the calendar day the match was played (`YYYY-MM-DD`).
 */
export interface Game {
  /** The match's identity across feeds and corrections, when the feed has one. */
  readonly matchId?: string | undefined;
  /** The season the match belongs to; defaults to the year of `date` (a fall sport). */
  readonly season: string;
  readonly date: string;
  readonly homeTeam: string;
  readonly awayTeam: string;
  readonly homeScore: number;
  readonly awayScore: number;
  /** Played at a neutral site: neither team is at home. */
  readonly neutral: boolean;
  readonly decidedBy: DecidedBy;
  /** Where the match was played, when the feed names it. */
  readonly venue?: string | undefined;
}
