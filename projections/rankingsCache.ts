import type { DocumentStore } from './DocumentStore.js';
import type { RankingEntry } from './readModels/rankings.js';

/** The rankings document of a season that the query API serves. */
export interface CachedRankings {
  readonly season: string;
  readonly calculation_id: string;
  readonly as_of: string | null;
  readonly profile: string;
  readonly published_at: string | null;
  readonly rankings: readonly RankingEntry[];
  /** The calculation this document replaced (for the record; the saga keeps the document itself). */
  readonly previous_calculation_id: string | null;
  readonly saga_id: string | null;
}

/** The cache table's default name. */
export const RANKINGS_CACHE_TABLE = 'matchstream-rankings-cache';

const key = (season: string) => ({ pk: `season#${season}`, sk: 'current' });

export async function readCache(
  cache: DocumentStore,
  season: string,
): Promise<CachedRankings | undefined> {
  const k = key(season);
  return (await cache.getMany([k])).get(`${k.pk}\u0000${k.sk}`) as CachedRankings | undefined;
}

export async function writeCache(cache: DocumentStore, document: CachedRankings): Promise<void> {
  await cache.write([{ ...key(document.season), doc: document }], []);
}

export async function deleteCache(cache: DocumentStore, season: string): Promise<void> {
  await cache.write([], [key(season)]);
}
