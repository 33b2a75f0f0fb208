import type { EventData } from '../../schemas/events.js';
import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import type { Commit } from '../../stream/eventStore/Commit.js';

/** The project's schema registry, parsed once per test file. */
export const registry = SchemaRegistry.fromDirectory();

/**
 * The latest version of an event type. Tests that mean "the latest" say so through this, so
 * adding a version (the schema evolution walk-through) does not break them.
 */
export function latestVersion(eventType: string): number {
  return registry.latest(eventType).version;
}

/** Valid `MatchRecorded` (latest version) data for tests. */
export function matchRecorded(matchId: string, home = 2, away = 1): EventData<'MatchRecorded'> {
  return {
    match_id: matchId,
    season: '2026',
    played_on: '2026-09-01',
    home_team: 'North Harbor State',
    away_team: 'Riverton College',
    home_goals: home,
    away_goals: away,
    neutral: false,
    decided_by: 'regulation',
    venue: null,
  };
}

/** Valid `TeamRegistered` data for tests. */
export function teamRegistered(
  name: string,
  metadata: Partial<EventData<'TeamRegistered'>> = {},
): EventData<'TeamRegistered'> {
  return { team_id: name, name, conference: null, division: null, region: null, ...metadata };
}

/** Valid `TeamMetadataUpdated` data for tests: what is not given is unchanged (null). */
export function teamMetadataUpdated(
  team: string,
  changes: Partial<EventData<'TeamMetadataUpdated'>>,
): EventData<'TeamMetadataUpdated'> {
  return { team_id: team, name: null, conference: null, division: null, region: null, ...changes };
}

/** Valid `RpiCalculated` data for tests: a whole-season calculation that rated nobody. */
export function rpiCalculated(
  calculationId: string,
  calculation: Partial<EventData<'RpiCalculated'>> = {},
): EventData<'RpiCalculated'> {
  return {
    calculation_id: calculationId,
    season: '2026',
    as_of: null,
    profile: 'ncaa-soccer-2024',
    division: null,
    games_counted: 0,
    first_game_on: null,
    last_game_on: null,
    computed_at: '2026-09-10T08:00:00.000Z',
    variant: 'unadjusted',
    adjustments: null,
    rankings: [],
    ...calculation,
  };
}

/**
 * A one-event commit whose data cannot be decoded (it starts with a string length near 2^34),
 * written with the latest schema of its type: what a damaged item in the store looks like.
 */
export function corruptCommit(
  aggregateId: string,
  sequence: number,
  eventType: string,
  eventId: string,
): Commit {
  const schema = registry.latest(eventType);
  return {
    aggregate_id: aggregateId,
    sequence,
    last_sequence: sequence,
    committed_at: new Date().toISOString(),
    events: [
      {
        event_id: eventId,
        event_type: eventType,
        version: schema.version,
        fingerprint: schema.fingerprint,
        data: Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x7f]),
        timestamp: new Date().toISOString(),
        correlation_id: 'c',
        causation_id: null,
      },
    ],
  };
}
