import type { BusEvent } from '../../stream/buses/eventPattern.js';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import type { RecalculationRequests } from './RecalculationRequests.js';

/** The rule of the `MatchEventHandler` on the `soccer` bus: results that change the RPI. */
export const MATCH_EVENTS_PATTERN = {
  source: ['matchstream.soccer'],
  'detail-type': ['MatchRecorded', 'MatchResultCorrected', 'MatchCancelled'],
} as const;

export interface MatchEventHandlerOptions {
  readonly requests: RecalculationRequests;
  /** To find the season of a cancelled match (its stream's first event names it). */
  readonly store: EventStore;
  readonly now?: () => number;
}

/**
 * The `MatchEventHandler`: a recorded, corrected or cancelled result asks for the season's
 * RPI again, debounced by `RecalculationRequests` (at most one pending saga per season).
 * Replayed events change nothing: a rebuild must not start calculations. While a season's
 * pending saga is known to be waiting, further results of the season need no I/O at all.
 */
export class MatchEventHandler {
  readonly stats = { events: 0, requests: 0, sagas_started: 0, ignored: 0 };
  private readonly pendingUntil = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: MatchEventHandlerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The bus target. */
  readonly handle = async (event: BusEvent): Promise<void> => {
    const envelope = event.detail as (EventEnvelope & { replayed?: boolean }) | undefined;
    this.stats.events++;
    if (!envelope || envelope.replayed) {
      this.stats.ignored++;
      return;
    }
    const season = await this.seasonOf(envelope);
    if (season === undefined) {
      this.stats.ignored++;
      return;
    }
    if (this.now() < (this.pendingUntil.get(season) ?? 0)) return;
    this.stats.requests++;
    const outcome = await this.options.requests.request(
      season,
      `${envelope.event_type} ${envelope.aggregate_id}`,
    );
    if (outcome.started) this.stats.sagas_started++;
    const until = outcome.waitsUntil;
    if (until !== undefined) this.pendingUntil.set(season, until);
  };

  private async seasonOf(envelope: EventEnvelope): Promise<string | undefined> {
    if (typeof envelope.data.season === 'string') return envelope.data.season;
    const history = await this.options.store.read(envelope.aggregate_id);
    const named = history.find((e) => typeof e.data.season === 'string');
    return named ? String(named.data.season) : undefined;
  }
}
