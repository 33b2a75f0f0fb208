import type { DocumentStore } from '../DocumentStore.js';
import { type MatchDoc, matchesOfTeam } from '../readModels/matches.js';
import { eventCounts } from '../readModels/pipelineStats.js';
import { type CalculationDoc, currentRankings, rankHistory } from '../readModels/rankings.js';
import { getSaga, type SagaDoc } from '../readModels/sagas.js';
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

/**
 * The queries of the API, over the read models: plain functions of the stores, the same
 * whether the HTTP layer runs on Node or in Lambda.
 */
export class QueryService {
  constructor(
    private readonly stores: ReadModelStores,
    private readonly healthFigures: () => Promise<HealthFigures>,
  ) {}

  rankings(season: string, asOf?: string): Promise<CalculationDoc | undefined> {
    return currentRankings(this.stores.rankings, season, asOf);
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
  ): Promise<(TeamDoc & { rank_history?: unknown }) | undefined> {
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
    const [figures, events] = await Promise.all([
      this.healthFigures(),
      eventCounts(this.stores['pipeline-stats']),
    ]);
    return { ...figures, events };
  }
}
