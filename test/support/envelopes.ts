import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Game } from '../../domain/games/Game.js';
import { resultData } from '../../ingest/matchEvents.js';
import type { EventData, EventType } from '../../schemas/events.js';
import type { EnvelopeOf, EventEnvelope, NewEvent } from '../../stream/EventEnvelope.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import { latestVersion, registry } from './registry.js';

/** An envelope for read-model specifications: data of the latest version, as the codec hands it out. */
export function envelope<K extends EventType>(
  eventType: K,
  aggregateId: string,
  sequence: number,
  data: EventData<K>,
  timestamp = '2026-09-01T20:00:00.000Z',
): EnvelopeOf<K> {
  return {
    event_id: `${aggregateId}#${sequence}`,
    event_type: eventType,
    aggregate_id: aggregateId,
    sequence,
    timestamp,
    data,
    version: latestVersion(eventType),
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
    decidedBy?: EventData<'MatchRecorded'>['decided_by'];
    venue?: string | null;
  } = {},
): EventEnvelope {
  const m = /^(.+?) (\d+)-(\d+) (.+)$/.exec(line);
  if (!m?.[1] || !m[4]) throw new Error(`bad score line ${line}`);
  const data = {
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
  };
  const aggregateId = `match:${matchId}`;
  const sequence = options.sequence ?? 1;
  return options.corrected
    ? envelope('MatchResultCorrected', aggregateId, sequence, { ...data, reason: null })
    : envelope('MatchRecorded', aggregateId, sequence, data);
}

/** `MatchRecorded` of a game as the domain holds it (a generated season's), first of its stream. */
export function recordedGame(
  game: Game,
  matchId: string,
  timestamp?: string,
): EnvelopeOf<'MatchRecorded'> {
  const stream = `match:${matchId}`;
  return envelope('MatchRecorded', stream, 1, resultData({ ...game, matchId }, stream), timestamp);
}

/**
 * An event the types refuse (an unknown type, data its schema does not allow), for tests that
 * the store refuses it at run time too, as it must for callers that are not type-checked.
 */
export function unchecked(event: {
  readonly event_type: string;
  readonly data: unknown;
}): NewEvent {
  return event as NewEvent;
}

/**
 * An event of a type with the data of its stored fixture at the latest version
 * (`test/fixtures/events`), decoded by the codec as the store would: for tests of the transport,
 * which carries any event and looks at no data.
 */
export function sampleEnvelope(
  eventType: EventType,
  aggregateId: string,
  sequence = 1,
  eventId = `${aggregateId}#${sequence}`,
): EventEnvelope {
  const version = latestVersion(eventType);
  const file = join('test/fixtures/events', eventType, `v${version}.json`);
  const fixture = JSON.parse(readFileSync(file, 'utf8')) as { avro_base64: string };
  const [event] = new CommitCodec(registry).envelopes({
    aggregate_id: aggregateId,
    sequence,
    last_sequence: sequence,
    committed_at: '2026-09-01T20:00:00.000Z',
    events: [
      {
        event_id: eventId,
        event_type: eventType,
        version,
        fingerprint: registry.latest(eventType).fingerprint,
        data: Buffer.from(fixture.avro_base64, 'base64'),
        timestamp: '2026-09-01T20:00:00.000Z',
        correlation_id: 'c',
        causation_id: null,
      },
    ],
  });
  if (!event) throw new Error(`no sample of ${eventType}`);
  return event;
}
