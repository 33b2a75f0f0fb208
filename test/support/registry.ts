import { SchemaRegistry } from '../../schemas/SchemaRegistry.js';

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
export function matchRecorded(matchId: string, home = 2, away = 1): Record<string, unknown> {
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
export function teamRegistered(name: string): Record<string, unknown> {
  return { team_id: name, name, conference: null, division: null };
}
