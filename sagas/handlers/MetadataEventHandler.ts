import type { DocumentStore } from '../../projections/DocumentStore.js';
import { getTeam, type TeamDoc, teamsProjection } from '../../projections/readModels/teams.js';
import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';
import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import { envelopeFromJson } from '../../stream/eventStore/Commit.js';
import { cachedSeasons } from '../rpi/rankingsCache.js';
import type { RecalculationRequests } from './RecalculationRequests.js';

/** The rule of the `MetadataEventHandler` on the `metadata` bus. */
export const METADATA_EVENTS_PATTERN = {
  source: ['matchstream.metadata'],
  'detail-type': ['TeamRegistered', 'TeamMetadataUpdated'],
} as const;

export interface MetadataEventHandlerOptions {
  /** The team directory the RPI saga filters divisions by. */
  readonly directory: DocumentStore;
  /** The rankings cache: its seasons are the ones a division change recalculates. */
  readonly cache: DocumentStore;
  readonly requests: RecalculationRequests;
  /** Reads the envelopes the bus delivers. */
  readonly registry: SchemaRegistry;
}

/** The events of a team's stream. */
type TeamEvent = EventEnvelope<'TeamRegistered' | 'TeamMetadataUpdated'>;

/**
 * The `MetadataEventHandler`: keeps the team directory current (the teams projection, applied
 * to what the `metadata` bus delivers; repeats change nothing) and, when a team changes
 * division, asks for a recalculation of every season with published rankings, since the
 * division decides which games count. Replayed events rebuild the directory and request
 * nothing.
 */
export class MetadataEventHandler {
  readonly stats = { events: 0, division_changes: 0, requests: 0 };
  constructor(private readonly options: MetadataEventHandlerOptions) {}

  readonly handle = async (event: BusEvent): Promise<void> => {
    const delivered = envelopeFromJson(event.detail, this.options.registry);
    const envelope = delivered && teamEvent(delivered);
    if (!envelope) return;
    this.stats.events++;
    const teamId = envelope.data.team_id;
    const before = await getTeam(this.options.directory, teamId);
    // The teams projection, evolved from the document just read: one read, one write.
    const changes = teamsProjection.evolve({ get: () => before }, envelope);
    if (changes.put || changes.delete)
      await this.options.directory.write(changes.put ?? [], changes.delete ?? []);
    const after = changes.put?.[0]?.doc as TeamDoc | undefined;
    const moved =
      envelope.event_type === 'TeamMetadataUpdated' &&
      before !== undefined &&
      after !== undefined &&
      before.division !== after.division;
    if (!moved || delivered.replayed) return;
    this.stats.division_changes++;
    for (const season of await cachedSeasons(this.options.cache)) {
      this.stats.requests++;
      await this.options.requests.request(
        season,
        `${teamId} moved from division ${before.division ?? '(none)'} to ${after.division ?? '(none)'}`,
      );
    }
  };
}

/** The event if it changes the team directory: what the handler decides about every event type. */
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
