import type { AdjustmentOverrides } from '../../domain/rpi/adjustments.js';
import type { RpiVariant } from '../../domain/rpi/computeRpiVariant.js';

/** The RPI calculation saga's type, as its events and documents name it. */
export const RPI_SAGA = 'rpi_calculation';

/** Its steps, in order. */
export const RPI_STEPS = [
  'collect_matches',
  'calculate_rpi',
  'publish_results',
  'update_cache',
] as const;
export type RpiStepName = (typeof RPI_STEPS)[number];

/** The compensation of each step. */
export const RPI_COMPENSATIONS: Readonly<Record<RpiStepName, string>> = {
  collect_matches: 'rollback_matches',
  calculate_rpi: 'rollback_calculation',
  publish_results: 'rollback_publication',
  update_cache: 'rollback_cache',
};

/** What an RPI saga is asked to do. */
export interface RpiSagaRequest {
  readonly season: string;
  /** Count games up to this day; null for all. */
  readonly as_of: string | null;
  readonly profile: string;
  /** Count only games between teams of this division in the team directory; null for all. */
  readonly division: string | null;
  /** Which RPI (absent in sagas of earlier releases: unadjusted). */
  readonly variant?: RpiVariant;
  /** Under the adjusted variant: values laid over the profile's bonus and penalty table. */
  readonly adjustments?: AdjustmentOverrides | null;
  /** Do not start before this instant (a debounced request). */
  readonly not_before: string | null;
  /** Begin only once this saga ended (the season's automatic saga under way when asked). */
  readonly after?: string | null;
  /** When it was asked for (for people reading the saga). */
  readonly requested_at?: string | null;
  /** Why, for people reading the saga (e.g. "results changed"). */
  readonly reason?: string | null;
}

/** The first and last day of the games a calculation counts (what is known of them so far). */
export interface DateRange {
  readonly start: string | null;
  readonly end: string | null;
}

/** The variant of a saga's calculation. */
export function variantOf(data: Pick<RpiSagaRequest, 'variant'>): RpiVariant {
  return data.variant ?? 'unadjusted';
}

/** An RPI saga's data: the request, the day its calculation speaks for, the days it counts. */
export interface RpiSagaData extends RpiSagaRequest {
  /** The day the calculation speaks for: its `as_of`, else the day it was requested. */
  readonly calculation_date: string | null;
  /**
   * The first and last day of the games counted, once `collect_matches` ran; before that what
   * the request says (the end is its `as_of`).
   */
  readonly date_range: DateRange;
}

/** The data an RPI saga starts with. */
export function rpiSagaData(request: RpiSagaRequest, now: Date): RpiSagaData {
  const requestedAt = request.requested_at ?? now.toISOString();
  return {
    ...request,
    requested_at: requestedAt,
    calculation_date: request.as_of ?? requestedAt.slice(0, 10),
    date_range: { start: null, end: request.as_of },
  };
}

/**
 * An RPI saga's data from its JSON, with `calculation_date` and `date_range` filled in for
 * sagas that earlier releases started without them (from `startedAt`, the saga's start).
 */
export function parseRpiSagaData(json: unknown, startedAt?: string): RpiSagaData {
  const data = json as RpiSagaRequest &
    Partial<Pick<RpiSagaData, 'calculation_date' | 'date_range'>>;
  const requested = data.requested_at ?? startedAt ?? null;
  return {
    ...data,
    calculation_date: data.calculation_date ?? data.as_of ?? requested?.slice(0, 10) ?? null,
    date_range: data.date_range ?? { start: null, end: data.as_of },
  };
}
