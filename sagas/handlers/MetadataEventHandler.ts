import DataLoader from 'dataloader';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { type DocKey, keyString, type StoredDoc } from '../../projections/Projection.js';
import { getTeams, type TeamDoc, teamsProjection } from '../../projections/readModels/teams.js';
import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';
import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import { envelopeFromJson } from '../../stream/eventStore/Commit.js';
import { Mutex } from '../../stream/Mutex.js';
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
  /**
   * The handler reads one team and writes one document per event, and a bus delivers many
   * events at once (8 at a time in the embedded runtime, where a season's registrations all
   * arrive while `start`'s buses catch up): the reads asked for together go as one read, and
   * the writes as one write, nothing remembered between them. At 330 teams that took the
   * directory's requests from 660 to 86 (bench/README.md, "Memory by phase").
   */
  private readonly teams: DataLoader<string, TeamDoc | undefined>;
  private readonly writes: DataLoader<DirectoryWrite, void>;

  constructor(private readonly options: MetadataEventHandlerOptions) {
    const together = {
      cache: false,
      batchScheduleFn: (dispatch: () => void) => setImmediate(dispatch),
    };
    this.teams = new DataLoader(
      async (ids) => {
        const found = await getTeams(options.directory, ids);
        return ids.map((id) => found.get(id));
      },
      { ...together, maxBatchSize: 100 },
    );
    this.writes = new DataLoader(
      async (writes) => {
        try {
          await writeTogether(options.directory, writes);
          return writes.map(() => undefined);
        } catch (error) {
          if (writes.length === 1) throw error;
          // Each event fails for its own write only (the bus retries, then dead-letters, just
          // that one): the writes go again one at a time, in the order asked for.
          const outcomes: (Error | undefined)[] = [];
          for (const w of writes)
            outcomes.push(
              await options.directory.write(w.puts, w.deletes).then(
                () => undefined,
                (failed: unknown) => (failed instanceof Error ? failed : new Error(String(failed))),
              ),
            );
          return outcomes;
        }
      },
      { ...together, maxBatchSize: 25 },
    );
  }

  /**
   * One turn at a time per team, for the events of that team under way: a team's events handed
   * over together (a bus hands a handler what it routes together, and they are handled at
   * once) are applied one after the other, in the order handed over, each reading what the one
   * before wrote. Read together, an update would miss its team's registration: the directory
   * would lose what the registration said (its conference), and a division change would go
   * unnoticed. Other teams' events still go together.
   */
  private readonly turns = new Map<string, { readonly mutex: Mutex; waiting: number }>();

  readonly handle = async (event: BusEvent): Promise<void> => {
    const delivered = envelopeFromJson(event.detail, this.options.registry);
    const envelope = delivered && teamEvent(delivered);
    if (!envelope) return;
    this.stats.events++;
    const teamId = envelope.data.team_id;
    const turn = this.turns.get(teamId) ?? { mutex: new Mutex(), waiting: 0 };
    this.turns.set(teamId, turn);
    turn.waiting++;
    try {
      await turn.mutex.run(() => this.apply(envelope, delivered.replayed === true));
    } finally {
      if (--turn.waiting === 0) this.turns.delete(teamId);
    }
  };

  /** One team event: the directory's document evolved, and a recalculation for a division change. */
  private async apply(envelope: TeamEvent, replayed: boolean): Promise<void> {
    const teamId = envelope.data.team_id;
    const before = await this.teams.load(teamId);
    // The teams projection, evolved from the document just read: one read, one write.
    const changes = teamsProjection.evolve({ get: () => before }, envelope);
    if (changes.put || changes.delete)
      await this.writes.load({ puts: changes.put ?? [], deletes: changes.delete ?? [] });
    const after = changes.put?.[0]?.doc as TeamDoc | undefined;
    const moved =
      envelope.event_type === 'TeamMetadataUpdated' &&
      before !== undefined &&
      after !== undefined &&
      before.division !== after.division;
    if (!moved || replayed) return;
    this.stats.division_changes++;
    for (const season of await cachedSeasons(this.options.cache)) {
      this.stats.requests++;
      await this.options.requests.request(
        season,
        `${teamId} moved from division ${before.division ?? '(none)'} to ${after.division ?? '(none)'}`,
      );
    }
  }
}

/** What one event writes to the directory. */
interface DirectoryWrite {
  readonly puts: readonly StoredDoc[];
  readonly deletes: readonly DocKey[];
}

/**
 * The writes of events delivered together, as few writes of the store as their keys allow: a
 * write names each key once, so two events of one team go in two writes, in the order they
 * were asked for, as they would have alone.
 */
async function writeTogether(
  directory: DocumentStore,
  writes: readonly DirectoryWrite[],
): Promise<void> {
  let rest = writes;
  while (rest.length > 0) {
    const keys = new Set<string>();
    const now: DirectoryWrite[] = [];
    const later: DirectoryWrite[] = [];
    for (const write of rest) {
      const own = [...write.puts, ...write.deletes].map(keyString);
      // Once a write waits, every later one waits too: their order stays the order asked for.
      if (later.length > 0 || own.some((k) => keys.has(k))) later.push(write);
      else {
        for (const k of own) keys.add(k);
        now.push(write);
      }
    }
    await directory.write(
      now.flatMap((w) => w.puts),
      now.flatMap((w) => w.deletes),
    );
    rest = later;
  }
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
