import type { LiveFeed, RankingsChange } from '../api/LiveFeed.js';
import type { LocalEventBus } from '../stream/buses/LocalEventBus.js';

/** The rule's name on the calculation bus, while anyone listens. */
export const LIVE_RULE = 'console-live';

/**
 * The embedded pipeline's live feed: a rule on the calculation bus for `RankingsCacheUpdated`
 * and `RpiResultsRetracted`, there only while someone listens (the API's `GET /live`), fanning
 * each change out to the listeners. A listener that throws is left out, never retried.
 */
export function busLiveFeed(bus: LocalEventBus): LiveFeed {
  const listeners = new Set<(change: RankingsChange) => void>();
  let unregister: (() => void) | undefined;
  return {
    subscribe(listener) {
      listeners.add(listener);
      unregister ??= bus.register({
        name: LIVE_RULE,
        pattern: { 'detail-type': ['RankingsCacheUpdated', 'RpiResultsRetracted'] },
        handler: async (event) => {
          const change = changeOf(event.detail);
          if (!change) return;
          for (const each of listeners) {
            try {
              each(change);
            } catch {
              // A listener is a connection; a broken one is closed by its own stream.
            }
          }
        },
      });
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          unregister?.();
          unregister = undefined;
        }
      };
    },
  };
}

/** The change an event's envelope tells, if it tells one. */
function changeOf(detail: unknown): RankingsChange | undefined {
  const envelope = detail as
    | { event_type?: unknown; timestamp?: unknown; data?: Record<string, unknown> }
    | undefined;
  const season = envelope?.data?.season;
  const calculation = envelope?.data?.calculation_id;
  if (typeof season !== 'string' || typeof calculation !== 'string') return undefined;
  return {
    season,
    calculation_id: calculation,
    change: envelope?.event_type === 'RpiResultsRetracted' ? 'retracted' : 'cached',
    at: typeof envelope?.timestamp === 'string' ? envelope.timestamp : new Date().toISOString(),
  };
}
