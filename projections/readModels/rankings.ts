import type { TeamRating } from '../../domain/rpi/computeRpi.js';
import { RPI_VARIANTS, type RpiVariant } from '../../domain/rpi/computeRpiVariant.js';
import { type EventEnvelope, unhandled } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection } from '../Projection.js';
import { partedDocs, readParted, readPartedMany, withoutParts } from '../partedDocument.js';

/**
 * One team's line of a calculation, as the RPI engine rates it, with its unadjusted rank and
 * RPI beside (absent or null in calculations of earlier releases, which were unadjusted).
 */
export interface RankingEntry extends Omit<TeamRating, 'bonus' | 'removedWins'> {
  readonly unadjusted_rank?: number | null;
  readonly unadjusted_rpi?: number | null;
  /** Under the adjusted variant: bonuses minus penalties, already part of `rpi`. */
  readonly adjustment?: number | null;
  /** Under a profile with a quality-win bonus: the bonus, already part of `rpi`. */
  readonly bonus?: number | null;
}

/**
 * A team's line with every field: the unadjusted rank and RPI beside the variant's
 * (calculations of earlier releases were unadjusted: their own), null for what it lacks.
 */
export function fullEntry(e: RankingEntry): Required<RankingEntry> {
  return {
    rank: e.rank,
    team: e.team,
    games: e.games,
    wins: e.wins,
    losses: e.losses,
    ties: e.ties,
    wp: e.wp,
    owp: e.owp,
    oowp: e.oowp,
    rpi: e.rpi,
    unadjusted_rank: e.unadjusted_rank ?? e.rank,
    unadjusted_rpi: e.unadjusted_rpi ?? e.rpi,
    adjustment: e.adjustment ?? null,
    bonus: e.bonus ?? null,
  };
}

/** Which RPI a calculation computed: its `variant`, unadjusted for calculations without one. */
export function variantOfCalculation(c: { readonly variant?: RpiVariant }): RpiVariant {
  return c.variant ?? 'unadjusted';
}

export type CalculationStatus = 'calculated' | 'published' | 'retracted';

/** A calculation without its rankings. */
export interface CalculationSummary {
  readonly calculation_id: string;
  readonly season: string;
  readonly as_of: string | null;
  readonly profile: string;
  /** The division whose teams' games were counted; null for every game. */
  readonly division: string | null;
  readonly games_counted: number;
  /** The day of the last game counted (null for calculations of earlier releases). */
  readonly last_game_on: string | null;
  /** Which RPI; documents of earlier releases have none (unadjusted). */
  readonly variant?: RpiVariant;
  readonly computed_at: string;
  readonly status: CalculationStatus;
  readonly published_at: string | null;
  readonly retracted_at: string | null;
  readonly retraction_reason: string | null;
}

export interface CalculationDoc extends CalculationSummary {
  readonly rankings: readonly RankingEntry[];
  readonly version: number;
}

/**
 * A calculation as stored: past 1,000 teams its rankings are items of their own
 * (`partedDocument`), and the document keeps where they are instead.
 */
type StoredCalculation = Omit<CalculationDoc, 'rankings'> & {
  readonly rankings?: readonly RankingEntry[];
};

const calcKey = (calculationId: string): DocKey => ({ pk: `calc#${calculationId}`, sk: '-' });
const seasonKey = (c: { season: string; computed_at: string; calculation_id: string }): DocKey => ({
  pk: `season#${c.season}`,
  sk: `${c.computed_at}#${c.calculation_id}`,
});

/** The events of a calculation's stream that the rankings keep. */
type CalculationEvent = EventEnvelope<
  'RpiCalculated' | 'RpiResultsPublished' | 'RpiResultsRetracted'
>;

/**
 * RPI rankings: every calculation of a season with its status (calculated, published,
 * retracted), so the current rankings, the rankings as of a date and each team's rank
 * history can be read. Retracting a calculation brings the previous one back.
 */
export const rankingsProjection: Projection = {
  name: 'rankings',
  // 2: each calculation's division and the day of its last game (RpiCalculated v2).
  // 3: a calculation of more than 1,000 teams keeps its lines in items beside it.
  version: 3,
  guardsRepeats: true,
  eventTypes: ['RpiCalculated', 'RpiResultsPublished', 'RpiResultsRetracted'],
  reads: (envelope) => {
    const event = calculationEvent(envelope);
    return event ? [calcKey(event.data.calculation_id)] : [];
  },
  evolve(view: DocView, envelope: EventEnvelope): DocChanges {
    const event = calculationEvent(envelope);
    if (!event) return {};
    const key = calcKey(event.data.calculation_id);
    const current = view.get(key) as StoredCalculation | undefined;
    // A calculation is a stream of its own, so its sequence guards against repeats.
    if (current && current.version >= event.sequence) return {};
    const next = nextCalculation(current, event);
    if (!next) return {};
    const { rankings: _, version: __, ...summary } = withoutParts(next);
    return {
      put: [
        // A calculation's rankings never change: its parts are named after the event that
        // brought them, and its status changes rewrite the head alone.
        ...partedDocs(key, next, { field: 'rankings', token: String(event.sequence) }),
        { ...seasonKey(next), doc: summary },
      ],
    };
  },
};

