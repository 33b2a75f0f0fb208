import type { EventData } from '../schemas/events.js';
import { type EventEnvelope, unhandled } from '../stream/EventEnvelope.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { ConcurrencyError } from '../stream/StoreError.js';
import { uuidFromName } from '../stream/uuid.js';
import { teamAggregateId } from './matchEvents.js';

/** A team's metadata as the team metadata manager keeps it. */
export interface TeamMetadata {
  readonly team: string;
  readonly conference?: string | null;
  readonly division?: string | null;
  readonly region?: string | null;
}

/** What happened to one team. */
export type TeamChange =
  | { readonly team: string; readonly outcome: 'registered' }
  | { readonly team: string; readonly outcome: 'updated'; readonly changed: readonly string[] }
  | { readonly team: string; readonly outcome: 'unchanged' };

const FIELDS = ['conference', 'division', 'region'] as const;

/**
 * The team metadata manager: a team not seen before appends `TeamRegistered` with its
 * metadata; a known team whose conference, division or region differ appends
 * `TeamMetadataUpdated` with the changed fields (the rest null, meaning unchanged); the same
 * metadata again appends nothing. Fields left undefined are not touched. Concurrent writers
 * are handled by the stream's version: the loser reads again and decides again.
 */
export async function applyTeamMetadata(
  store: EventStore,
  metadata: TeamMetadata,
  correlationId: string,
): Promise<TeamChange> {
  const id = teamAggregateId(metadata.team);
  for (let round = 0; round < 5; round++) {
    const history = await store.read(id);
    try {
      if (history.length === 0) {
        await store.append(id, 0, [
          {
            event_type: 'TeamRegistered',
            event_id: uuidFromName(`${id}#1#TeamRegistered`),
            correlation_id: correlationId,
            data: {
              team_id: metadata.team,
              name: metadata.team,
              conference: metadata.conference ?? null,
              division: metadata.division ?? null,
              region: metadata.region ?? null,
            },
          },
        ]);
        return { team: metadata.team, outcome: 'registered' };
      }
      const current = currentMetadata(history);
      const changed = FIELDS.filter(
        (f) => metadata[f] !== undefined && metadata[f] !== null && metadata[f] !== current[f],
      );
      if (changed.length === 0) return { team: metadata.team, outcome: 'unchanged' };
      const version = history.at(-1)?.sequence ?? 0;
      const change = (f: (typeof FIELDS)[number]) =>
        changed.includes(f) ? (metadata[f] ?? null) : null;
      const data: EventData<'TeamMetadataUpdated'> = {
        team_id: metadata.team,
        name: null,
        conference: change('conference'),
        division: change('division'),
        region: change('region'),
      };
      // The id names the change: the same change retried is recognised, a different one
      // racing for the same place is refused (and decided again).
      await store.append(id, version, [
        {
          event_type: 'TeamMetadataUpdated',
          event_id: uuidFromName(`${id}#${version + 1}#${JSON.stringify(data)}`),
          correlation_id: correlationId,
          data,
        },
      ]);
      return { team: metadata.team, outcome: 'updated', changed };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
    }
  }
  throw new Error(`team ${metadata.team}: its stream kept changing under this update`);
}

/** A team's conference, division and region, folded from its stream. */
function currentMetadata(events: readonly EventEnvelope[]) {
  const current: Record<(typeof FIELDS)[number], string | null> = {
    conference: null,
    division: null,
    region: null,
  };
  for (const event of events) {
    switch (event.event_type) {
      case 'TeamRegistered':
      case 'TeamMetadataUpdated':
        for (const f of FIELDS) current[f] = event.data[f] ?? current[f];
        break;
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
        break;
      default:
        unhandled(event);
    }
  }
  return current;
}
