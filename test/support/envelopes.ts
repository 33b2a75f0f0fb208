import type { EventEnvelope } from '../../stream/EventEnvelope.js';

/** An envelope for read-model specifications. */
export function envelope(
  eventType: string,
  aggregateId: string,
  sequence: number,
  data: Record<string, unknown>,
  timestamp = '2026-09-01T20:00:00.000Z',
): EventEnvelope {
  return {
    event_id: `${aggregateId}#${sequence}`,
    event_type: eventType,
    aggregate_id: aggregateId,
    sequence,
    timestamp,
    data,
    version: 1,
    correlation_id: 'spec',
    causation_id: null,
  };
}

/** `MatchRecorded` (or `MatchResultCorrected` with `corrected`) from a score line "A 2-1 B". */
export function result(
  matchId: string,
  line: string,
  options: {
    sequence?: number;
    corrected?: boolean;
    playedOn?: string;
    season?: string;
    decidedBy?: string;
    venue?: string | null;
  } = {},
): EventEnvelope {
  const m = /^(.+?) (\d+)-(\d+) (.+)$/.exec(line);
  if (!m) throw new Error(`bad score line ${line}`);
  return envelope(
    options.corrected ? 'MatchResultCorrected' : 'MatchRecorded',
    `match:${matchId}`,
    options.sequence ?? 1,
    {
      match_id: matchId,
      season: options.season ?? '2026',
      played_on: options.playedOn ?? '2026-09-01',
      home_team: m[1],
      away_team: m[4],
      home_goals: Number(m[2]),
      away_goals: Number(m[3]),
      neutral: false,
      decided_by: options.decidedBy ?? 'regulation',
      venue: options.venue ?? null,
      ...(options.corrected ? { reason: null } : {}),
    },
  );
}