/** The event if the rankings use it: what they decide about every event type. */
function calculationEvent(event: EventEnvelope): CalculationEvent | undefined {
  switch (event.event_type) {
    case 'RpiCalculated':
    case 'RpiResultsPublished':
    case 'RpiResultsRetracted':
      return event;
    // A request is not a calculation yet; the cache serves what the rankings published.
    case 'RpiCalculationRequested':
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

function nextCalculation(
  current: StoredCalculation | undefined,
  event: CalculationEvent,
): StoredCalculation | undefined {
  switch (event.event_type) {
    case 'RpiCalculated': {
      const d = event.data;
      return {
        calculation_id: d.calculation_id,
        season: d.season,
        as_of: d.as_of,
        profile: d.profile,
        division: d.division,
        games_counted: d.games_counted,
        last_game_on: d.last_game_on,
        variant: parseVariant(d.variant),
        computed_at: d.computed_at,
        status: current?.status ?? 'calculated',
        published_at: current?.published_at ?? null,
        retracted_at: current?.retracted_at ?? null,
        retraction_reason: current?.retraction_reason ?? null,
        rankings: d.rankings,
        version: event.sequence,
      };
    }
    case 'RpiResultsPublished':
      return current
        ? {
            ...current,
            status: 'published',
            published_at: event.data.published_at,
            version: event.sequence,
          }
        : undefined;
    case 'RpiResultsRetracted':
      return current
        ? {
            ...current,
            status: 'retracted',
            retracted_at: event.timestamp,
            retraction_reason: event.data.reason,
            version: event.sequence,
          }
        : undefined;
    default:
      return unhandled(event);
  }
}

/** A stored variant name as a variant; a name this release does not know is refused. */
function parseVariant(name: string): RpiVariant {
  const variant = RPI_VARIANTS.find((v) => v === name);
  if (!variant) throw new Error(`RpiCalculated names an unknown RPI variant "${name}"`);
  return variant;
}

/** Every calculation of a season, oldest first. */
export async function calculations(
  store: DocumentStore,
  season: string,
): Promise<CalculationSummary[]> {
  return (await store.query(`season#${season}`)).map((d) => d.doc as unknown as CalculationSummary);
}

/**
 * The day a calculation's rankings speak for: its as-of day, else the day of the last game it
 * counted (else, for calculations of earlier releases, the day it was computed).
 */
function effectiveDay(c: CalculationSummary): string {
  return c.as_of ?? c.last_game_on ?? c.computed_at.slice(0, 10);
}

/** Which calculations a rankings query is about. */
export interface RankingsQuery {
  readonly season: string;
  readonly profile: string;
  /** Null: calculations that counted every division. */
  readonly division: string | null;
  /** A day: calculations counting games up to that day at most; absent: of the whole season. */
  readonly as_of?: string | null;
  /** @default 'unadjusted' */
  readonly variant?: RpiVariant;
}

/**
 * The rankings of one scope (season, profile, division), from the published calculations that
 * are not retracted: without `as_of`, the latest calculation of the whole season; with `as_of`,
 * the latest calculation counting games up to that day at most (one as of that very day first,
 * else the one whose day is the latest before it). A calculation of another profile or
 * division is never an answer.
 */
export async function currentRankings(
  store: DocumentStore,
  query: RankingsQuery,
): Promise<CalculationDoc | undefined> {
  const asOf = query.as_of ?? undefined;
  const candidates = (await calculations(store, query.season))
    .filter(
      (c) =>
        c.status === 'published' &&
        c.profile === query.profile &&
        (c.division ?? null) === query.division &&
        variantOfCalculation(c) === (query.variant ?? 'unadjusted') &&
        (asOf === undefined ? c.as_of === null : effectiveDay(c) <= asOf),
    )
    .sort(
      (a, b) =>
        effectiveDay(a).localeCompare(effectiveDay(b)) ||
        Number(a.as_of !== null) - Number(b.as_of !== null) ||
        String(a.published_at).localeCompare(String(b.published_at)),
    );
  const chosen = candidates.at(-1);
  if (!chosen) return undefined;
  return (await readParted(store, calcKey(chosen.calculation_id))) as CalculationDoc | undefined;
}

/**
 * A team's rank in each published unadjusted calculation of a season (of one profile and
 * division, when given), in order of the days they speak for.
 */
export async function rankHistory(
  store: DocumentStore,
  season: string,
  team: string,
  scope?: { readonly profile: string; readonly division: string | null },
): Promise<
  {
    calculation_id: string;
    as_of: string | null;
    published_at: string | null;
    rank: number | null;
    rpi: number | null;
  }[]
> {
  const published = (await calculations(store, season))
    .filter(
      (c) =>
        c.status === 'published' &&
        variantOfCalculation(c) === 'unadjusted' &&
        (scope === undefined ||
          (c.profile === scope.profile && (c.division ?? null) === scope.division)),
    )
    .sort((a, b) => effectiveDay(a).localeCompare(effectiveDay(b)));
  const docs = await readPartedMany(
    store,
    published.map((c) => calcKey(c.calculation_id)),
  );
  return published.map((c) => {
    const doc = docs.get(`calc#${c.calculation_id}\u0000-`) as CalculationDoc | undefined;
    const entry = doc?.rankings.find((r) => r.team === team);
    return {
      calculation_id: c.calculation_id,
      as_of: c.as_of,
      published_at: c.published_at,
      rank: entry?.rank ?? null,
      rpi: entry?.rpi ?? null,
    };
  });
}
