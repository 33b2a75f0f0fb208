import { useEffect, useRef, useState } from 'preact/hooks';
import { apiUrl, getJson } from '../api/client.js';
import type { CalculationPublished, Rankings } from '../api/types.js';

/** How the console hears of new calculations. */
export type LiveMode = 'connecting' | 'live' | 'polling';

export interface Live {
  readonly mode: LiveMode;
  /** Bumped on each calculation published: a key for pages to fetch again. */
  readonly version: number;
  /** The last calculation heard of, for the notice. */
  readonly published: CalculationPublished | undefined;
  /** The stored event count, as `GET /live` last said. */
  readonly eventsTotal: number | undefined;
}

const POLL_MS = 10_000;

/**
 * Follows `GET /live` (server-sent events): each `calculation` event bumps `version`, each
 * `events` event updates the event count. Where the server has no stream (501 on AWS, or a
 * server without the route) it polls the season's rankings every 10 s instead and bumps
 * `version` when their calculation changes.
 */
export function useLive(season: string | undefined): Live {
  const [live, setLive] = useState<Live>({
    mode: 'connecting',
    version: 0,
    published: undefined,
    eventsTotal: undefined,
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
    source.addEventListener('open', () => setLive((now) => ({ ...now, mode: 'live' })));
    source.addEventListener('calculation', (event) => {
      const published = parse<CalculationPublished>(event);
      if (published)
        setLive((now) => ({ ...now, mode: 'live', version: now.version + 1, published }));
    });
    source.addEventListener('events', (event) => {
      const total = parse<{ total: number }>(event)?.total;
      if (typeof total === 'number') setLive((now) => ({ ...now, eventsTotal: total }));
    });
    source.addEventListener('error', () => {
      // A closed source is one the browser will not retry: no stream here (an answer that is
      // not an event stream, e.g. 501 or 404). A source still connecting retries on its own.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setPolling(true);
      } else setLive((now) => ({ ...now, mode: 'connecting' }));
    });
    return () => source.close();
  }, []);

  useEffect(() => {
    if (!polling || season === undefined) return undefined;
    setLive((now) => ({ ...now, mode: 'polling' }));
    let last: string | undefined;
    let stopped = false;
    const poll = async () => {
      const answer = await getJson<Rankings>(apiUrl('rankings', { season }));
      if (stopped || answer.kind !== 'ok' || seasonRef.current !== season) return;
      const { calculation_id, profile, as_of, published_at } = answer.data;
      const division = answer.data.division ?? null;
      if (last !== undefined && last !== calculation_id)
        setLive((now) => ({
          ...now,
          version: now.version + 1,
          published: { season, calculation_id, profile, division, as_of, published_at },
        }));
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
