import { DEFAULT_PROFILE_NAME, resolveProfile } from '../domain/rpi/RpiProfile.js';
import { type TeamSeason, teamSeason } from '../domain/season/teamSeason.js';
import type { DocumentStore } from '../projections/DocumentStore.js';
import { type MatchDoc, matchesOfTeam } from '../projections/readModels/matches.js';
import { eventCounts } from '../projections/readModels/pipelineStats.js';
import {
  type CalculationDoc,
  type CalculationSummary,
  calculations,
  currentRankings,
  rankHistory,
} from '../projections/readModels/rankings.js';
import { type StandingRow, standings } from '../projections/readModels/standings.js';
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
import { getSaga, type SagaDoc, sagaMetrics } from '../sagas/sagasReadModel.js';
import type { LiveFeed } from './LiveFeed.js';

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
}

/** Rankings as served, saying where they came from. */
export type ServedRankings =
  | (CachedRankings & { readonly source: 'cache' })
  | (CalculationDoc & { readonly source: 'read-model' });

/**
 * The queries of the API, over the read models: plain functions of the stores, the same
 * whether the HTTP layer runs on Node or in Lambda.
 */
export class QueryService {
  constructor(
    private readonly stores: ReadModelStores,
    private readonly healthFigures: () => Promise<HealthFigures>,
    private readonly extras: QueryExtras = {},
  ) {}

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
      request.profile !== undefined;
    const scope: RankingsScope = scoped
      ? {
          season,
          as_of: request.as_of ?? null,
          profile: request.profile ?? DEFAULT_PROFILE_NAME,
          division: request.division ?? null,
        }
      : { season, as_of: null, ...current };
    const isCurrent =
      scope.as_of === null &&
      scope.profile === current.profile &&
      scope.division === current.division;
    if (this.extras.cache) {
      const cached =
        (scoped ? await readScope(this.extras.cache, scope) : undefined) ??
        (isCurrent ? await readCache(this.extras.cache, season) : undefined);
      if (cached) return { ...cached, division: cached.division ?? null, source: 'cache' };
    }
    const doc = await currentRankings(this.stores.rankings, scope);
    return doc && { ...doc, source: 'read-model' };
  }

  /** The live feed of rankings changes, where the deployment has one. */
  get live(): LiveFeed | undefined {
    return this.extras.live;
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

  async standings(
    season: string,
    asOf?: string,
  ): Promise<{ conference: string | null; teams: StandingRow[] }[]> {
    const teams = new Map(
      (await listTeams(this.stores.teams)).map((t) => [t.team_id, t.conference]),
    );
    return standings(this.stores.standings, season, {
      ...(asOf ? { asOf } : {}),
      conferenceOf: (team) => teams.get(team) ?? null,
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
   * newest first.
   */
  async seasons(): Promise<{ season: string; calculations: CalculationSummary[] }[]> {
    const names = this.extras.cache ? await cachedSeasons(this.extras.cache) : [];
    const sorted = [...new Set(names)].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    return Promise.all(
      sorted.map(async (season) => ({
        season,
        calculations: (await calculations(this.stores.rankings, season)).map(summaryOf).reverse(),
      })),
    );
  }

  /**
   * A team's season week by week, from the matches read model: its RPI and rank as of each
   * week's end and the opponents that helped or hurt its strength of schedule, with the
   * season's current profile and division unless others are given. Undefined for an unknown
   * team.
   */
  async teamSeason(
    teamId: string,
    request: { season: string; profile?: string; division?: string },
  ): Promise<(TeamSeason & { profile: string; division: string | null }) | undefined> {
    const directory = await listTeams(this.stores.teams);
    if (!directory.some((t) => t.team_id === teamId)) return undefined;
    const current = this.extras.current ?? { profile: DEFAULT_PROFILE_NAME, division: null };
    const scoped = request.profile !== undefined || request.division !== undefined;
    const profile = request.profile ?? (scoped ? DEFAULT_PROFILE_NAME : current.profile);
    const division = request.division ?? (scoped ? null : current.division);
    const games = await collectGames(this.stores.matches, request.season);
    const season = teamSeason(games, teamId, {
      profile: resolveProfile(profile),
      season: request.season,
      ...(division === null
        ? {}
        : { teams: directory.filter((t) => t.division === division).map((t) => t.team_id) }),
    });
    return { ...season, profile, division };
  }

  matchesOfTeam(teamId: string, season?: string): Promise<MatchDoc[]> {
    return matchesOfTeam(this.stores.matches, teamId, season);
  }

  saga(sagaId: string): Promise<SagaDoc | undefined> {
    return getSaga(this.stores.sagas, sagaId);
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
function summaryOf(c: CalculationSummary): CalculationSummary {
  return {
    calculation_id: c.calculation_id,
    season: c.season,
    as_of: c.as_of,
    profile: c.profile,
    division: c.division ?? null,
    games_counted: c.games_counted,
    last_game_on: c.last_game_on ?? null,
    computed_at: c.computed_at,
    status: c.status,
    published_at: c.published_at,
    retracted_at: c.retracted_at,
    retraction_reason: c.retraction_reason,
  };
}
