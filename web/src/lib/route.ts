import { useEffect, useState } from 'preact/hooks';

/** A hash route, `#/team/Akron?season=2026`: the page's own URL stays the console's root. */
export interface Route {
  /** The path segments, decoded: `['team', 'Akron']`. */
  readonly path: readonly string[];
  readonly query: URLSearchParams;
}

/** Parses `location.hash`. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  return {
    path: path
      .split('/')
      .filter((part) => part !== '')
      .map((part) => decodeURIComponent(part)),
    query: new URLSearchParams(query),
  };
}

/** A hash link: `href('team', id)` with the query parameters given (empty ones left out). */
export function href(...parts: readonly (string | Readonly<Record<string, string | undefined>>)[]) {
  const segments: string[] = [];
  const query = new URLSearchParams();
  for (const part of parts) {
    if (typeof part === 'string') segments.push(encodeURIComponent(part));
    else
      for (const [name, value] of Object.entries(part))
        if (value !== undefined && value !== '') query.set(name, value);
  }
  const search = query.toString();
  return `#/${segments.join('/')}${search ? `?${search}` : ''}`;
}

/** The current route, following `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}
