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
export type SagaList = z.output<typeof Schemas.SagaSummaries>;
/** `GET /sagas/{id}/timeline`: each attempt of each step and compensation. */
export type SagaTimeline = z.output<typeof Schemas.SagaTimeline>;
export type TimelineEntry = SagaTimeline['entries'][number];
/** `GET /store`: events by type and day, the store's size, the schemas. */
export type Store = z.output<typeof Schemas.StoreOverview>;
export type EventCounts = Store['events'];
/** `GET /consumers`: lag samples of the last minutes, oldest first, and read-model generations. */
export type Consumers = z.output<typeof Schemas.Consumers>;
export type ConsumerSample = Consumers['samples'][number]['consumers'][number];
/** `GET /dead-letters`. */
export type DeadLetters = z.output<typeof Schemas.DeadLetters>;
export type DeadLetter = DeadLetters['letters'][number];
/** `POST /dead-letters/redrive`. */
export type RedriveSummary = z.output<typeof Schemas.RedriveSummary>;
