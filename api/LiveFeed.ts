/** A change of a season's rankings: a calculation became current, or one was retracted. */
export interface RankingsChange {
  readonly season: string;
  readonly calculation_id: string;
  /** What happened: `cached` (its rankings are served now) or `retracted`. */
  readonly change: 'cached' | 'retracted';
  readonly at: string;
}

/** Where the API's live stream (`GET /live`) learns that rankings changed. */
export interface LiveFeed {
  /** Calls `listener` on every change until the returned function is called. */
  subscribe(listener: (change: RankingsChange) => void): () => void;
}
