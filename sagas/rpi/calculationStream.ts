import type { RankingEntry } from '../../projections/readModels/rankings.js';
import type { NewEvent } from '../../stream/EventEnvelope.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { ConcurrencyError } from '../../stream/StoreError.js';
import { uuidFromName } from '../../stream/uuid.js';
import { SagaError } from '../SagaError.js';

/** The stream of one RPI calculation. */
export const calculationStream = (calculationId: string): string => `rpi:${calculationId}`;

/** The events of a calculation's stream. */
export type CalculationEventType =
  | 'RpiCalculated'
  | 'RpiResultsPublished'
  | 'RpiResultsRetracted'
  | 'RankingsCacheUpdated';

/** Where a calculation stands, from its stream. */
export interface CalculationState {
  readonly version: number;
  readonly season: string | null;
  readonly calculated: boolean;
  readonly published: boolean;
  readonly retracted: boolean;
  /** `RankingsCacheUpdated` is in the stream. */
  readonly cached: boolean;
  readonly rankings: readonly RankingEntry[];
  readonly asOf: string | null;
  readonly profile: string | null;
  /** Null: every division. */
  readonly division: string | null;
  readonly gamesCounted: number;
  readonly computedAt: string | null;
  readonly publishedAt: string | null;
}

export async function calculationState(
  store: EventStore,
  calculationId: string,
): Promise<CalculationState> {
  const events = await store.read(calculationStream(calculationId));
  const calculated = events.find((e) => e.event_type === 'RpiCalculated')?.data;
  const published = events.find((e) => e.event_type === 'RpiResultsPublished')?.data;
  return {
    version: events.at(-1)?.sequence ?? 0,
    season: calculated?.season ?? null,
    calculated: Boolean(calculated),
    published: Boolean(published),
    retracted: events.at(-1)?.event_type === 'RpiResultsRetracted',
    cached: events.some((e) => e.event_type === 'RankingsCacheUpdated'),
    rankings: calculated?.rankings ?? [],
    asOf: calculated?.as_of ?? null,
    profile: calculated?.profile ?? null,
    division: calculated?.division ?? null,
    gamesCounted: calculated?.games_counted ?? 0,
    computedAt: calculated?.computed_at ?? null,
    publishedAt: published?.published_at ?? null,
  };
}

/**
 * Appends one event to a calculation stream unless `done(state)` says it is there already;
 * the event id is derived from the stream and `key`, so a repeat is recognised. Safe to run
 * any number of times, from any number of places.
 */
export async function appendOnce(
  store: EventStore,
  calculationId: string,
  key: string,
  done: (state: CalculationState) => boolean,
  event: (state: CalculationState) => NewEvent<CalculationEventType> | undefined,
  correlationId: string,
): Promise<CalculationState> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const state = await calculationState(store, calculationId);
    if (done(state)) return state;
    const next = event(state);
    if (!next) return state;
    try {
      await store.append(calculationStream(calculationId), state.version, [
        {
          ...next,
          event_id: uuidFromName(`${calculationStream(calculationId)}#${key}`),
          correlation_id: correlationId,
        },
      ]);
      return calculationState(store, calculationId);
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
    }
  }
  throw new SagaError(
    'CONTENDED',
    `calculation ${calculationId} kept changing while appending ${key}`,
    { retryable: true },
  );
}

/** Retracts a calculation unless it is retracted already or was never calculated. */
export function retractCalculation(
  store: EventStore,
  calculationId: string,
  reason: string,
  correlationId: string,
) {
  return appendOnce(
    store,
    calculationId,
    'retract',
    (s) => !s.calculated || s.retracted,
    (s) => ({
      event_type: 'RpiResultsRetracted',
      data: { calculation_id: calculationId, season: s.season ?? '', reason },
    }),
    correlationId,
  );
}
