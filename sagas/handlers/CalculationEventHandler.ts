import type { DocumentStore } from '../../projections/DocumentStore.js';
import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { deliveredEnvelope } from '../../stream/buses/claimCheck.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';
import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { calculationState } from '../rpi/calculationStream.js';
import { notificationsPk, type RankNotification } from './notifications.js';

/** The rule of the `CalculationEventHandler` on the `calculation` bus. */
export const CALCULATION_EVENTS_PATTERN = {
  source: ['matchstream.calculation'],
  'detail-type': ['RpiResultsPublished', 'RpiResultsRetracted'],
} as const;

/** How many places the notifications watch. */
export const WATCHED_PLACES = 25;

interface TopDoc {
  readonly calculation_id: string;
  readonly at: string;
  readonly top: readonly { team: string; rank: number; rpi: number | null }[];
  /** The top it replaced, so a retraction can bring it back (one level). */
  readonly previous: Omit<TopDoc, 'previous'> | null;
}

const topKey = (season: string) => ({ pk: `top#${season}`, sk: 'current' });

/**
 * How long a notification is kept after the calculation it announces: a year, so a season's
 * feed stays readable until the same season comes round again.
 */
export const NOTIFICATION_DAYS = 365;

export interface CalculationEventHandlerOptions {
  /** The calculations (their rankings are in `RpiCalculated`). */
  readonly store: EventStore;
  /** Where the notifications and the current top 25 per season are kept. */
  readonly notifications: DocumentStore;
  /**
   * The profile and division of each season's current rankings: only their calculations of the
   * whole season move the top 25 (one as of a day, or of another profile or division, does not).
   */
  readonly current: { readonly profile: string; readonly division: string | null };
  /** Reads the envelopes the bus delivers. */
  readonly registry: SchemaRegistry;
}

/** The events that change what a season's rankings announce. */
type PublicationEvent = EventEnvelope<'RpiResultsPublished' | 'RpiResultsRetracted'>;

/**
 * The `CalculationEventHandler`: for each published calculation of a season's current rankings
 * (the whole season, in the season's profile and division), one notification per team
 * whose place in the top 25 changed (entered, moved, left), against the top of the previous
 * publication; a retraction is noted and brings the previous top back. Keys derive from the
 * calculation and team, so a redelivered event writes the same entries again.
 */
export class CalculationEventHandler {
  readonly stats = { published: 0, retracted: 0, notifications: 0, other_scopes: 0 };

  constructor(private readonly options: CalculationEventHandlerOptions) {}

  readonly handle = async (event: BusEvent): Promise<void> => {
    const delivered = await deliveredEnvelope(
      event.detail,
      this.options.registry,
      this.options.store,
    );
    const envelope = delivered && publicationEvent(delivered);
    if (!envelope) return;
    const calculationId = envelope.data.calculation_id;
    const season = envelope.data.season;
    const current = await this.top(season);
    if (envelope.event_type === 'RpiResultsPublished') {
      if (current?.calculation_id === calculationId) return; // seen already
      const state = await calculationState(this.options.store, calculationId);
      if (!state.published || state.retracted) return; // retracted since: nothing to announce
      const { profile, division } = this.options.current;
      if (state.asOf !== null || state.profile !== profile || state.division !== division) {
        this.stats.other_scopes++;
        return;
      }
      const at = envelope.data.published_at;
      const top = state.rankings.flatMap((r) =>
        r.rank !== null && r.rank <= WATCHED_PLACES
          ? [{ team: r.team, rank: r.rank, rpi: r.rpi }]
          : [],
      );
      const before = new Map((current?.top ?? []).map((t) => [t.team, t.rank]));
      const notes: RankNotification[] = [];
      for (const t of top) {
        const previous = before.get(t.team);
        if (previous === t.rank) continue;
        notes.push({
          season,
          kind: previous === undefined ? 'entered' : 'rank-changed',
          team: t.team,
          rank: t.rank,
          previous_rank: previous ?? null,
          rpi: t.rpi,
          calculation_id: calculationId,
          at,
        });
      }
      const now = new Set(top.map((t) => t.team));
      for (const [team, rank] of before) {
        if (now.has(team)) continue;
        notes.push({
          season,
          kind: 'left',
          team,
          rank: null,
          previous_rank: rank,
          rpi: null,
          calculation_id: calculationId,
          at,
        });
      }
      await this.write(season, notes, {
        calculation_id: calculationId,
        at,
        top,
        previous: current
          ? { calculation_id: current.calculation_id, at: current.at, top: current.top }
          : null,
      });
      this.stats.published++;
      return;
    }
    // RpiResultsRetracted: only a retraction of the calculation on top changes anything.
    if (current?.calculation_id !== calculationId) return;
    const note: RankNotification = {
      season,
      kind: 'retracted',
      team: null,
      rank: null,
      previous_rank: null,
      rpi: null,
      calculation_id: calculationId,
      at: envelope.timestamp,
    };
    await this.write(
      season,
      [note],
      current.previous ? { ...current.previous, previous: null } : undefined,
    );
    this.stats.retracted++;
  };

  private async top(season: string): Promise<TopDoc | undefined> {
    const k = topKey(season);
    return (await this.options.notifications.getMany([k])).get(`${k.pk}\u0000${k.sk}`) as
      | TopDoc
      | undefined;
  }

  private async write(
    season: string,
    notes: readonly RankNotification[],
    top: TopDoc | undefined,
  ): Promise<void> {
    await this.options.notifications.write(
      [
        ...notes.map((n) => ({
          pk: notificationsPk(season),
          sk: `${n.at}#${n.calculation_id}#${n.kind === 'retracted' ? '~retracted' : n.team}`,
          doc: n,
          // The season's top 25 (the baseline of the next announcement) never expires.
          expires_at: Math.ceil(Date.parse(n.at) / 1000) + NOTIFICATION_DAYS * 86_400,
        })),
        ...(top ? [{ ...topKey(season), doc: top }] : []),
      ],
      top ? [] : [topKey(season)],
    );
    this.stats.notifications += notes.length;
  }
}

/** The event if it changes what is announced: what the handler decides about every event type. */
function publicationEvent(event: EventEnvelope): PublicationEvent | undefined {
  switch (event.event_type) {
    case 'RpiResultsPublished':
    case 'RpiResultsRetracted':
      return event;
    // A calculation is announced once published; the cache follows the publication.
    case 'RpiCalculationRequested':
    case 'RpiCalculated':
    case 'RankingsCacheUpdated':
    case 'MatchScheduled':
    case 'MatchRecorded':
    case 'MatchResultCorrected':
    case 'MatchCancelled':
    case 'TeamRegistered':
    case 'TeamMetadataUpdated':
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
