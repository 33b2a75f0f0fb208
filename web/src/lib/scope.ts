import { apiUrl } from '../api/client.js';
import type { Rankings } from '../api/types.js';
import { type Loaded, useAnswer } from './useAnswer.js';

/** The calculation a page shows: the season's current one, or one of a scope asked for. */
export interface Scope {
  readonly season: string;
  readonly as_of?: string;
  readonly division?: string;
  readonly profile?: string;
  /** `adjusted` or `non-conference`; absent: the unadjusted RPI. */
  readonly variant?: string;
}

/** The scope a page's query names (`?as_of=&division=&profile=&variant=`), empty parts left out. */
export function scopeOf(season: string, query: URLSearchParams): Scope {
  const part = (name: string) => query.get(name) || undefined;
  const as_of = part('as_of');
  const division = part('division');
  const profile = part('profile');
  const variant = part('variant');
  return {
    season,
    ...(as_of ? { as_of } : {}),
    ...(division ? { division } : {}),
    ...(profile ? { profile } : {}),
    ...(variant && variant !== 'unadjusted' ? { variant } : {}),
  };
}

/** `GET /rankings` of a scope. */
export function rankingsUrl(scope: Scope): URL {
  return apiUrl('rankings', { ...scope });
}

/**
 * The rankings of a scope as the console means it, fetched again when `refresh` changes: a
 * scope that names no profile is of the season's profile, that of its current rankings (as the
 * scope picker's "The season's" says). The API, asked for an as-of day, a division or a variant
 * without a profile, reads the default profile's: for such a scope the season's current
 * rankings are asked for first, for their profile (where the season has none, the API's
 * default stands).
 */
export function useRankings(scope: Scope, refresh: unknown): Loaded<Rankings> {
  const narrowed =
    scope.as_of !== undefined || scope.division !== undefined || scope.variant !== undefined;
  const needsProfile = narrowed && scope.profile === undefined;
  const current = useAnswer<Rankings>(
    needsProfile ? rankingsUrl({ season: scope.season }) : undefined,
    refresh,
  );
  const seasonProfile = current?.kind === 'ok' ? current.data.profile : undefined;
  const url = !needsProfile
    ? rankingsUrl(scope)
    : current === undefined
      ? undefined
      : rankingsUrl(seasonProfile === undefined ? scope : { ...scope, profile: seasonProfile });
  return useAnswer<Rankings>(url, refresh);
}

/** The scope in words: "adjusted RPI, season 2026, as of 2026-10-01, profile ncaa-soccer-2023". */
export function scopeLabel(scope: Scope) {
  const parts = [...(scope.variant ? [`${scope.variant} RPI`] : []), `season ${scope.season}`];
  if (scope.as_of) parts.push(`as of ${scope.as_of}`);
  if (scope.division) parts.push(`division ${scope.division}`);
  if (scope.profile) parts.push(`profile ${scope.profile}`);
  return parts.join(', ');
}
