import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import {
  type DocChanges,
  type DocKey,
  type DocView,
  keyString,
  type Projection,
} from '../Projection.js';

/** A team of the directory. */
export interface TeamDoc {
  readonly team_id: string;
  readonly name: string;
  readonly conference: string | null;
  readonly division: string | null;
  readonly region: string | null;
  readonly registered_at: string;
  readonly updated_at: string;
  /** Last sequence of the team's stream applied. */
  readonly version: number;
}

const key = (teamId: string): DocKey => ({ pk: 'team', sk: teamId });

/** The events of a team's stream. */
type TeamEvent = EventEnvelope<'TeamRegistered' | 'TeamMetadataUpdated'>;

/** The team directory: one document per team, from `TeamRegistered` and `TeamMetadataUpdated`. */
export const teamsProjection: Projection = {
  name: 'teams',
  version: 1,
  guardsRepeats: true,
  eventTypes: ['TeamRegistered', 'TeamMetadataUpdated'],
  reads: (envelope) => {
    const event = teamEvent(envelope);
    return event ? [key(event.data.team_id)] : [];
  },
  evolve(view: DocView, envelope: EventEnvelope): DocChanges {
    const event = teamEvent(envelope);
    if (!event) return {};
    const k = key(event.data.team_id);
    const current = view.get(k) as TeamDoc | undefined;
    if (current && current.version >= event.sequence) return {};
    return { put: [{ ...k, doc: nextTeam(current, event) }] };
  },
};

/** The event if the directory uses it: what it decides about every event type. */
function teamEvent(event: EventEnvelope): TeamEvent | undefined {
  switch (event.event_type) {
    case 'TeamRegistered':
    case 'TeamMetadataUpdated':
      return event;
    case 'MatchScheduled':
    case 'MatchRecorded':
    case 'MatchResultCorrected':
    case 'MatchCancelled':
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

function nextTeam(current: TeamDoc | undefined, event: TeamEvent): TeamDoc {
  const d = event.data;
  // An update of a team with no document yet registers it with what the update says.
  if (event.event_type === 'TeamRegistered' || !current) {
    return {
      team_id: d.team_id,
      name: d.name ?? d.team_id,
      conference: d.conference,
      division: d.division,
      region: d.region,
      registered_at: event.timestamp,
      updated_at: event.timestamp,
      version: event.sequence,
    };
  }
  return {
    ...current,
    name: d.name ?? current.name,
    conference: d.conference ?? current.conference,
    division: d.division ?? current.division,
    region: d.region ?? current.region ?? null,
    updated_at: event.timestamp,
    version: event.sequence,
  };
}

/** Every team, by id. */
export async function listTeams(store: DocumentStore): Promise<TeamDoc[]> {
  return (await store.query('team')).map((d) => d.doc as unknown as TeamDoc);
}

/** One team, or undefined. */
export async function getTeam(store: DocumentStore, teamId: string): Promise<TeamDoc | undefined> {
  return (await getTeams(store, [teamId])).get(teamId);
}

/** These teams, by id (absent ones absent), in one read. */
export async function getTeams(
  store: DocumentStore,
  teamIds: readonly string[],
): Promise<Map<string, TeamDoc>> {
  const found = await store.getMany([...new Set(teamIds)].map(key));
  const teams = new Map<string, TeamDoc>();
  for (const id of teamIds) {
    const doc = found.get(keyString(key(id)));
    if (doc) teams.set(id, doc as unknown as TeamDoc);
  }
  return teams;
}
