import { useEffect, useRef, useState } from 'preact/hooks';
import { apiUrl, getJson } from '../api/client.js';
import type { Rankings, RankingsChange, Seasons } from '../api/types.js';

/** How the console hears of new calculations. */
export type LiveMode = 'connecting' | 'live' | 'polling';

export interface Live {
  readonly mode: LiveMode;
  /** Bumped on each change of rankings: a key for pages to fetch again. */
  readonly version: number;
  /** The last change heard of, for the notice. */
  readonly change: RankingsChange | undefined;
}

const POLL_MS = 10_000;

/**
 * Follows `GET /live` (server-sent events): each `calculation` event (a season's rankings
 * changed) bumps `version`, as does a reconnection after the stream was lost. Where the server
 * has no stream (501 on AWS, or a server without the route) it polls the season's rankings
 * every 10 s instead and bumps `version` when their calculation changes (with no season yet,
 * the seasons, and bumps it when the first is listed).
 */
export function useLive(season: string | undefined): Live {
  const [live, setLive] = useState<Live>({
    mode: 'connecting',
    version: 0,
    change: undefined,
  });
  const seasonRef = useRef(season);
  seasonRef.current = season;
  const [polling, setPolling] = useState(false);

  useEffect(() => {
    if (typeof EventSource === 'undefined') {
      setPolling(true);
      return undefined;
    }
    const source = new EventSource(apiUrl('live'));
    // Whether the stream was lost since it was last connected: what changed meanwhile was not
    // heard of, so a reconnection bumps `version` and the pages fetch what they show again.
    let lost = false;
    const connected = () => {
      const missed = lost;
      lost = false;
      setLive((now) => ({ ...now, mode: 'live', version: now.version + (missed ? 1 : 0) }));
    };
    source.addEventListener('open', connected);
    source.addEventListener('ready', connected);
    source.addEventListener('calculation', (event) => {
      const change = parse<RankingsChange>(event);
      if (change) setLive((now) => ({ ...now, mode: 'live', version: now.version + 1, change }));
    });
    source.addEventListener('error', () => {
      // A closed source is one the browser will not retry: no stream here (an answer that is
      // not an event stream, e.g. 501 or 404). A source still connecting retries on its own.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setPolling(true);
      } else {
        lost = true;
        setLive((now) => ({ ...now, mode: 'connecting' }));
      }
    });
    return () => source.close();
  }, []);

  useEffect(() => {
    if (!polling) return undefined;
    setLive((now) => ({ ...now, mode: 'polling' }));
    let last: string | undefined;
    let stopped = false;
    const poll = async () => {
      if (season === undefined) {
        // No season rated yet: the first one listed is the change the console waits for.
        const seasons = await getJson<Seasons>(apiUrl('seasons'));
        if (stopped || seasons.kind !== 'ok' || seasonRef.current !== undefined) return;
        if (seasons.data.seasons.length > 0)
          setLive((now) => ({ ...now, version: now.version + 1 }));
        return;
      }
      const answer = await getJson<Rankings>(apiUrl('rankings', { season }));
      if (stopped || answer.kind !== 'ok' || seasonRef.current !== season) return;
      const { calculation_id, published_at } = answer.data;
      if (last !== undefined && last !== calculation_id) {
        const at = published_at ?? new Date().toISOString();
        const change = { season, calculation_id, change: 'cached', at } as const;
        setLive((now) => ({ ...now, version: now.version + 1, change }));
      }
      last = calculation_id;
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [polling, season]);

  return live;
}

function parse<T>(event: Event): T | undefined {
  if (!(event instanceof MessageEvent) || typeof event.data !== 'string') return undefined;
  try {
    return JSON.parse(event.data) as T;
  } catch {
    return undefined;
  }
}
