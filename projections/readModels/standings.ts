import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection, StoredDoc } from '../Projection.js';

/** One match of a team's season, as it counts in the standings. */
export interface StandingLine {
  readonly team: string;
  readonly played_on: string;
  /** W, L or T; a match decided on penalty kicks is a tie. */
  readonly result: 'W' | 'L' | 'T';
  readonly goals_for: number;
  readonly goals_against: number;
}

/** Where a match counts: its season and teams, and the last sequence applied. */
interface MatchRef {
  readonly season: string;
  readonly home_team: string;
  readonly away_team: string;
  readonly counted: boolean;
  readonly version: number;
}

const refKey = (aggregateId: string): DocKey => ({ pk: `ref#${aggregateId}`, sk: '-' });
/** A team's line for one match: one item per (season, team, match), written only by that match. */
const lineKey = (season: string, team: string, aggregateId: string): DocKey => ({
  pk: `season#${season}`,
  sk: `${team}\u0000${aggregateId}`,
});

/** The events that decide how a match counts. */
type ResultEvent = EventEnvelope<'MatchRecorded' | 'MatchResultCorrected' | 'MatchCancelled'>;

/**
 * Standings per season: for each team, one line per match it played (a correction replaces
 * the lines, a cancellation removes them). Every document is written by the one match stream
 * it comes from, so consumers working on several shards at once never overwrite each
 * other; totals, conferences and as-of dates are worked out when asked.
 */
export const standingsProjection: Projection = {
  name: 'standings',
  version: 1,
  eventTypes: ['MatchRecorded', 'MatchResultCorrected', 'MatchCancelled'],
  reads: (event) => (resultEvent(event) ? [refKey(event.aggregate_id)] : []),
  evolve(view: DocView, envelope: EventEnvelope): DocChanges {
    const event = resultEvent(envelope);
    if (!event) return {};
    const ref = view.get(refKey(event.aggregate_id)) as MatchRef | undefined;
    if (ref && ref.version >= event.sequence) return {};
    const stale: DocKey[] = ref?.counted
      ? [ref.home_team, ref.away_team].map((team) => lineKey(ref.season, team, event.aggregate_id))
      : [];
    if (event.event_type === 'MatchCancelled') {
      const next = {
        ...(ref ?? { season: '', home_team: '', away_team: '' }),
        counted: false,
        version: event.sequence,
      };
      return { put: [{ ...refKey(event.aggregate_id), doc: next }], delete: stale };
    }
    const d = event.data;
    const tie = d.home_goals === d.away_goals || d.decided_by === 'penalties';
    const line = (team: string, gf: number, ga: number): StoredDoc => ({
      ...lineKey(d.season, team, event.aggregate_id),
      doc: {
        team,
        played_on: d.played_on,
        result: tie ? 'T' : gf > ga ? 'W' : 'L',
        goals_for: gf,
        goals_against: ga,
      } satisfies StandingLine,
    });
    const puts = [
      line(d.home_team, d.home_goals, d.away_goals),
      line(d.away_team, d.away_goals, d.home_goals),
    ];
    const next: MatchRef = {
      season: d.season,
      home_team: d.home_team,
      away_team: d.away_team,
      counted: true,
      version: event.sequence,
    };
    return {
      put: [{ ...refKey(event.aggregate_id), doc: next }, ...puts],
      delete: stale.filter((k) => !puts.some((p) => p.pk === k.pk && p.sk === k.sk)),
    };
  },
};

/** The event if the standings use it: what they decide about every event type. */
function resultEvent(event: EventEnvelope): ResultEvent | undefined {
  switch (event.event_type) {
    case 'MatchRecorded':
    case 'MatchResultCorrected':
    case 'MatchCancelled':
      return event;
    // A scheduled match counts once it has a result.
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
      return undefined;
    default:
      return unhandled(event);
  }
}

/** A team's line in the standings. */
export interface StandingRow {
  readonly team: string;
  readonly conference: string | null;
  readonly played: number;
  readonly wins: number;
  readonly losses: number;
  readonly ties: number;
  readonly goals_for: number;
  readonly goals_against: number;
  readonly goal_difference: number;
  /** 3 a win, 1 a tie. */
  readonly points: number;
}

/**
 * The standings of a season (as of a day, if given): per conference, best first by points,
 * then goal difference, then goals for, then name. `conferenceOf` comes from the team directory.
 */
export async function standings(
  store: DocumentStore,
  season: string,
  options: { asOf?: string; conferenceOf?: (team: string) => string | null } = {},
): Promise<{ conference: string | null; teams: StandingRow[] }[]> {
  const totals = new Map<string, { w: number; l: number; t: number; gf: number; ga: number }>();
  for (const item of await store.query(`season#${season}`)) {
    const line = item.doc as StandingLine;
    if (options.asOf !== undefined && line.played_on > options.asOf) continue;
    const t = totals.get(line.team) ?? { w: 0, l: 0, t: 0, gf: 0, ga: 0 };
    if (line.result === 'W') t.w++;
    else if (line.result === 'L') t.l++;
    else t.t++;
    t.gf += line.goals_for;
    t.ga += line.goals_against;
    totals.set(line.team, t);
  }
  const byConference = new Map<string | null, StandingRow[]>();
  for (const [team, t] of totals) {
    const conference = options.conferenceOf?.(team) ?? null;
    const row: StandingRow = {
      team,
      conference,
      played: t.w + t.l + t.t,
      wins: t.w,
      losses: t.l,
      ties: t.t,
      goals_for: t.gf,
      goals_against: t.ga,
      goal_difference: t.gf - t.ga,
      points: 3 * t.w + t.t,
    };
    byConference.set(conference, [...(byConference.get(conference) ?? []), row]);
  }
  return [...byConference]
    .sort(([a], [b]) => (a ?? '\uffff').localeCompare(b ?? '\uffff'))
    .map(([conference, teams]) => ({
      conference,
      teams: teams.sort(
        (x, y) =>
          y.points - x.points ||
          y.goal_difference - x.goal_difference ||
          y.goals_for - x.goals_for ||
          x.team.localeCompare(y.team),
      ),
    }));
}
