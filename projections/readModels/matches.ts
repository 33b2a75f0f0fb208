import type { EventEnvelope } from '../../stream/EventEnvelope.js';
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

/**
 * Matches by season and by team: results, corrections and cancellations. One primary
 * document per match stream and a copy under its season and under each team, moved when a
 * correction changes them. Version 2 keeps the venue.
 */
export const matchesProjection: Projection = {
  name: 'matches',
  version: 2,
  eventTypes: ['MatchScheduled', 'MatchRecorded', 'MatchResultCorrected', 'MatchCancelled'],
  reads: (event) => [primary(event.aggregate_id)],
  evolve(view: DocView, event: EventEnvelope): DocChanges {
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

function nextMatch(current: MatchDoc | undefined, event: EventEnvelope): MatchDoc | undefined {
  const d = event.data;
  const base = {
    match_id: String(d.match_id),
    aggregate_id: event.aggregate_id,
    version: event.sequence,
    corrections: current?.corrections ?? 0,
    cancellation_reason: null,
  };
  switch (event.event_type) {
    case 'MatchScheduled':
      return {
        ...base,
        season: String(d.season),
        played_on: String(d.scheduled_on),
        home_team: String(d.home_team),
        away_team: String(d.away_team),
        home_goals: null,
        away_goals: null,
        neutral: Boolean(d.neutral),
        decided_by: null,
        venue: current?.venue ?? null,
        status: 'scheduled',
      };
    case 'MatchRecorded':
    case 'MatchResultCorrected': {
      const corrected = event.event_type === 'MatchResultCorrected';
      return {
        ...base,
        season: String(d.season),
        played_on: String(d.played_on),
        home_team: String(d.home_team),
        away_team: String(d.away_team),
        home_goals: Number(d.home_goals),
        away_goals: Number(d.away_goals),
        neutral: Boolean(d.neutral),
        decided_by: String(d.decided_by),
        venue: (d.venue as string | null | undefined) ?? current?.venue ?? null,
        status: corrected ? 'corrected' : 'recorded',
        corrections: base.corrections + (corrected ? 1 : 0),
      };
    }
    case 'MatchCancelled':
      return current
        ? {
            ...current,
            status: 'cancelled',
            cancellation_reason: (d.reason as string | null) ?? null,
            version: event.sequence,
          }
        : undefined;
    default:
      return undefined;
  }
}

/** The matches of a season, by day. */
export async function matchesOfSeason(store: DocumentStore, season: string): Promise<MatchDoc[]> {
  return (await store.query(`season#${season}`)).map((d) => d.doc as unknown as MatchDoc);
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
