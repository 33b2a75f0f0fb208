import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocKey, DocView, Projection } from '../Projection.js';

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

/** The team directory: one document per team, from `TeamRegistered` and `TeamMetadataUpdated`. */
export const teamsProjection: Projection = {
  name: 'teams',
  version: 1,
  eventTypes: ['TeamRegistered', 'TeamMetadataUpdated'],
  reads: (event) => [key(String(event.data.team_id))],
  evolve(view: DocView, event: EventEnvelope) {
    const k = key(String(event.data.team_id));
    const current = view.get(k) as TeamDoc | undefined;
    if (current && current.version >= event.sequence) return {};
    const d = event.data;
    const next: TeamDoc =
      event.event_type === 'TeamRegistered' || !current
        ? {
            team_id: String(d.team_id),
            name: String(d.name ?? d.team_id),
            conference: (d.conference as string | null) ?? null,
            division: (d.division as string | null) ?? null,
            region: (d.region as string | null) ?? null,
            registered_at: event.timestamp,
            updated_at: event.timestamp,
            version: event.sequence,
          }
        : {
            ...current,
            name: (d.name as string | null) ?? current.name,
            conference: (d.conference as string | null) ?? current.conference,
            division: (d.division as string | null) ?? current.division,
            region: (d.region as string | null) ?? current.region ?? null,
            updated_at: event.timestamp,
            version: event.sequence,
          };
    return { put: [{ ...k, doc: next }] };
  },
};

/** Every team, by id. */
export async function listTeams(store: DocumentStore): Promise<TeamDoc[]> {
  return (await store.query('team')).map((d) => d.doc as unknown as TeamDoc);
}

/** One team, or undefined. */
export async function getTeam(store: DocumentStore, teamId: string): Promise<TeamDoc | undefined> {
  const k = key(teamId);
  return (await store.getMany([k])).get(`${k.pk}\u0000${k.sk}`) as TeamDoc | undefined;
}
