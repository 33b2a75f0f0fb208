import { randomUUID } from 'node:crypto';
import type { DecidedBy, Game } from '../../domain/games/Game.js';
import { computeRpiVariant, type VariantResult } from '../../domain/rpi/computeRpiVariant.js';
import type { RpiProfile } from '../../domain/rpi/RpiProfile.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { seasonMatchPages } from '../../projections/readModels/matches.js';
import type { NewEvent } from '../../stream/EventEnvelope.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';

/**
 * The games of a season the RPI counts, from the matches read model: played, not cancelled.
 * Read a page at a time, each page's documents dropped once its games are taken: at 10,000
 * teams the season's documents take about 30 MB of heap, which the games do not need.
 */
export async function collectGames(
  matches: DocumentStore,
  season: string,
  asOf?: string,
): Promise<Game[]> {
  const games: Game[] = [];
  for await (const page of seasonMatchPages(matches, season))
    for (const m of page) {
      if (m.status === 'cancelled' || m.status === 'scheduled') continue;
      if (m.home_goals === null || m.away_goals === null) continue;
      if (asOf !== undefined && m.played_on > asOf) continue;
      games.push({
        matchId: m.match_id,
        season: m.season,
        date: m.played_on,
        homeTeam: m.home_team,
        awayTeam: m.away_team,
        homeScore: m.home_goals,
        awayScore: m.away_goals,
        neutral: m.neutral,
        decidedBy: (m.decided_by ?? 'regulation') as DecidedBy,
      });
    }
  return games;
}

/** What a calculation counted besides what its result says. */
export interface CalculationScope {
  /** The games counted were between teams of this division; null for every game. */
  readonly division: string | null;
  /** The games it was given (their first and last day are recorded). */
  readonly games: readonly Pick<Game, 'date'>[];
}

/** The `RpiCalculated` event of a result: each team's rating with its unadjusted one beside it. */
export function rpiCalculated(
  result: VariantResult,
  calculationId: string,
  computedAt: Date,
  scope: CalculationScope,
): NewEvent<'RpiCalculated'> {
  const days = scope.games.map((g) => g.date).sort();
  const table = result.adjustments;
  return {
    event_type: 'RpiCalculated',
    data: {
      calculation_id: calculationId,
      season: result.season ?? '',
      as_of: result.asOf,
      profile: result.profile.name,
      division: scope.division,
      games_counted: result.games.counted,
      first_game_on: days[0] ?? null,
      last_game_on: days.at(-1) ?? null,
      computed_at: computedAt.toISOString(),
      variant: result.variant,
      adjustments: table ? JSON.stringify({ games: table.games, tiers: table.tiers }) : null,
      rankings: result.ratings.map((r) => ({
        rank: r.rank,
        team: r.team,
        games: r.games,
        wins: r.wins,
        losses: r.losses,
        ties: r.ties,
        wp: r.wp,
        owp: r.owp,
        oowp: r.oowp,
        rpi: r.rpi,
        unadjusted_rank: r.unadjustedRank,
        unadjusted_rpi: r.unadjustedRpi,
        adjustment: r.adjustment ?? null,
        bonus: r.bonus ?? null,
      })),
    },
  };
}

export interface CalculationOutcome {
  readonly calculationId: string;
  readonly result: VariantResult;
  /** Events appended: the calculation and its publication. */
  readonly events: number;
}

/**
 * Calculates the RPI of a season from the matches read model and publishes it, in one
 * append to the calculation's own stream (`rpi:<id>`): `RpiCalculated` then
 * `RpiResultsPublished`. (The RPI saga does the same in steps, with compensations.)
 */
export async function calculateAndPublish(
  store: EventStore,
  matches: DocumentStore,
  options: { season: string; profile: RpiProfile; asOf?: string; correlationId?: string },
): Promise<CalculationOutcome> {
  const games = await collectGames(matches, options.season, options.asOf);
  const result = computeRpiVariant(games, {
    profile: options.profile,
    season: options.season,
    ...(options.asOf ? { asOf: options.asOf } : {}),
  });
  const calculationId = randomUUID();
  const now = new Date();
  const correlation = options.correlationId ?? calculationId;
  await store.append(`rpi:${calculationId}`, 0, [
    {
      ...rpiCalculated(result, calculationId, now, { division: null, games }),
      correlation_id: correlation,
    },
    {
      event_type: 'RpiResultsPublished',
      correlation_id: correlation,
      data: {
        calculation_id: calculationId,
        season: options.season,
        as_of: options.asOf ?? null,
        published_at: now.toISOString(),
      },
    },
  ]);
  return { calculationId, result, events: 2 };
}
