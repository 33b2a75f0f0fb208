import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { ConcurrencyError } from '../../stream/StoreError.js';
import { uuidFromName } from '../../stream/uuid.js';
import { SagaError } from '../SagaError.js';

/** The stream of one RPI calculation. */
export const calculationStream = (calculationId: string): string => `rpi:${calculationId}`;

/** Where a calculation stands, from its stream. */
export interface CalculationState {
  readonly version: number;
  readonly season: string | null;
  readonly calculated: boolean;
  readonly published: boolean;
  readonly retracted: boolean;
  /** `RankingsCacheUpdated` is in the stream. */
  readonly cached: boolean;
  readonly rankings: unknown;
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
  const calculated = events.find((e) => e.event_type === 'RpiCalculated');
  const published = events.find((e) => e.event_type === 'RpiResultsPublished');
  return {
    version: events.at(-1)?.sequence ?? 0,
    season: calculated ? String(calculated.data.season) : null,
    calculated: Boolean(calculated),
    published: Boolean(published),
    retracted: events.at(-1)?.event_type === 'RpiResultsRetracted',
    cached: events.some((e) => e.event_type === 'RankingsCacheUpdated'),
    rankings: calculated?.data.rankings ?? [],
    asOf: (calculated?.data.as_of as string | null) ?? null,
    profile: calculated ? String(calculated.data.profile) : null,
    division: (calculated?.data.division as string | null | undefined) ?? null,
    gamesCounted: Number(calculated?.data.games_counted ?? 0),
    computedAt: calculated ? String(calculated.data.computed_at) : null,
    publishedAt: published ? String(published.data.published_at) : null,
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
  event: (
    state: CalculationState,
  ) => { event_type: string; data: Record<string, unknown> } | undefined,
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
