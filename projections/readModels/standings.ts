import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection, StoredDoc } from '../Projection.js';

/** One match in a team's standings. */
export interface StandingMatch {
  readonly played_on: string;
  /** W, L or T; a match decided on penalty kicks is a tie. */
  readonly result: 'W' | 'L' | 'T';
  readonly goals_for: number;
  readonly goals_against: number;
}

/** A team's season: the matches that count, by match stream. */
export interface StandingDoc {
  readonly season: string;
  readonly team: string;
  readonly matches: Readonly<Record<string, StandingMatch>>;
}

/** Where a match currently counts: its season and teams, and the last sequence applied. */
interface MatchRef {
  readonly season: string;
  readonly home_team: string;
  readonly away_team: string;
  readonly counted: boolean;
  readonly version: number;
}

const refKey = (aggregateId: string): DocKey => ({ pk: `ref#${aggregateId}`, sk: '-' });
const standingKey = (season: string, team: string): DocKey => ({
  pk: `season#${season}`,
  sk: team,
});

/**
 * Standings per season: for each team, every match it played (so a correction or a
 * cancellation replaces or removes that match's line, and repeating an event changes
 * nothing). Totals, conferences and as-of dates are worked out when asked.
 */
export const standingsProjection: Projection = {
  name: 'standings',
  version: 1,
  eventTypes: ['MatchRecorded', 'MatchResultCorrected', 'MatchCancelled'],
  reads(event, view) {
    const keys: DocKey[] = [refKey(event.aggregate_id)];
    const ref = view.get(refKey(event.aggregate_id)) as MatchRef | undefined;
    if (ref)
      keys.push(standingKey(ref.season, ref.home_team), standingKey(ref.season, ref.away_team));
    if (event.event_type !== 'MatchCancelled') {
      const d = event.data;
      keys.push(
        standingKey(String(d.season), String(d.home_team)),
        standingKey(String(d.season), String(d.away_team)),
      );
    }
    return keys;
  },
  evolve(view: DocView, event: EventEnvelope): DocChanges {
    const ref = view.get(refKey(event.aggregate_id)) as MatchRef | undefined;
    if (ref && ref.version >= event.sequence) return {};
    const docs = new Map<string, StandingDoc>();
    const doc = (season: string, team: string): StandingDoc => {
      const k = `${season}\u0000${team}`;
      const existing =
        docs.get(k) ?? (view.get(standingKey(season, team)) as StandingDoc | undefined);
      const found = existing ?? { season, team, matches: {} };
      docs.set(k, found);
      return found;
    };
    const without = (d: StandingDoc): StandingDoc => {
      const { [event.aggregate_id]: _, ...rest } = d.matches;
      return { ...d, matches: rest };
    };
    // Take the match out of wherever it counted, then put it where it counts now.
    if (ref?.counted) {
      for (const team of [ref.home_team, ref.away_team]) {
        const d = doc(ref.season, team);
        docs.set(`${ref.season}\u0000${team}`, without(d));
      }
    }
    let next: MatchRef;
    if (event.event_type === 'MatchCancelled') {
      next = {
        ...(ref ?? { season: '', home_team: '', away_team: '' }),
        counted: false,
        version: event.sequence,
      };
    } else {
      const d = event.data;
      const season = String(d.season);
      const home = String(d.home_team);
      const away = String(d.away_team);
      const hg = Number(d.home_goals);
      const ag = Number(d.away_goals);
      const tie = hg === ag || d.decided_by === 'penalties';
      const line = (gf: number, ga: number, won: boolean): StandingMatch => ({
        played_on: String(d.played_on),
        result: tie ? 'T' : won ? 'W' : 'L',
        goals_for: gf,
        goals_against: ga,
      });
      const h = doc(season, home);
      docs.set(`${season}\u0000${home}`, {
        ...h,
        matches: { ...h.matches, [event.aggregate_id]: line(hg, ag, hg > ag) },
      });
      const a = doc(season, away);
      docs.set(`${season}\u0000${away}`, {
        ...a,
        matches: { ...a.matches, [event.aggregate_id]: line(ag, hg, ag > hg) },
      });
      next = { season, home_team: home, away_team: away, counted: true, version: event.sequence };
    }
    const puts: StoredDoc[] = [{ ...refKey(event.aggregate_id), doc: next }];
    for (const d of docs.values()) puts.push({ ...standingKey(d.season, d.team), doc: d });
    return { put: puts };
  },
};

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
  const rows = (await store.query(`season#${season}`)).map((d) =>
    row(d.doc as unknown as StandingDoc, options),
  );
  const byConference = new Map<string | null, StandingRow[]>();
  for (const r of rows) {
    if (r.played === 0) continue;
    byConference.set(r.conference, [...(byConference.get(r.conference) ?? []), r]);
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

function row(
  doc: StandingDoc,
  options: { asOf?: string; conferenceOf?: (team: string) => string | null },
): StandingRow {
  let wins = 0;
  let losses = 0;
  let ties = 0;
  let gf = 0;
  let ga = 0;
  for (const m of Object.values(doc.matches)) {
    if (options.asOf !== undefined && m.played_on > options.asOf) continue;
    if (m.result === 'W') wins++;
    else if (m.result === 'L') losses++;
    else ties++;
    gf += m.goals_for;
    ga += m.goals_against;
  }
  return {
    team: doc.team,
    conference: options.conferenceOf?.(doc.team) ?? null,
    played: wins + losses + ties,
    wins,
    losses,
    ties,
    goals_for: gf,
    goals_against: ga,
    goal_difference: gf - ga,
    points: 3 * wins + ties,
  };
}
