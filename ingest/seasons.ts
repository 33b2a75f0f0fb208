import type { EventData } from '../schemas/events.js';
import { type EventEnvelope, unhandled } from '../stream/EventEnvelope.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { UnreadableEvents } from '../stream/eventStore/UnreadableEvents.js';
import { ConcurrencyError } from '../stream/StoreError.js';
import { uuidFromName } from '../stream/uuid.js';

/** The stream of a season: where `SeasonClosed` is recorded. */
export function seasonAggregateId(season: string): string {
  return `season:${season}`;
}

export type SeasonClosedData = EventData<'SeasonClosed'>;

/** The season's `SeasonClosed`, if it was closed. */
export async function seasonClosed(
  store: Pick<EventStore, 'read'>,
  season: string,
): Promise<SeasonClosedData | undefined> {
  for (const event of await store.read(seasonAggregateId(season)))
    if (event.event_type === 'SeasonClosed') return event.data;
  return undefined;
}

/** The event types that name a season (`data.season`): a season's matches and RPI calculations. */
const SEASON_NAMING_TYPES = [
  'MatchScheduled',
  'MatchRecorded',
  'MatchResultCorrected',
  'RpiCalculationRequested',
  'RpiCalculated',
  'RpiResultsPublished',
  'RpiResultsRetracted',
  'RankingsCacheUpdated',
] as const;

/**
 * Whether the store holds an event of the season (a match or an RPI calculation naming it):
 * a scan that stops at the first one. Events it cannot read are counted, not thrown.
 */
export async function seasonHasEvents(
  store: Pick<EventStore, 'readAll'>,
  season: string,
): Promise<{ readonly found: boolean; readonly unreadable: number }> {
  const unreadable = new UnreadableEvents();
  for await (const batch of store.readAll({ eventTypes: SEASON_NAMING_TYPES, unreadable }))
    for (const event of batch)
      if ('season' in event.data && event.data.season === season)
        return { found: true, unreadable: unreadable.count };
  return { found: false, unreadable: unreadable.count };
}

/**
 * Closes a season: appends `SeasonClosed` to its stream `season:<season>`, once (the event id
 * comes from the season, so a repeat is recognised). Resolves with the event as stored, and
 * whether this call closed it (false: it was closed already, the first close stands).
 */
export async function closeSeason(
  store: EventStore,
  season: string,
  options: { readonly reason?: string | null; readonly now?: () => Date } = {},
): Promise<{ readonly closed: SeasonClosedData; readonly already: boolean }> {
  const id = seasonAggregateId(season);
  const data: SeasonClosedData = {
    season,
    closed_at: (options.now?.() ?? new Date()).toISOString(),
    reason: options.reason ?? null,
  };
  try {
    const result = await store.append(id, 0, [
      { event_type: 'SeasonClosed', event_id: uuidFromName(`${id}#closed`), data },
    ]);
    const first = result.events[0];
    if (first?.event_type === 'SeasonClosed')
      return { closed: first.data, already: result.duplicate };
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error;
  }
  const closed = await seasonClosed(store, season);
  if (!closed) throw new Error(`the stream ${id} holds no SeasonClosed`);
  return { closed, already: true };
}

/**
 * The season a stream belongs to, one event at a time (a `SeasonFold`): `undefined` while
 * no event has named a season, the season when every event naming one names the same,
 * `null` when the stream belongs to no single season. Match streams (`MatchScheduled`,
 * `MatchRecorded`, `MatchResultCorrected`; `MatchCancelled` names none and goes with the
 * match) and RPI calculation streams (`Rpi*`, `RankingsCacheUpdated`) carry their season in
 * every event; a stream with an event of another season, an empty season, or an event of a
 * stream that spans seasons (a team's `TeamRegistered`/`TeamMetadataUpdated`, a saga's
 * `Saga*`, a season's own `SeasonClosed`) belongs to none, and is never expired.
 */
export function seasonOfStream(
  state: string | null | undefined,
  event: EventEnvelope,
): string | null | undefined {
  if (state === null) return null;
  const named = (season: string) =>
    season === '' || (state !== undefined && state !== season) ? null : season;
  switch (event.event_type) {
    case 'MatchScheduled':
    case 'MatchRecorded':
    case 'MatchResultCorrected':
    case 'RpiCalculationRequested':
    case 'RpiCalculated':
    case 'RpiResultsPublished':
    case 'RpiResultsRetracted':
    case 'RankingsCacheUpdated':
      return named(event.data.season);
    case 'MatchCancelled':
      return state;
    case 'TeamRegistered':
    case 'TeamMetadataUpdated':
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
      return null;
    default:
      return unhandled(event);
  }
}
