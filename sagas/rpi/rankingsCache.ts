import type { RpiVariant } from '../../domain/rpi/computeRpiVariant.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import {
  deleteParted,
  deletePartedMany,
  readParted,
  writeParted,
} from '../../projections/partedDocument.js';
import type { RankingEntry } from '../../projections/readModels/rankings.js';

/**
 * What a calculation counts: a season, up to a day (`as_of`; null for every game), with an RPI
 * profile, between teams of one division of the directory (null for every team), and which
 * RPI it computes of them.
 */
export interface RankingsScope {
  readonly season: string;
  readonly as_of: string | null;
  readonly profile: string;
  readonly division: string | null;
  readonly variant: RpiVariant;
}

/** The rankings of one calculation that the query API serves. */
export interface CachedRankings {
  readonly season: string;
  readonly calculation_id: string;
  readonly as_of: string | null;
  readonly profile: string;
  /** Null for every division (documents of earlier releases have none: every division). */
  readonly division?: string | null;
  /** Documents of earlier releases have none: unadjusted. */
  readonly variant?: RpiVariant;
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

/** The season's current rankings. */
const currentKey = (season: string) => ({ pk: `season#${season}`, sk: 'current' });
/**
 * The latest calculation of one scope (JSON keeps any division name unambiguous). An
 * unadjusted RPI's key names no variant, as the keys of earlier releases.
 */
const scopeKey = (scope: RankingsScope) => ({
  pk: `season#${scope.season}`,
  sk: `scope#${JSON.stringify([
    scope.as_of,
    scope.profile,
    scope.division,
    ...(scope.variant === 'unadjusted' ? [] : [scope.variant]),
  ])}`,
});
/** The index of seasons with current rankings. */
const indexKey = (season: string) => ({ pk: 'seasons', sk: season });

/**
 * A document's rankings take an item of their own per 1,000 teams (`partedDocument`): a
 * season's rankings of 10,000 teams are 2.7 MB of JSON, about 500 KB gzipped.
 */
const RANKINGS = { field: 'rankings' } as const;

async function get(
  cache: DocumentStore,
  k: { pk: string; sk: string },
): Promise<CachedRankings | undefined> {
  return (await readParted(cache, k)) as CachedRankings | undefined;
}

/** The scope of a rankings document. */
export function scopeOf(document: CachedRankings): RankingsScope {
  return {
    season: document.season,
    as_of: document.as_of,
    profile: document.profile,
    division: document.division ?? null,
    variant: document.variant ?? 'unadjusted',
  };
}

/**
 * The season's current rankings: the latest calculation of the whole season in the season's
 * profile and division (those of its automatic recalculations).
 */
export function readCache(
  cache: DocumentStore,
  season: string,
): Promise<CachedRankings | undefined> {
  return get(cache, currentKey(season));
}

/** Makes a document the season's current rankings. */
export async function writeCache(cache: DocumentStore, document: CachedRankings): Promise<void> {
  await writeParted(cache, currentKey(document.season), document, RANKINGS);
  await cache.write([{ ...indexKey(document.season), doc: { season: document.season } }], []);
}

/** Leaves the season without current rankings. */
export async function deleteCache(cache: DocumentStore, season: string): Promise<void> {
  await deletePartedMany(cache, [currentKey(season), indexKey(season)]);
}

/** The latest calculation of exactly this scope. */
export function readScope(
  cache: DocumentStore,
  scope: RankingsScope,
): Promise<CachedRankings | undefined> {
  return get(cache, scopeKey(scope));
}

/** Keeps a document as the latest calculation of its scope. */
export async function writeScope(cache: DocumentStore, document: CachedRankings): Promise<void> {
  await writeParted(cache, scopeKey(scopeOf(document)), document, RANKINGS);
}

/** Forgets the calculation of a scope. */
export async function deleteScope(cache: DocumentStore, scope: RankingsScope): Promise<void> {
  await deleteParted(cache, scopeKey(scope));
}

/** The seasons that have current rankings. */
export async function cachedSeasons(cache: DocumentStore): Promise<string[]> {
  return (await cache.query('seasons')).map((d) => d.sk);
}
