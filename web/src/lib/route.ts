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
      .map(decodeSegment),
    query: new URLSearchParams(query),
  };
}

/**
 * A path segment decoded: its escapes (`%20`), each run of them decoded as one (a character of
 * several bytes), and a % that begins none (an address typed by hand, `#/team/100%`) as written.
 */
function decodeSegment(part: string): string {
  return part.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
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
