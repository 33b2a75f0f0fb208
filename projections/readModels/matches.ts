import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection, StoredDoc } from '../Projection.js';

export type MatchStatus = 'scheduled' | 'recorded' | 'corrected' | 'cancelled';

/** A match as the read model keeps it. */
export interface MatchDoc {
  readonly match_id: string;
  readonly aggregate_id: string;
  readonly season: string;
  readonly played_on: string;
  readonly home_team: string;
  readonly away_team: string;
  readonly home_goals: number | null;
  readonly away_goals: number | null;
  readonly neutral: boolean;
  readonly decided_by: string | null;
  /** Where it was played, when a feed named it (from `MatchRecorded` v3). */
  readonly venue: string | null;
  readonly status: MatchStatus;
  readonly corrections: number;
  readonly cancellation_reason: string | null;
  readonly version: number;
}

const primary = (aggregateId: string): DocKey => ({ pk: `match#${aggregateId}`, sk: '-' });
/** The copies a match is found by: its season, each of its teams. */
function indexKeys(m: MatchDoc): DocKey[] {
  const sk = `${m.played_on}#${m.aggregate_id}`;
  return [
    { pk: `season#${m.season}`, sk },
    { pk: `team#${m.home_team}`, sk },
    { pk: `team#${m.away_team}`, sk },
  ];
}

/** The events of a match's stream. */
type MatchEvent = EventEnvelope<
  'MatchScheduled' | 'MatchRecorded' | 'MatchResultCorrected' | 'MatchCancelled'
>;

/**
 * Matches by season and by team: results, corrections and cancellations. One primary
 * document per match stream and a copy under its season and under each team, moved when a
 * correction changes them. Version 2 keeps the venue.
 */
export const matchesProjection: Projection = {
  name: 'matches',
  version: 2,
  guardsRepeats: true,
  eventTypes: ['MatchScheduled', 'MatchRecorded', 'MatchResultCorrected', 'MatchCancelled'],
  reads: (event) => (matchEvent(event) ? [primary(event.aggregate_id)] : []),
  evolve(view: DocView, envelope: EventEnvelope): DocChanges {
    const event = matchEvent(envelope);
    if (!event) return {};
    const current = view.get(primary(event.aggregate_id)) as MatchDoc | undefined;
    if (current && current.version >= event.sequence) return {};
    const next = nextMatch(current, event);
    if (!next) return {};
    const puts: StoredDoc[] = [{ ...primary(event.aggregate_id), doc: next }];
    for (const k of indexKeys(next)) puts.push({ ...k, doc: next });
    const stale = current
      ? indexKeys(current).filter(
          (old) => !indexKeys(next).some((k) => k.pk === old.pk && k.sk === old.sk),
        )
      : [];
    return { put: puts, delete: stale };
  },
};

/** The event if the matches read model uses it: what it decides about every event type. */
function matchEvent(event: EventEnvelope): MatchEvent | undefined {
  switch (event.event_type) {
    case 'MatchScheduled':
    case 'MatchRecorded':
    case 'MatchResultCorrected':
    case 'MatchCancelled':
      return event;
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
      return undefined;
    default:
      return unhandled(event);
  }
}

function nextMatch(current: MatchDoc | undefined, event: MatchEvent): MatchDoc | undefined {
  const base = {
    match_id: event.data.match_id,
    aggregate_id: event.aggregate_id,
    version: event.sequence,
    corrections: current?.corrections ?? 0,
    cancellation_reason: null,
  };
  switch (event.event_type) {
    case 'MatchScheduled': {
      const d = event.data;
      return {
        ...base,
        season: d.season,
        played_on: d.scheduled_on,
        home_team: d.home_team,
        away_team: d.away_team,
        home_goals: null,
        away_goals: null,
        neutral: d.neutral,
        decided_by: null,
        venue: current?.venue ?? null,
        status: 'scheduled',
      };
    }
    case 'MatchRecorded':
    case 'MatchResultCorrected': {
      const d = event.data;
      const corrected = event.event_type === 'MatchResultCorrected';
      return {
        ...base,
        season: d.season,
        played_on: d.played_on,
        home_team: d.home_team,
        away_team: d.away_team,
        home_goals: d.home_goals,
        away_goals: d.away_goals,
        neutral: d.neutral,
        decided_by: d.decided_by,
        venue: d.venue ?? current?.venue ?? null,
        status: corrected ? 'corrected' : 'recorded',
        corrections: base.corrections + (corrected ? 1 : 0),
      };
    }
    case 'MatchCancelled':
      return current
        ? {
            ...current,
            status: 'cancelled',
            cancellation_reason: event.data.reason,
            version: event.sequence,
          }
        : undefined;
    default:
      return unhandled(event);
  }
}

/** The matches of a season, by day, all at once. */
export async function matchesOfSeason(store: DocumentStore, season: string): Promise<MatchDoc[]> {
  const matches: MatchDoc[] = [];
  for await (const page of seasonMatchPages(store, season)) matches.push(...page);
  return matches;
}

/** The matches of a season, by day, a page at a time (a season may hold 100,000 matches). */
export async function* seasonMatchPages(
  store: DocumentStore,
  season: string,
): AsyncGenerator<MatchDoc[]> {
  for await (const page of store.queryPages(`season#${season}`))
    yield page.map((d) => d.doc as unknown as MatchDoc);
}

/** The matches of a team (of one season if given), by day. */
export async function matchesOfTeam(
  store: DocumentStore,
  team: string,
  season?: string,
): Promise<MatchDoc[]> {
  const all = (await store.query(`team#${team}`)).map((d) => d.doc as unknown as MatchDoc);
  return season === undefined ? all : all.filter((m) => m.season === season);
}

/**
 * How far the read model has applied each of these match streams: the sequence of the last
 * event applied, by aggregate id (absent: nothing of that stream applied yet). The read model
 * never goes back, so a version seen here stays at least as high.
 * @example matchVersions(store, ['match:m1']) // Map { 'match:m1' => 2 }
 */
export async function matchVersions(
  store: DocumentStore,
  aggregateIds: readonly string[],
): Promise<Map<string, number>> {
  const found = await store.getMany([...new Set(aggregateIds)].map(primary));
  const versions = new Map<string, number>();
  for (const doc of found.values()) {
    const match = doc as unknown as MatchDoc;
    versions.set(match.aggregate_id, match.version);
  }
  return versions;
}
