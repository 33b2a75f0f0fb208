import type { DocumentStore } from '../DocumentStore.js';
import { notificationsOf, type RankNotification } from '../notifications.js';
import { type CachedRankings, readCache } from '../rankingsCache.js';
import { type MatchDoc, matchesOfTeam } from '../readModels/matches.js';
import { eventCounts } from '../readModels/pipelineStats.js';
import { type CalculationDoc, currentRankings, rankHistory } from '../readModels/rankings.js';
import { getSaga, type SagaDoc, sagaMetrics } from '../readModels/sagas.js';
import { type StandingRow, standings } from '../readModels/standings.js';
import { getTeam, listTeams, type TeamDoc } from '../readModels/teams.js';

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
  /** The rankings cache (current rankings without `as_of` come from it). */
  readonly cache?: DocumentStore;
  /** The `CalculationEventHandler`'s notifications. */
  readonly notifications?: DocumentStore;
  /** Starts an RPI saga; returns its id. */
  readonly startSaga?: (request: SagaRequest) => Promise<string>;
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
   * A season's rankings: the current ones from the cache the RPI saga keeps (when there is
   * one), as of a date (or without a cache) from the rankings read model.
   */
  async rankings(season: string, asOf?: string): Promise<ServedRankings | undefined> {
    if (asOf === undefined && this.extras.cache) {
      const cached = await readCache(this.extras.cache, season);
      if (cached) return { ...cached, source: 'cache' };
    }
    const doc = await currentRankings(this.stores.rankings, season, asOf);
    return doc && { ...doc, source: 'read-model' };
  }

  /** Whether this deployment can start sagas. */
  get canStartSagas(): boolean {
    return this.extras.startSaga !== undefined;
  }

  startSaga(request: SagaRequest): Promise<string> {
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
    return { ...team, rank_history: await rankHistory(this.stores.rankings, season, teamId) };
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
