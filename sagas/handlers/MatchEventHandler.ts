import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { deliveredEnvelope } from '../../stream/buses/claimCheck.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';
import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
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
  /** Reads the envelopes the bus delivers. */
  readonly registry: SchemaRegistry;
  readonly now?: () => number;
}

/** The events of a match stream that change the RPI. */
type ResultEvent = EventEnvelope<'MatchRecorded' | 'MatchResultCorrected' | 'MatchCancelled'>;

/**
 * The `MatchEventHandler`: a recorded, corrected or cancelled result asks for the season's
 * RPI again, debounced by `RecalculationRequests` (at most one pending saga per season).
 * Replayed events change nothing: a rebuild must not start calculations. While a season's
 * pending saga is known to be waiting, a further result of the season that the matches read
 * model already shows needs one read; one it does not show yet is recorded for the saga, which
 * waits for the read model to apply it (see `RecalculationRequests`).
 */
export class MatchEventHandler {
  readonly stats = { events: 0, requests: 0, sagas_started: 0, ignored: 0 };
  /**
   * Per season, the saga last found waiting: until when it surely waits, and the hold of the
   * sagas it surely waits through.
   */
  private readonly pending = new Map<string, { until: number; hold: number | undefined }>();
  private readonly now: () => number;

  constructor(private readonly options: MatchEventHandlerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The bus target. */
  readonly handle = async (event: BusEvent): Promise<void> => {
    const delivered = await deliveredEnvelope(
      event.detail,
      this.options.registry,
      this.options.store,
    );
    this.stats.events++;
    const envelope = delivered && resultEvent(delivered);
    if (!envelope || delivered.replayed) {
      this.stats.ignored++;
      return;
    }
    const season = await this.seasonOf(envelope);
    if (season === undefined) {
      this.stats.ignored++;
      return;
    }
    const change = { aggregate_id: envelope.aggregate_id, sequence: envelope.sequence };
    // The pending saga reads the matches after its wait (or the hold it was found waiting
    // in): if the read model shows the change now (the wait looked at after the read), that
    // saga counts it.
    const pending = this.pending.get(season);
    const waits = () =>
      pending !== undefined &&
      (this.now() < pending.until ||
        (pending.hold !== undefined && this.options.requests.holding() === pending.hold));
    if (waits() && (await this.options.requests.applied(change)) && waits()) return;
    this.stats.requests++;
    const outcome = await this.options.requests.request(
      season,
      `${envelope.event_type} ${envelope.aggregate_id}`,
      change,
    );
    if (outcome.started) this.stats.sagas_started++;
    if (outcome.waitsUntil !== undefined || outcome.hold !== undefined)
      this.pending.set(season, { until: outcome.waitsUntil ?? 0, hold: outcome.hold });
  };

  private async seasonOf(envelope: ResultEvent): Promise<string | undefined> {
    if (envelope.event_type !== 'MatchCancelled') return envelope.data.season;
    // A cancellation names no season: the match's earlier events do.
    for (const e of await this.options.store.read(envelope.aggregate_id)) {
      if (
        e.event_type === 'MatchScheduled' ||
        e.event_type === 'MatchRecorded' ||
        e.event_type === 'MatchResultCorrected'
      )
        return e.data.season;
    }
    return undefined;
  }
}

/** The event if it changes a season's RPI: what the handler decides about every event type. */
function resultEvent(event: EventEnvelope): ResultEvent | undefined {
  switch (event.event_type) {
    case 'MatchRecorded':
    case 'MatchResultCorrected':
    case 'MatchCancelled':
      return event;
    // A match on the schedule counts once it has a result.
    case 'MatchScheduled':
    case 'TeamRegistered':
    case 'TeamMetadataUpdated':
    case 'RpiCalculationRequested':
    case 'RpiCalculated':
    case 'RpiResultsPublished':
    case 'RpiResultsRetracted':
    case 'RankingsCacheUpdated':
    case 'SagaStarted':
    case 'SagaStepStarted':
    case 'SagaStepHeld':
    case 'SagaStepCompleted':
    case 'SagaStepFailed':
    case 'SagaCompensationCompleted':
    case 'SagaCompensationFailed':
    case 'SagaCompleted':
    case 'SagaCompensated':
    case 'SeasonClosed':
      return undefined;
    default:
      return unhandled(event);
  }
}
