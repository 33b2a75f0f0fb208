import type { z } from '@hono/zod-openapi';
import type * as Schemas from '../../../api/schemas.js';

/**
 * The answers of the query API the console reads. Those the API already documents come from its
 * zod schemas (types only: nothing of zod reaches the bundle); the others follow the contract of
 * the endpoints the console asked for, until their schemas land.
 */

export type Rankings = z.output<typeof Schemas.Rankings>;
export type RankingEntry = z.output<typeof Schemas.RankingEntry>;
export type Team = z.output<typeof Schemas.Team>;
export type Teams = z.output<typeof Schemas.Teams>;
export type TeamDetail = z.output<typeof Schemas.TeamDetail>;
export type TeamMatches = z.output<typeof Schemas.TeamMatches>;
export type Match = z.output<typeof Schemas.Match>;
export type Saga = z.output<typeof Schemas.Saga>;
export type Health = z.output<typeof Schemas.Health>;
export type ErrorBody = z.output<typeof Schemas.ErrorBody>;

export type Seasons = z.output<typeof Schemas.Seasons>;
export type SeasonCalculation = Seasons['seasons'][number]['calculations'][number];
export type TeamWeekly = z.output<typeof Schemas.TeamWeekly>;
export type WeekRating = TeamWeekly['weeks'][number];
/** An opponent's effect: > 0 it helped the team's strength of schedule, < 0 it hurt. */
export type OpponentEffect = TeamWeekly['opponents'][number];

/**
 * `event: calculation` of `GET /live`: a season's rankings changed (a calculation became
 * current, `cached`, or was retracted).
 */
export interface RankingsChange {
  readonly season: string;
  readonly calculation_id: string;
  readonly change: 'cached' | 'retracted';
  readonly at: string;
}

export type SagaStatus = Saga['status'];

/** `GET /sagas?limit=`: the latest sagas, newest first. */
export interface SagaList {
  readonly sagas: readonly {
    readonly saga_id: string;
    readonly saga_type: string;
    readonly status: SagaStatus;
    readonly failed_step: string | null;
    readonly error: string | null;
    readonly started_at: string;
    readonly updated_at: string;
    readonly finished_at: string | null;
    readonly version: number;
  }[];
}

/** `GET /sagas/{id}/timeline`: each step and compensation attempt over time. */
export interface SagaTimeline {
  readonly saga_id: string;
  readonly status: SagaStatus;
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly entries: readonly TimelineEntry[];
}
export interface TimelineEntry {
  readonly step_name: string;
  readonly kind: 'step' | 'compensation';
  readonly attempt: number;
  readonly started_at: string;
  readonly ended_at: string | null;
  readonly outcome: 'completed' | 'failed' | 'held' | 'running';
  readonly error: string | null;
}

export interface EventCounts {
  readonly total: number;
  readonly by_type: Readonly<Record<string, number>>;
  readonly by_day: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** `GET /store`: the event store's contents, size and schemas. */
export interface Store {
  readonly events: EventCounts;
  readonly size: { readonly items: number | null; readonly bytes: number | null };
  readonly schemas: readonly {
    readonly event_type: string;
    readonly compatibility: string;
    readonly versions: readonly {
      readonly version: number;
      readonly fingerprint: string;
      readonly latest: boolean;
    }[];
  }[];
}

export interface ConsumerSample {
  readonly name: string;
  readonly lag_ms: number;
  readonly applied: number;
}

/** `GET /consumers`: lag samples of the last minutes, oldest first, and read-model generations. */
export interface Consumers {
  readonly samples: readonly {
    readonly at: string;
    readonly consumers: readonly ConsumerSample[];
  }[];
  readonly read_models: readonly {
    readonly name: string;
    readonly active: number;
    readonly generations: readonly {
      readonly generation: number;
      readonly status: 'building' | 'live' | 'dropped';
      readonly created_at: string;
      readonly built_at: string | null;
      readonly progress: { readonly applied: number; readonly lag_ms: number | null } | null;
    }[];
  }[];
}

/** `GET /dead-letters`. */
export interface DeadLetters {
  readonly letters: readonly DeadLetter[];
}
export interface DeadLetter {
  readonly id: string;
  readonly consumer: string;
  readonly kind: string;
  readonly error: string;
  readonly attempts: number;
  readonly failed_at: string;
  readonly events: readonly {
    readonly aggregate_id: string;
    readonly sequence: number;
    readonly last_sequence: number;
  }[];
}

/** `POST /dead-letters/redrive`. */
export interface Redrive {
  readonly results: readonly {
    readonly id: string;
    readonly outcome: 'redriven' | 'failed';
    readonly error: string | null;
  }[];
}
