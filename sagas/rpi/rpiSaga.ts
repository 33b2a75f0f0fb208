import { computeRpi } from '../../domain/rpi/computeRpi.js';
import { resolveProfile } from '../../domain/rpi/RpiProfile.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import {
  type CachedRankings,
  deleteCache,
  readCache,
  writeCache,
} from '../../projections/rankingsCache.js';
import { listTeams } from '../../projections/readModels/teams.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { uuidFromName } from '../../stream/uuid.js';
import { collectGames, rpiCalculated } from '../rpiCalculation.js';
import type { RetryPolicy, SagaDefinition } from '../SagaDefinition.js';
import { appendOnce, calculationState, retractCalculation } from './calculationStream.js';

/** What an RPI saga is asked to do. */
export interface RpiSagaData {
  readonly season: string;
  /** Count games up to this day; null for all. */
  readonly as_of: string | null;
  readonly profile: string;
  /** Count only games between teams of this division in the team directory; null for all. */
  readonly division: string | null;
  /** Do not start before this instant (a debounced request). */
  readonly not_before: string | null;
  /** When it was asked for (for people reading the saga). */
  readonly requested_at?: string | null;
  /** Why, for people reading the saga (e.g. "results changed"). */
  readonly reason?: string | null;
}

export interface RpiSagaDependencies {
  readonly store: EventStore;
  /** The matches read model. */
  readonly matches: DocumentStore;
  /** The team directory read model. */
  readonly teams: DocumentStore;
  /** The saga's own working documents: the match snapshot, the cache it replaced. */
  readonly snapshots: DocumentStore;
  /** The rankings document per season that the query API serves. */
  readonly cache: DocumentStore;
  /** Per-step timeouts, overriding the defaults. */
  readonly timeoutsMs?: Readonly<Partial<Record<RpiStepName, number>>>;
  readonly retry?: RetryPolicy;
}

export const RPI_SAGA = 'rpi-calculation';
export const RPI_STEPS = [
  'collect-matches',
  'calculate-rpi',
  'publish-results',
  'update-cache',
] as const;
export type RpiStepName = (typeof RPI_STEPS)[number];

const DEFAULT_TIMEOUTS: Record<RpiStepName, number> = {
  'collect-matches': 20_000,
  'calculate-rpi': 30_000,
  'publish-results': 10_000,
  'update-cache': 10_000,
};

/** The calculation of a saga: one per saga, with an id derived from the saga's. */
export function calculationOf(sagaId: string): string {
  return uuidFromName(`saga:${sagaId}#calculation`);
}

/** The games an RPI saga with this data counts, from the read models as they are now. */
export async function collectMatches(
  deps: Pick<RpiSagaDependencies, 'matches' | 'teams'>,
  data: Pick<RpiSagaData, 'season' | 'as_of' | 'division'>,
) {
  const games = await collectGames(deps.matches, data.season, data.as_of ?? undefined);
  if (data.division === null) return games;
  const inDivision = new Set(
    (await listTeams(deps.teams)).filter((t) => t.division === data.division).map((t) => t.team_id),
  );
  return games.filter((g) => inDivision.has(g.homeTeam) && inDivision.has(g.awayTeam));
}

const snapshotKey = (sagaId: string, name: string) => ({ pk: `saga#${sagaId}`, sk: name });

/**
 * The RPI calculation saga: collect the season's counted matches from the read model (kept as
 * a snapshot), calculate the RPI (`RpiCalculated`), publish it (`RpiResultsPublished`), update
 * the rankings cache. Compensations, last step first: restore the cache, retract the results,
 * retract the calculation, release the snapshot. Every action and compensation is keyed by
 * the saga (the calculation id derives from the saga id; appends carry derived event ids; the
 * cache knows which calculation it holds), so running one twice changes nothing.
 */
