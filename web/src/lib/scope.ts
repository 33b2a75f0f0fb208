import { apiUrl } from '../api/client.js';

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

/** The scope in words: "adjusted RPI, season 2026, as of 2026-10-01, profile ncaa-soccer-2023". */
export function scopeLabel(scope: Scope) {
  const parts = [...(scope.variant ? [`${scope.variant} RPI`] : []), `season ${scope.season}`];
  if (scope.as_of) parts.push(`as of ${scope.as_of}`);
  if (scope.division) parts.push(`division ${scope.division}`);
  if (scope.profile) parts.push(`profile ${scope.profile}`);
  return parts.join(', ');
}
