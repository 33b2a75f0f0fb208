import { createHash } from 'node:crypto';
import type { Game } from '../domain/games/Game.js';
import type { EventData } from '../schemas/events.js';
import { type EventEnvelope, unhandled } from '../stream/EventEnvelope.js';

/**
 * A match's result as `MatchRecorded` carries it; a `MatchResultCorrected` carries the same
 * fields (and why), so a new field of the one fails the type check until the other has it too.
 */
export type MatchResultData = EventData<'MatchRecorded'>;

/**
 * The stream id of a match: `match:<match_id>`, or, for a feed row without a match id, one
 * derived from its season, day, teams and its place among the same meetings that day (so a
 * doubleheader is two matches, and the same file ingested again gives the same ids).
 */
export function matchAggregateId(game: Game, occurrence: number): string {
  if (game.matchId) return `match:${game.matchId}`;
  const key = [game.season, game.date, game.homeTeam, game.awayTeam, occurrence].join('\u0000');
  return `match:${game.date}:${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

/** The stream id of a team. */
export function teamAggregateId(name: string): string {
  return `team:${name}`;
}

/** A game as the data of its result events. */
export function resultData(game: Game, aggregateId: string): MatchResultData {
  return {
    match_id: game.matchId ?? aggregateId.slice('match:'.length),
    season: game.season,
    played_on: game.date,
    home_team: game.homeTeam,
    away_team: game.awayTeam,
    home_goals: game.homeScore,
    away_goals: game.awayScore,
    neutral: game.neutral,
    decided_by: game.decidedBy,
    venue: game.venue ?? null,
  };
}

/** The current result of a match stream: the last recorded or corrected result, if any. */
export function currentResult(events: readonly EventEnvelope[]): MatchResultData | undefined {
  let result: MatchResultData | undefined;
  for (const event of events) {
    switch (event.event_type) {
      case 'MatchRecorded':
      case 'MatchResultCorrected':
        result = event.data;
        break;
      case 'MatchCancelled':
        result = undefined;
        break;
      // A match on the schedule has no result yet; the other events are not a match's.
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
        break;
      default:
        unhandled(event);
    }
  }
  return result;
}

/**
 * True when the `next` result says nothing new over `current` (the match id aside). A feed
 * that does not name the venue leaves the recorded one standing rather than erasing it.
 */
export function sameResult(current: MatchResultData, next: MatchResultData): boolean {
  const a = current;
  const b = next;
  return (
    (b.venue === null || a.venue === b.venue) &&
    a.season === b.season &&
    a.played_on === b.played_on &&
    a.home_team === b.home_team &&
    a.away_team === b.away_team &&
    a.home_goals === b.home_goals &&
    a.away_goals === b.away_goals &&
    a.neutral === b.neutral &&
    a.decided_by === b.decided_by
  );
}
