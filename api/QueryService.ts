import type { AdjustmentOverrides } from '../domain/rpi/adjustments.js';
import type { RpiVariant } from '../domain/rpi/computeRpiVariant.js';
import { DEFAULT_PROFILE_NAME, resolveProfile } from '../domain/rpi/RpiProfile.js';
import { seasonWeeks, type TeamSeason, teamSeasonOf } from '../domain/season/teamSeason.js';
import type { DocumentStore } from '../projections/DocumentStore.js';
import { generationConsumer, type ReadModelEntry } from '../projections/ReadModelRegistry.js';
import { type MatchDoc, matchesOfTeam } from '../projections/readModels/matches.js';
import { eventCounts } from '../projections/readModels/pipelineStats.js';
import {
  type CalculationDoc,
  type CalculationSummary,
  calculations,
  currentRankings,
  fullEntry,
  type RankingEntry,
  rankHistory,
  variantOfCalculation,
} from '../projections/readModels/rankings.js';
import { hasResults, type StandingRow, standings } from '../projections/readModels/standings.js';
import { getTeam, listTeams, type TeamDoc } from '../projections/readModels/teams.js';
import { notificationsOf, type RankNotification } from '../sagas/handlers/notifications.js';
import {
  type CachedRankings,
  cachedSeasons,
  type RankingsScope,
  readCache,
  readScope,
} from '../sagas/rpi/rankingsCache.js';
import { collectGames } from '../sagas/rpi/rpiCalculation.js';
import { RPI_SAGA } from '../sagas/rpi/rpiSagaData.js';
import {
  getSaga,
  type SagaDoc,
  type SagaSummary,
  sagaMetrics,
  sagaSummaries,
} from '../sagas/sagasReadModel.js';
import type { SagaTimeline } from '../sagas/sagaTimeline.js';
import type { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import type { Letter } from '../stream/redrive/Letter.js';
import type { RedriveSummary } from '../stream/redrive/redriveLetters.js';
import { type ConsumerSample, ConsumerSamples } from './consumerSamples.js';
import type { LiveFeed } from './LiveFeed.js';
import { ReadSideMemo } from './ReadSideMemo.js';

/** The document stores the queries read. */
export interface ReadModelStores {
  readonly teams: DocumentStore;
  readonly matches: DocumentStore;
  readonly standings: DocumentStore;
  readonly rankings: DocumentStore;
  readonly sagas: DocumentStore;
  readonly 'pipeline-stats': DocumentStore;
}

/** Live figures of the pipeline (the runtime's, not stored in a read model). */
export interface HealthFigures {
  readonly consumers: readonly {
    readonly name: string;
    readonly lag_ms: number;
    readonly applied: number;
  }[];
  readonly dead_letters: number;
  /**
   * The circuit breakers: in process, each with its figures; on AWS, the shared state of those
   * that ever opened.
   */
  readonly breakers: readonly HealthBreaker[];
}

/** A circuit breaker as `/health` shows it. */
export interface HealthBreaker {
  readonly name: string;
  readonly state: 'closed' | 'open' | 'half-open';
  readonly opened_at?: string;
  readonly half_open_at?: string;
  readonly reason?: string;
  readonly opened?: number;
  readonly half_open_trials?: number;
  readonly closed?: number;
  readonly held?: number;
  readonly open_ms?: number;
}

/** What `POST /sagas` asks for: an RPI calculation of a season. */
export interface SagaRequest {
  readonly season: string;
  readonly as_of: string | null;
  readonly profile: string;
  readonly division: string | null;
  readonly variant: RpiVariant;
  readonly adjustments: AdjustmentOverrides | null;
  readonly not_before: null;
  readonly requested_at: string;
  readonly reason: string;
}

/** What the API serves besides the read models, where the deployment has it. */
export interface QueryExtras {
  /** The rankings cache: each season's current rankings and the latest calculation of each scope. */
  readonly cache?: DocumentStore;
  /** The `CalculationEventHandler`'s notifications. */
  readonly notifications?: DocumentStore;
  /** Starts an RPI saga; answers its document. */
  readonly startSaga?: (request: SagaRequest) => Promise<SagaDoc>;
  /**
   * The profile and division of the seasons' current rankings (those of automatic
   * recalculations). @default the default profile, every division
   */
  readonly current?: { readonly profile: string; readonly division: string | null };
  /** Changes of rankings as they happen, for `GET /live` (the local server's). */
  readonly live?: LiveFeed;
  /** A saga's timeline, from its stream in the event store. */
  readonly timeline?: (sagaId: string) => Promise<SagaTimeline | undefined>;
  /** The schemas the events are written and read with. */
  readonly schemas?: SchemaRegistry;
  /** The events table's size, as the table reports it. */
  readonly storeSize?: () => Promise<StoreSize>;
  /** The read models' generations. */
  readonly readModels?: () => Promise<readonly ReadModelEntry[]>;
  /**
   * The consumers over the last minutes where the deployment keeps them (CloudWatch on AWS);
   * otherwise the API samples its own health figures.
   */
  readonly consumerHistory?: () => Promise<ConsumerSample[]>;
  /** The dead letters and their redrive, where the deployment offers them to the API. */
  readonly deadLetters?: DeadLetterDesk;
  /**
   * A count that moves whenever a table of these read models is written (or the generation a
   * query reads), by anyone, once the write can be read: where the deployment has one (the
   * embedded store counts its writes), the answers worked out from a whole season (standings,
   * a team's weeks) are kept until the count of the read models they read moves
   * (`ReadSideMemo`). Where it cannot tell (AWS), a window of the clock instead: an answer is
   * then kept until the window ends, however stale.
   */
  readonly readSideVersion?: (readModels: readonly (keyof ReadModelStores)[]) => number | undefined;
}

/** How big the events table is: items and bytes, as the table reports them (null: unknown). */
export interface StoreSize {
  readonly items: number | null;
  readonly bytes: number | null;
}

/**
 * A queue the deployment keeps failures in, counted from its attributes: its messages are not
 * read (reading one would hide it from whoever redrives them), so they are not listed as letters.
 */
export interface QueueCount {
  readonly queue: string;
  /** Whose failures it keeps (`bus:<rule>` for a bus handler's). */
  readonly consumer: string;
  /** Approximate number of messages waiting. */
  readonly messages: number;
  /** Approximate number of messages a reader holds at the moment. */
  readonly in_flight: number;
  /** Whether a redrive takes them (a scheduled function's failures are only listed). */
  readonly redriven: boolean;
}

/** The dead letters a deployment shows. */
export interface DeadLetterListing {
  readonly letters: readonly Letter[];
  /** The queues counted without being read (AWS); none locally, where every place is read. */
  readonly queues: readonly QueueCount[];
  /** What the list leaves out, one sentence each. */
  readonly notes: readonly string[];
}

/** The dead letters as the API shows them, and the redrive it starts where it does. */
export interface DeadLetterDesk {
  list(): Promise<DeadLetterListing>;
  /**
   * Redrives these letters (every letter when empty: the API asks for that with `all`); absent
   * where the API does not redrive (the command does).
   */
  readonly redrive?: (ids: readonly string[]) => Promise<RedriveSummary>;
  /** The command that lists and redrives them in full, where there is one. */
  readonly command: string | null;
}

/** Which rankings `QueryService.rankings` is asked for. */
export interface RankingsRequest {
  readonly season: string;
  /** Counting games up to this day. */
  readonly as_of?: string;
  /** Of this division's games only. */
  readonly division?: string;
  /** With this RPI profile (default: the default profile). */
  readonly profile?: string;
  /** This RPI (default: unadjusted). */
  readonly variant?: RpiVariant;
}

/** What every served calculation says in full: its variant, and each line's every field. */
interface Served {
  readonly variant: RpiVariant;
  readonly rankings: readonly Required<RankingEntry>[];
}

/** Rankings as served, saying where they came from. */
export type ServedRankings =
  | (Omit<CachedRankings, keyof Served> & Served & { readonly source: 'cache' })
  | (Omit<CalculationDoc, keyof Served> & Served & { readonly source: 'read-model' });

/**
 * The queries of the API, over the read models: plain functions of the stores, the same
 * whether the HTTP layer runs on Node or in Lambda.
 */
export class QueryService {
  private readonly consumerSamples: ConsumerSamples;
  /** Each season's standings, as of a day or not. */
  private readonly standingsMemo: ReadSideMemo;
  /**
   * Each season's weeks, for a profile and division: every team's ratings week by week, 13 MB
   * for a season of 10,000 teams, so two are kept.
   */
  private readonly weeksMemo: ReadSideMemo;

  constructor(
    private readonly stores: ReadModelStores,
    private readonly healthFigures: () => Promise<HealthFigures>,
    private readonly extras: QueryExtras = {},
  ) {
    this.consumerSamples = new ConsumerSamples(healthFigures);
    const version = extras.readSideVersion;
    // Each by what it reads: the standings and the directory, the matches and the directory.
    this.standingsMemo = new ReadSideMemo(version && (() => version(['standings', 'teams'])), 16);
    this.weeksMemo = new ReadSideMemo(version && (() => version(['matches', 'teams'])), 2);
  }

  /**
   * A season's rankings. Asked for the season alone: its current rankings (the latest
   * calculation of the whole season in the season's profile and division), from the cache.
   * Asked for a scope (`as_of`, `division`, `profile`, the profile defaulting to the default
   * one): the latest calculation of exactly that scope from the cache; when there is none, from
   * the rankings read model, the latest published calculation of that profile and division
   * counting games up to `as_of` (of the whole season without it). Never another scope's.
   */
  async rankings(request: RankingsRequest): Promise<ServedRankings | undefined> {
    const { season } = request;
    const current = this.extras.current ?? { profile: DEFAULT_PROFILE_NAME, division: null };
    const scoped =
      request.as_of !== undefined ||
      request.division !== undefined ||
      request.profile !== undefined ||
      (request.variant !== undefined && request.variant !== 'unadjusted');
    const scope: RankingsScope = scoped
      ? {
          season,
          as_of: request.as_of ?? null,
          profile: request.profile ?? DEFAULT_PROFILE_NAME,
          division: request.division ?? null,
          variant: request.variant ?? 'unadjusted',
        }
      : { season, as_of: null, ...current, variant: 'unadjusted' };
    const isCurrent =
      scope.as_of === null &&
      scope.profile === current.profile &&
      scope.division === current.division &&
      scope.variant === 'unadjusted';
    if (this.extras.cache) {
      const cached =
        (scoped ? await readScope(this.extras.cache, scope) : undefined) ??
        (isCurrent ? await readCache(this.extras.cache, season) : undefined);
      if (cached)
        return {
          ...cached,
          division: cached.division ?? null,
          variant: variantOfCalculation(cached),
          rankings: cached.rankings.map(fullEntry),
          source: 'cache',
        };
    }
    const doc = await currentRankings(this.stores.rankings, scope);
    return (
      doc && {
        ...doc,
        variant: variantOfCalculation(doc),
        rankings: doc.rankings.map(fullEntry),
        source: 'read-model',
      }
    );
  }

  /** The live feed of rankings changes, where the deployment has one. */
  get live(): LiveFeed | undefined {
    return this.extras.live;
  }

  /** The same queries with more of what the deployment offers (the local server's own). */
  with(more: QueryExtras): QueryService {
    return new QueryService(this.stores, this.healthFigures, { ...this.extras, ...more });
  }

  /** Whether this deployment can start sagas. */
  get canStartSagas(): boolean {
    return this.extras.startSaga !== undefined;
  }

  startSaga(request: SagaRequest): Promise<SagaDoc> {
    if (!this.extras.startSaga) throw new Error('this API cannot start sagas');
    return this.extras.startSaga(request);
  }

  async notifications(season: string): Promise<RankNotification[] | undefined> {
    if (!this.extras.notifications) return undefined;
    return notificationsOf(this.extras.notifications, season);
  }

  /** Whether a match of the season has a result: the season has standings. */
  seasonHasResults(season: string): Promise<boolean> {
    return hasResults(this.stores.standings, season);
  }

  /** Whether a calculation of the season was ever published (retracted since or not). */
  async seasonPublished(season: string): Promise<boolean> {
    return (await calculations(this.stores.rankings, season)).some((c) => c.published_at !== null);
  }

  standings(
    season: string,
    asOf?: string,
  ): Promise<{ conference: string | null; teams: StandingRow[] }[]> {
    return this.standingsMemo.answer(JSON.stringify([season, asOf ?? null]), async () => {
      const teams = new Map(
        (await listTeams(this.stores.teams)).map((t) => [t.team_id, t.conference]),
      );
      return standings(this.stores.standings, season, {
        ...(asOf ? { asOf } : {}),
        conferenceOf: (team) => teams.get(team) ?? null,
      });
    });
  }

  teams(): Promise<TeamDoc[]> {
    return listTeams(this.stores.teams);
  }

  async team(
    teamId: string,
    season?: string,
  ): Promise<(TeamDoc & { rank_history?: Awaited<ReturnType<typeof rankHistory>> }) | undefined> {
    const team = await getTeam(this.stores.teams, teamId);
    if (!team || season === undefined) return team;
    const current = this.extras.current ?? { profile: DEFAULT_PROFILE_NAME, division: null };
    return {
      ...team,
      rank_history: await rankHistory(this.stores.rankings, season, teamId, current),
    };
  }

  /**
   * The seasons with current rankings, newest first (by name), each with its calculations,
   * newest first: those of the cache, and those `rankings` answers from the read model for the
   * season alone, which only a saga that failed (its compensation failed too) leaves
   * published without caching them.
   */
  async seasons(): Promise<
    { season: string; calculations: (CalculationSummary & { variant: RpiVariant })[] }[]
  > {
    const cached = new Set(this.extras.cache ? await cachedSeasons(this.extras.cache) : []);
    const uncached = [...new Set(await this.seasonsOfFailedSagas())].filter(
      (season) => !cached.has(season),
    );
    const current = this.extras.current ?? { profile: DEFAULT_PROFILE_NAME, division: null };
    const listed = await Promise.all(
      [...cached, ...uncached].map(async (season) => {
        const all = await calculations(this.stores.rankings, season);
        // As `rankings` answers the season alone without a cached calculation.
        const served =
          cached.has(season) ||
          all.some(
            (c) =>
              c.status === 'published' &&
              c.as_of === null &&
              c.profile === current.profile &&
              (c.division ?? null) === current.division &&
              variantOfCalculation(c) === 'unadjusted',
          );
        return served ? { season, calculations: all.map(summaryOf).reverse() } : undefined;
      }),
    );
    return listed
      .filter((s) => s !== undefined)
      .sort((a, b) => (a.season < b.season ? 1 : a.season > b.season ? -1 : 0));
  }

  /** The seasons of the RPI sagas that failed: their compensation failed, and left what they did. */
  private async seasonsOfFailedSagas(): Promise<string[]> {
    const failed = (await sagaSummaries(this.stores.sagas)).filter(
      (s) => s.status === 'failed' && s.saga_type === RPI_SAGA,
    );
    const docs = await Promise.all(failed.map((s) => getSaga(this.stores.sagas, s.saga_id)));
    return docs.flatMap((doc) => {
      const data = doc?.data;
      return typeof data === 'object' &&
        data !== null &&
        'season' in data &&
        typeof data.season === 'string'
        ? [data.season]
        : [];
    });
  }

  /**
   * A team's season week by week, from the matches read model: its RPI and rank as of each
   * week's end and the opponents that helped or hurt its strength of schedule, with the
   * season's current profile and division unless others are given. Undefined for an unknown
   * team; `outside` says why for a team not in the division asked for (a season's current
   * division, not asked for, rates such a team as unrated).
   */
  async teamSeason(
    teamId: string,
    request: { season: string; profile?: string; division?: string },
  ): Promise<
    (TeamSeason & { profile: string; division: string | null }) | { outside: string } | undefined
  > {
    // One read: the whole directory is read only for a division, and with the season's weeks.
    const team = await getTeam(this.stores.teams, teamId);
    if (!team) return undefined;
    if (request.division !== undefined && team.division !== request.division)
      return {
        outside: `team "${teamId.slice(0, 80)}" is ${team.division === null ? 'in no division' : `in division "${team.division.slice(0, 80)}"`}, not "${request.division.slice(0, 80)}"`,
      };
    const current = this.extras.current ?? { profile: DEFAULT_PROFILE_NAME, division: null };
    const scoped = request.profile !== undefined || request.division !== undefined;
    const profile = request.profile ?? (scoped ? DEFAULT_PROFILE_NAME : current.profile);
    const division = request.division ?? (scoped ? null : current.division);
    const weeks = await this.weeksMemo.answer(
      JSON.stringify([request.season, profile, division]),
      // Everything it reads is read inside: a memo keeps it under the count read before.
      async () => {
        const listed =
          division === null
            ? undefined
            : (await listTeams(this.stores.teams))
                .filter((t) => t.division === division)
                .map((t) => t.team_id);
        return seasonWeeks(await collectGames(this.stores.matches, request.season), {
          profile: resolveProfile(profile),
          season: request.season,
          ...(listed ? { teams: listed } : {}),
        });
      },
    );
    return { ...teamSeasonOf(weeks, teamId), profile, division };
  }

  matchesOfTeam(teamId: string, season?: string): Promise<MatchDoc[]> {
    return matchesOfTeam(this.stores.matches, teamId, season);
  }

  saga(sagaId: string): Promise<SagaDoc | undefined> {
    return getSaga(this.stores.sagas, sagaId);
  }

  /** The sagas, newest first, at most `limit`. */
  async sagas(limit: number): Promise<SagaSummary[]> {
    return (await sagaSummaries(this.stores.sagas))
      .sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0))
      .slice(0, limit);
  }

  /** Whether this deployment can show a saga's timeline. */
  get offersTimelines(): boolean {
    return this.extras.timeline !== undefined;
  }

  sagaTimeline(sagaId: string): Promise<SagaTimeline | undefined> {
    if (!this.extras.timeline) throw new Error('this API shows no timelines');
    return this.extras.timeline(sagaId);
  }

  /** The store: events by type and day, its size, and the schemas with their versions and modes. */
  async store() {
    const [events, size] = await Promise.all([
      eventCounts(this.stores['pipeline-stats']),
      this.extras.storeSize?.() ?? Promise.resolve({ items: null, bytes: null }),
    ]);
    const registry = this.extras.schemas;
    const schemas = registry
      ? registry.eventTypes().map((type) => {
          const versions = registry.versions(type);
          const latest = Math.max(...versions.map((v) => v.version));
          return {
            event_type: type,
            compatibility: registry.mode(type),
            versions: versions.map((v) => ({
              version: v.version,
              fingerprint: v.fingerprint,
              latest: v.version === latest,
            })),
          };
        })
      : [];
    return { events, size, schemas };
  }

  /**
   * The consumers over the last minutes (sampled from the first request on) and the read
   * models' generations, a building one with its consumer's progress where it has one.
   */
  async consumers() {
    const [samples, entries] = await Promise.all([
      this.extras.consumerHistory?.() ?? this.consumerSamples.samples(),
      this.extras.readModels?.() ?? Promise.resolve([]),
    ]);
    const latest = new Map((samples.at(-1)?.consumers ?? []).map((c) => [c.name, c]));
    return {
      samples,
      read_models: entries.map((entry) => ({
        name: entry.name,
        active: entry.active,
        generations: entry.generations.map((g) => {
          const consumer = latest.get(generationConsumer(entry.name, g.generation));
          return {
            generation: g.generation,
            status: g.status,
            table: g.table,
            projection_version: g.projection_version,
            created_at: g.created_at,
            built_at: g.built_at,
            progress: consumer ? { applied: consumer.applied, lag_ms: consumer.lag_ms } : null,
          };
        }),
      })),
    };
  }

  /** The dead letters and their redrive, where the deployment offers them. */
  get deadLetters(): DeadLetterDesk | undefined {
    return this.extras.deadLetters;
  }

  async health() {
    const [figures, events, sagas] = await Promise.all([
      this.healthFigures(),
      eventCounts(this.stores['pipeline-stats']),
      sagaMetrics(this.stores.sagas),
    ]);
    return { ...figures, events, sagas };
  }
}

/** A calculation's summary as `GET /seasons` lists it (documents may carry more). */
function summaryOf(c: CalculationSummary): CalculationSummary & { variant: RpiVariant } {
  return {
    calculation_id: c.calculation_id,
    season: c.season,
    as_of: c.as_of,
    profile: c.profile,
    division: c.division ?? null,
    games_counted: c.games_counted,
    last_game_on: c.last_game_on ?? null,
    variant: variantOfCalculation(c),
    computed_at: c.computed_at,
    status: c.status,
    published_at: c.published_at,
    retracted_at: c.retracted_at,
    retraction_reason: c.retraction_reason,
  };
}
