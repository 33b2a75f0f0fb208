import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection } from '../Projection.js';

/** One match of a team's season, as it counts in the standings (version 1's item per team). */
export interface StandingLine {
  readonly team: string;
  readonly played_on: string;
  /** W, L or T; a match decided on penalty kicks is a tie. */
  readonly result: 'W' | 'L' | 'T';
  readonly goals_for: number;
  readonly goals_against: number;
}

/** A match as it counts in the standings: one item per match holds both teams' lines. */
export interface StandingMatch {
  readonly played_on: string;
  readonly home_team: string;
  readonly away_team: string;
  readonly home_goals: number;
  readonly away_goals: number;
  /** Level on goals, or decided on penalty kicks: a tie for both teams. */
  readonly tie: boolean;
}

/** Where a match counts: its season and teams, and the last sequence applied. */
interface MatchRef {
  readonly season: string;
  readonly home_team: string;
  readonly away_team: string;
  readonly counted: boolean;
  readonly version: number;
  /**
   * `match`: it counts as one item per match (version 2). Absent: version 1 wrote it, and the
   * match counts as a line per team, until a rebuild replaces that generation.
   */
  readonly layout?: 'match';
}

const refKey = (aggregateId: string): DocKey => ({ pk: `ref#${aggregateId}`, sk: '-' });
/** A match's item in its season's standings: written only by that match's stream. */
const matchKey = (season: string, aggregateId: string): DocKey => ({
  pk: `season#${season}`,
  sk: aggregateId,
});
/** Version 1's line of a team for one match, which a generation it built still holds. */
const teamLineKey = (season: string, team: string, aggregateId: string): DocKey => ({
  pk: `season#${season}`,
  sk: `${team}\u0000${aggregateId}`,
});

/** What a match counts as now, per its reference: its item, or version 1's team lines. */
function countedKeys(ref: MatchRef | undefined, aggregateId: string): DocKey[] {
  if (!ref?.counted) return [];
  if (ref.layout === 'match') return [matchKey(ref.season, aggregateId)];
  return [ref.home_team, ref.away_team].map((team) => teamLineKey(ref.season, team, aggregateId));
}

/** The events that decide how a match counts. */
type ResultEvent = EventEnvelope<'MatchRecorded' | 'MatchResultCorrected' | 'MatchCancelled'>;

/**
 * Standings per season: one item per match that counts, under its season, with both teams'
 * goals (a correction replaces it, moving it if the season changed; a cancellation removes
 * it), and a reference per match stream saying where it counts. Every document is written by
 * the one match stream it comes from, so consumers working on several shards at once never
 * overwrite each other; totals, conferences and as-of dates are worked out when asked.
 * Version 2 keeps one item per match where version 1 kept one per team and match: two items
 * written per result instead of three, and half the items read for a season.
 */
export const standingsProjection: Projection = {
  name: 'standings',
  version: 2,
  guardsRepeats: true,
  eventTypes: ['MatchRecorded', 'MatchResultCorrected', 'MatchCancelled'],
  reads: (event) => (resultEvent(event) ? [refKey(event.aggregate_id)] : []),
  evolve(view: DocView, envelope: EventEnvelope): DocChanges {
    const event = resultEvent(envelope);
    if (!event) return {};
    const ref = view.get(refKey(event.aggregate_id)) as MatchRef | undefined;
    if (ref && ref.version >= event.sequence) return {};
    const counted = countedKeys(ref, event.aggregate_id);
    if (event.event_type === 'MatchCancelled') {
      const next: MatchRef = {
        ...(ref ?? { season: '', home_team: '', away_team: '' }),
        counted: false,
        version: event.sequence,
        layout: 'match',
      };
      return { put: [{ ...refKey(event.aggregate_id), doc: next }], delete: counted };
    }
    const d = event.data;
    const line: StandingMatch = {
      played_on: d.played_on,
      home_team: d.home_team,
      away_team: d.away_team,
      home_goals: d.home_goals,
      away_goals: d.away_goals,
      tie: d.home_goals === d.away_goals || d.decided_by === 'penalties',
    };
    const next: MatchRef = {
      season: d.season,
      home_team: d.home_team,
      away_team: d.away_team,
      counted: true,
      version: event.sequence,
      layout: 'match',
    };
    const item = matchKey(d.season, event.aggregate_id);
    return {
      put: [
        { ...refKey(event.aggregate_id), doc: next },
        { ...item, doc: line },
      ],
      // A correction in the same season overwrites the item; into another season it moves.
      delete: counted.filter((k) => k.pk !== item.pk || k.sk !== item.sk),
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

/** Whether any match of the season counts in the standings: one has a result. */
export async function hasResults(store: DocumentStore, season: string): Promise<boolean> {
  for await (const page of store.queryPages(`season#${season}`)) if (page.length > 0) return true;
  return false;
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
  type Totals = { w: number; l: number; t: number; gf: number; ga: number };
  const totals = new Map<string, Totals>();
  const count = (team: string, gf: number, ga: number, result: 'W' | 'L' | 'T') => {
    const t = totals.get(team) ?? { w: 0, l: 0, t: 0, gf: 0, ga: 0 };
    if (result === 'W') t.w++;
    else if (result === 'L') t.l++;
    else t.t++;
    t.gf += gf;
    t.ga += ga;
    totals.set(team, t);
  };
  // A page at a time: a season of 10,000 teams holds 103,000 matches.
  for await (const page of store.queryPages(`season#${season}`))
    for (const item of page) {
      const doc = item.doc as StandingMatch | StandingLine;
      if (options.asOf !== undefined && doc.played_on > options.asOf) continue;
      if ('team' in doc) {
        // A generation version 1 built: a line per team, until it is rebuilt.
        count(doc.team, doc.goals_for, doc.goals_against, doc.result);
        continue;
      }
      const home = doc.tie ? 'T' : doc.home_goals > doc.away_goals ? 'W' : 'L';
      const away = home === 'T' ? 'T' : home === 'W' ? 'L' : 'W';
      count(doc.home_team, doc.home_goals, doc.away_goals, home);
      count(doc.away_team, doc.away_goals, doc.home_goals, away);
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
    const rows = byConference.get(conference);
    if (rows) rows.push(row);
    else byConference.set(conference, [row]);
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
