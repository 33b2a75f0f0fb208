import type { DocumentStore } from './DocumentStore.js';
import type { RankingEntry } from './readModels/rankings.js';

/** The rankings document of a season that the query API serves. */
export interface CachedRankings {
  readonly season: string;
  readonly calculation_id: string;
  readonly as_of: string | null;
  readonly profile: string;
  readonly games_counted: number;
  readonly computed_at: string | null;
  readonly published_at: string | null;
  readonly rankings: readonly RankingEntry[];
  /** The calculation this document replaced (for the record; the saga keeps the document itself). */
  readonly previous_calculation_id: string | null;
  readonly saga_id: string | null;
  /** When the saga read the matches: a document never gives way to one from older matches. */
  readonly collected_at: string | null;
}

/** The cache table's default name. */
export const RANKINGS_CACHE_TABLE = 'matchstream-rankings-cache';

const key = (season: string) => ({ pk: `season#${season}`, sk: 'current' });
/** The index of seasons with a document. */
const indexKey = (season: string) => ({ pk: 'seasons', sk: season });

export async function readCache(
  cache: DocumentStore,
  season: string,
): Promise<CachedRankings | undefined> {
  const k = key(season);
  return (await cache.getMany([k])).get(`${k.pk}\u0000${k.sk}`) as CachedRankings | undefined;
}

export async function writeCache(cache: DocumentStore, document: CachedRankings): Promise<void> {
  await cache.write(
    [
      { ...key(document.season), doc: document },
      { ...indexKey(document.season), doc: { season: document.season } },
    ],
    [],
  );
}

export async function deleteCache(cache: DocumentStore, season: string): Promise<void> {
  await cache.write([], [key(season), indexKey(season)]);
}

/** The seasons that have a rankings document. */
export async function cachedSeasons(cache: DocumentStore): Promise<string[]> {
  return (await cache.query('seasons')).map((d) => d.sk);
}