export function rpiSaga(deps: RpiSagaDependencies): SagaDefinition<RpiSagaData> {
  const retry = deps.retry ?? { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };
  const timeout = (step: RpiStepName) => deps.timeoutsMs?.[step] ?? DEFAULT_TIMEOUTS[step];
  return {
    type: RPI_SAGA,
    compensationRetry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 },
    notBefore: (data) => data.not_before ?? undefined,
    parseData: (json) => json as RpiSagaData,
    steps: [
      {
        name: 'collect-matches',
        timeoutMs: timeout('collect-matches'),
        retry,
        async action({ sagaId, data, signal }) {
          const games = await collectMatches(deps, data);
          signal.throwIfAborted();
          await deps.snapshots.write([{ ...snapshotKey(sagaId, 'games'), doc: { games } }], []);
          return { snapshot: 'games', games: games.length, collected_at: new Date().toISOString() };
        },
        compensation: {
          name: 'release-snapshot',
          async run({ sagaId }) {
            await deps.snapshots.write(
              [],
              [snapshotKey(sagaId, 'games'), snapshotKey(sagaId, 'previous-cache')],
            );
          },
        },
      },
      {
        name: 'calculate-rpi',
        timeoutMs: timeout('calculate-rpi'),
        retry,
        async action({ sagaId, data, signal }) {
          const key = snapshotKey(sagaId, 'games');
          const snapshot = (await deps.snapshots.getMany([key])).get(`${key.pk}\u0000${key.sk}`) as
            | { games: Parameters<typeof computeRpi>[0] }
            | undefined;
          if (!snapshot) throw new Error('the snapshot of the matches is gone');
          signal.throwIfAborted();
          const result = computeRpi(snapshot.games, {
            profile: resolveProfile(data.profile),
            season: data.season,
            ...(data.as_of ? { asOf: data.as_of } : {}),
          });
          const calculationId = calculationOf(sagaId);
          signal.throwIfAborted();
          const state = await appendOnce(
            deps.store,
            calculationId,
            'calculated',
            (s) => s.calculated,
            () => rpiCalculated(result, calculationId, new Date()),
            sagaId,
          );
          return {
            calculation_id: calculationId,
            games_counted: result.games.counted,
            calculated: state.calculated,
          };
        },
        compensation: {
          name: 'retract-calculation',
          async run({ sagaId }) {
            await retractCalculation(
              deps.store,
              calculationOf(sagaId),
              `saga ${sagaId} compensated`,
              sagaId,
            );
          },
        },
      },
      {
        name: 'publish-results',
        timeoutMs: timeout('publish-results'),
        retry,
        async action({ sagaId, data, signal }) {
          const calculationId = calculationOf(sagaId);
          signal.throwIfAborted();
          const state = await appendOnce(
            deps.store,
            calculationId,
            'published',
            (s) => s.published,
            (s) =>
              s.calculated && !s.retracted
                ? {
                    event_type: 'RpiResultsPublished',
                    data: {
                      calculation_id: calculationId,
                      season: data.season,
                      as_of: data.as_of,
                      published_at: new Date().toISOString(),
                    },
                  }
                : undefined,
            sagaId,
          );
          if (!state.published)
            throw new Error(`calculation ${calculationId} is not there to publish`);
          return { calculation_id: calculationId, published_at: state.publishedAt };
        },
        compensation: {
          name: 'retract-results',
          async run({ sagaId }) {
            await retractCalculation(
              deps.store,
              calculationOf(sagaId),
              `saga ${sagaId} compensated`,
              sagaId,
            );
          },
        },
      },
      {
        name: 'update-cache',
        timeoutMs: timeout('update-cache'),
        retry,
        async action({ sagaId, data, signal, outputs }) {
          const calculationId = calculationOf(sagaId);
          const current = await readCache(deps.cache, data.season);
          if (current?.calculation_id === calculationId)
            return { previous_calculation_id: current.previous_calculation_id };
          const collectedAt =
            (outputs['collect-matches'] as { collected_at?: string } | undefined)?.collected_at ??
            null;
          if (current?.collected_at && collectedAt && current.collected_at > collectedAt) {
            // A later request's rankings are in place already (sagas may overlap).
            return { previous_calculation_id: null, superseded_by: current.calculation_id };
          }
          // Keep what is replaced (once: a retry must not keep our own document as "previous").
          const saved = snapshotKey(sagaId, 'previous-cache');
          if (!(await deps.snapshots.getMany([saved])).has(`${saved.pk}\u0000${saved.sk}`)) {
            await deps.snapshots.write([{ ...saved, doc: { previous: current ?? null } }], []);
          }
          const state = await calculationState(deps.store, calculationId);
          if (!state.published || state.retracted)
            throw new Error(`calculation ${calculationId} is not published`);
          const document: CachedRankings = {
            season: data.season,
            calculation_id: calculationId,
            as_of: state.asOf,
            profile: state.profile ?? data.profile,
            games_counted: state.gamesCounted,
            computed_at: state.computedAt,
            published_at: state.publishedAt,
            rankings: state.rankings as CachedRankings['rankings'],
            previous_calculation_id: current?.calculation_id ?? null,
            saga_id: sagaId,
            collected_at: collectedAt,
          };
          // An attempt that timed out must not write after its saga moved on.
          signal.throwIfAborted();
          await writeCache(deps.cache, document);
          await appendOnce(
            deps.store,
            calculationId,
            'cached',
            () => false,
            () => ({
              event_type: 'RankingsCacheUpdated',
              data: {
                season: data.season,
                calculation_id: calculationId,
                previous_calculation_id: document.previous_calculation_id,
                updated_at: new Date().toISOString(),
              },
            }),
            sagaId,
          );
          return { previous_calculation_id: document.previous_calculation_id };
        },
        compensation: {
          name: 'restore-cache',
          async run({ sagaId, data }) {
            const current = await readCache(deps.cache, data.season);
            if (current?.calculation_id !== calculationOf(sagaId)) return; // ours is not there
            const saved = snapshotKey(sagaId, 'previous-cache');
            const kept = (await deps.snapshots.getMany([saved])).get(
              `${saved.pk}\u0000${saved.sk}`,
            ) as { previous: CachedRankings | null } | undefined;
            if (kept?.previous) await writeCache(deps.cache, kept.previous);
            else await deleteCache(deps.cache, data.season);
          },
        },
      },
    ],
  };
}
