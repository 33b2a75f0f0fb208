import { DomainError } from '../../domain/DomainError.js';
import type { Game } from '../../domain/games/Game.js';
import {
  computeRpiVariant,
  type RpiVariant,
  type VariantResult,
} from '../../domain/rpi/computeRpiVariant.js';
import { resolveProfile } from '../../domain/rpi/RpiProfile.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { deletePartedMany, readParted, writeParted } from '../../projections/partedDocument.js';
import { listTeams } from '../../projections/readModels/teams.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { StoreError } from '../../stream/StoreError.js';
import { uuidFromName } from '../../stream/uuid.js';
import type { RetryPolicy, SagaDefinition } from '../SagaDefinition.js';
import { SagaError } from '../SagaError.js';
import { deferredStart, untilApplied } from './awaitedChanges.js';
import { appendOnce, calculationState, retractCalculation } from './calculationStream.js';
import { deleteGamesSnapshot, readGamesSnapshot, writeGamesSnapshot } from './gamesSnapshot.js';
import {
  type CachedRankings,
  deleteCache,
  deleteScope,
  type RankingsScope,
  readCache,
  readScope,
  writeCache,
  writeScope,
} from './rankingsCache.js';
import { collectGames, rpiCalculated } from './rpiCalculation.js';
import {
  parseRpiSagaData,
  RPI_COMPENSATIONS,
  RPI_SAGA,
  type RpiSagaData,
  type RpiStepName,
  variantOf,
} from './rpiSagaData.js';

export {
  RPI_COMPENSATIONS,
  RPI_SAGA,
  RPI_STEPS,
  type RpiSagaData,
  type RpiSagaRequest,
  type RpiStepName,
  rpiSagaData,
} from './rpiSagaData.js';

/** The profile and division of a season's current rankings (those of automatic recalculations). */
export interface CurrentScope {
  readonly profile: string;
  readonly division: string | null;
}

export interface RpiSagaDependencies {
  readonly store: EventStore;
  /** The matches read model. */
  readonly matches: DocumentStore;
  /** The team directory read model. */
  readonly teams: DocumentStore;
  /** The saga's own working documents: the match snapshot, the cache documents it replaced. */
  readonly snapshots: DocumentStore;
  /** The rankings documents that the query API serves: per scope, and each season's current. */
  readonly cache: DocumentStore;
  /**
   * A calculation of the whole season in this profile and division becomes the season's current
   * rankings; any other (as of a day, another profile or division) is kept for its scope only.
   */
  readonly current: CurrentScope;
  /** Per-step timeouts, overriding the defaults. */
  readonly timeoutsMs?: Readonly<Partial<Record<RpiStepName, number>>>;
  readonly retry?: RetryPolicy;
  /**
   * How long an attempt of `collect_matches` waits for the matches read model to apply the
   * changes the saga must count (see `awaitChange`) before it fails, to be retried; at most half
   * the step's timeout. @default 10000
   */
  readonly catchUpMs?: number;
}

const DEFAULT_TIMEOUTS: Record<RpiStepName, number> = {
  collect_matches: 20_000,
  calculate_rpi: 30_000,
  publish_results: 10_000,
  update_cache: 10_000,
};

/** The calculation of a saga: one per saga, with an id derived from the saga's. */
export function calculationOf(sagaId: string): string {
  return uuidFromName(`saga:${sagaId}#calculation`);
}

/** The scope of an RPI saga's calculation. */
export function scopeOfSaga(
  data: Pick<RpiSagaData, 'season' | 'as_of' | 'profile' | 'division' | 'variant'>,
): RankingsScope {
  return {
    season: data.season,
    as_of: data.as_of,
    profile: data.profile,
    division: data.division,
    variant: variantOf(data),
  };
}

/**
 * Whether a saga's calculation is of the season's current scope (the unadjusted RPI of the
 * whole season in the season's profile and division, as automatic recalculations compute it).
 */
export function isCurrentScope(
  data: Pick<RpiSagaData, 'as_of' | 'profile' | 'division' | 'variant'>,
  current: CurrentScope,
): boolean {
  return (
    data.as_of === null &&
    data.profile === current.profile &&
    data.division === current.division &&
    variantOf(data) === 'unadjusted'
  );
}

/** Each team's conference in the team directory, for the variants that tell games apart by it. */
async function conferencesOf(
  teams: DocumentStore,
  variant: RpiVariant,
): Promise<Record<string, string> | undefined> {
  if (variant === 'unadjusted') return undefined;
  return Object.fromEntries(
    (await listTeams(teams)).flatMap((t) => (t.conference ? [[t.team_id, t.conference]] : [])),
  );
}

/** The games an RPI saga with this data counts, from the read models as they are now. */
export async function collectMatches(
  deps: Pick<RpiSagaDependencies, 'matches' | 'teams'>,
  data: Pick<RpiSagaData, 'season' | 'as_of' | 'division'>,
): Promise<Game[]> {
  const games = await collectGames(deps.matches, data.season, data.as_of ?? undefined);
  if (data.division === null) return games;
  const inDivision = new Set(
    (await listTeams(deps.teams)).filter((t) => t.division === data.division).map((t) => t.team_id),
  );
  return games.filter((g) => inDivision.has(g.homeTeam) && inDivision.has(g.awayTeam));
}

/** Why a calculation with this data counts no game, said so that the user can act. */
export async function whyNoGames(
  deps: Pick<RpiSagaDependencies, 'matches' | 'teams'>,
  data: Pick<RpiSagaData, 'season' | 'as_of' | 'division'>,
): Promise<string> {
  const { season, as_of: asOf, division } = data;
  if (division !== null) {
    const teams = await listTeams(deps.teams);
    if (!teams.some((t) => t.division === division))
      return `no team of the team directory is in division "${division}"`;
  }
  const played = await collectGames(deps.matches, season);
  if (played.length === 0)
    return `no game of season ${season} has a result in the matches read model`;
  const first = played.map((g) => g.date).sort()[0] ?? '';
  if (asOf !== null && first > asOf)
    return `no game of season ${season} was played on or before ${asOf}; the first was on ${first}`;
  return `no game of season ${season}${asOf === null ? '' : ` up to ${asOf}`} is between two teams of division "${division}"`;
}

const snapshotKey = (sagaId: string, name: string) => ({ pk: `saga#${sagaId}`, sk: name });

/**
 * How long a saga's snapshots are kept (what its compensations restore): a saga runs for
 * minutes, a failed one waits for an operator, who has a month; then DynamoDB's TTL deletes them.
 */
export const SNAPSHOT_DAYS = 30;
const snapshotExpiry = () => Math.ceil(Date.now() / 1000) + SNAPSHOT_DAYS * 86_400;

/**
 * What `update_cache` keeps of a document it replaces, for its compensation to put back: the
 * document without its rankings, and the rankings beside, in parts like the cache's own.
 */
interface KeptReplaced {
  /** Null: there was none. Kept by earlier releases with its rankings. */
  readonly previous: Omit<CachedRankings, 'rankings'> | CachedRankings | null;
  readonly rankings?: CachedRankings['rankings'];
}

/** Keeps what update_cache replaces, at a key that holds nothing yet. */
async function keepReplaced(
  snapshots: DocumentStore,
  key: { pk: string; sk: string },
  replaced: CachedRankings | undefined,
): Promise<void> {
  let kept: KeptReplaced = { previous: null };
  if (replaced) {
    const { rankings, ...rest } = replaced;
    kept = { previous: rest, rankings };
  }
  await writeParted(snapshots, key, kept, {
    field: 'rankings',
    expiresAt: snapshotExpiry(),
    replacing: null,
  });
}

async function keptReplaced(
  snapshots: DocumentStore,
  key: { pk: string; sk: string },
): Promise<CachedRankings | undefined> {
  const kept = (await readParted(snapshots, key)) as KeptReplaced | undefined;
  if (!kept?.previous) return undefined;
  return 'rankings' in kept.previous
    ? kept.previous
    : { ...kept.previous, rankings: kept.rankings ?? [] };
}

/** Where update_cache writes: the scope's document, and the season's current one when it is of that scope. */
interface CacheTarget {
  readonly read: () => Promise<CachedRankings | undefined>;
  readonly write: (document: CachedRankings) => Promise<void>;
  readonly remove: () => Promise<void>;
  /** The saga's copy of what it replaced. */
  readonly saved: string;
}

function cacheTargets(
  deps: RpiSagaDependencies,
  data: RpiSagaData,
): { scope: CacheTarget; current?: CacheTarget } {
  const scope = scopeOfSaga(data);
  const targets: { scope: CacheTarget; current?: CacheTarget } = {
    scope: {
      read: () => readScope(deps.cache, scope),
      write: (document) => writeScope(deps.cache, document),
      remove: () => deleteScope(deps.cache, scope),
      saved: 'previous-scope',
    },
  };
  if (isCurrentScope(data, deps.current))
    targets.current = {
      read: () => readCache(deps.cache, data.season),
      write: (document) => writeCache(deps.cache, document),
      remove: () => deleteCache(deps.cache, data.season),
      // The name earlier releases kept the replaced current rankings under.
      saved: 'previous-cache',
    };
  return targets;
}

/** The cache document of a saga's published calculation. */
async function cachedDocument(
  deps: RpiSagaDependencies,
  sagaId: string,
  data: RpiSagaData,
  collectedAt: string | null,
): Promise<CachedRankings> {
  const calculationId = calculationOf(sagaId);
  const state = await calculationState(deps.store, calculationId);
  if (!state.published || state.retracted)
    throw new SagaError('MISSING_INPUT', `calculation ${calculationId} is not published`, {
      retryable: true,
      context: { sagaId, step: 'update_cache', season: data.season },
    });
  return {
    season: data.season,
    calculation_id: calculationId,
    as_of: state.asOf,
    profile: state.profile ?? data.profile,
    division: data.division,
    variant: variantOf(data),
    games_counted: state.gamesCounted,
    computed_at: state.computedAt,
    published_at: state.publishedAt,
    rankings: state.rankings as CachedRankings['rankings'],
    previous_calculation_id: null,
    saga_id: sagaId,
    collected_at: collectedAt,
  };
}

/**
 * The RPI calculation saga: collect the season's counted matches from the read model (kept as
 * a snapshot), calculate the RPI (`RpiCalculated`), publish it (`RpiResultsPublished`), update
 * the rankings cache: the document of the calculation's scope (season, as_of, profile,
 * division) and, for a calculation of the whole season in the season's profile and division,
 * the season's current rankings. Compensations, last step first: restore the cache, retract the
 * results, retract the calculation, release the snapshot. Every action and compensation is
 * keyed by the saga (the calculation id derives from the saga id; appends carry derived event
 * ids; the cache knows which calculation it holds), so running one twice changes nothing. A
 * calculation that would count no game fails at once (no retry), saying why. Collecting waits
 * until the matches read model has applied every change the saga must count (`awaitChange`);
 * a read model that stays behind fails the step, retried, then compensated: never a calculation
 * that misses one.
 */
export function rpiSaga(deps: RpiSagaDependencies): SagaDefinition<RpiSagaData> {
  const retry = deps.retry ?? { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };
  const timeout = (step: RpiStepName) => deps.timeoutsMs?.[step] ?? DEFAULT_TIMEOUTS[step];
  const compensation = (step: RpiStepName) => RPI_COMPENSATIONS[step];
  return {
    type: RPI_SAGA,
    compensationRetry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 },
    notBefore: (data) => data.not_before ?? undefined,
    // Only an automatic recalculation (due at `not_before`) is ever deferred.
    deferredUntil: async (sagaId, data) =>
      data.not_before ? deferredStart(deps.snapshots, sagaId) : undefined,
    after: (data) => data.after ?? undefined,
    parseData: (json) => parseRpiSagaData(json),
    steps: [
      {
        name: 'collect_matches',
        timeoutMs: timeout('collect_matches'),
        retry,
        async action({ sagaId, data, signal }) {
          // The changes taken in while the saga waited are read only once they are there.
          await untilApplied(
            { matches: deps.matches, work: deps.snapshots },
            sagaId,
            Math.min(deps.catchUpMs ?? 10_000, timeout('collect_matches') / 2),
            signal,
          );
          const games = await collectMatches(deps, data);
          signal.throwIfAborted();
          if (games.length === 0)
            throw new SagaError('NOTHING_TO_COUNT', await whyNoGames(deps, data), {
              retryable: false,
              context: { sagaId, step: 'collect_matches', season: data.season },
            });
          // The conferences as they are now, kept with the games: a retry computes the same.
          const conferences = await conferencesOf(deps.teams, variantOf(data));
          await writeGamesSnapshot(
            deps.snapshots,
            sagaId,
            { games, ...(conferences ? { conferences } : {}) },
            snapshotExpiry(),
          );
          const days = games.map((g) => g.date).sort();
          return {
            snapshot: 'games',
            games: games.length,
            collected_at: new Date().toISOString(),
            // The days the calculation counts, into the saga's data.
            saga_data: { date_range: { start: days[0] ?? null, end: days.at(-1) ?? null } },
          };
        },
        compensation: {
          name: compensation('collect_matches'),
          async run({ sagaId }) {
            await deleteGamesSnapshot(deps.snapshots, sagaId);
            await deletePartedMany(deps.snapshots, [
              snapshotKey(sagaId, 'previous-cache'),
              snapshotKey(sagaId, 'previous-scope'),
            ]);
          },
        },
      },
      {
        name: 'calculate_rpi',
        timeoutMs: timeout('calculate_rpi'),
        retry,
        async action({ sagaId, data, signal }) {
          const snapshot = await readGamesSnapshot(deps.snapshots, sagaId);
          if (!snapshot)
            throw new SagaError('MISSING_INPUT', 'the snapshot of the matches is gone', {
              retryable: false,
              context: { sagaId, step: 'calculate_rpi', season: data.season },
            });
          signal.throwIfAborted();
          let result: VariantResult;
          try {
            result = computeRpiVariant(snapshot.games, {
              profile: resolveProfile(data.profile),
              season: data.season,
              variant: variantOf(data),
              ...(data.as_of ? { asOf: data.as_of } : {}),
              ...(snapshot.conferences ? { conferences: snapshot.conferences } : {}),
              ...(data.adjustments ? { adjustments: data.adjustments } : {}),
            });
          } catch (error) {
            // What the request asks for cannot be computed: trying again changes nothing.
            if (error instanceof DomainError)
              throw new SagaError('INVALID_REQUEST', error.message, {
                retryable: false,
                context: { sagaId, step: 'calculate_rpi', season: data.season },
              });
            throw error;
          }
          const calculationId = calculationOf(sagaId);
          signal.throwIfAborted();
          let state: Awaited<ReturnType<typeof appendOnce>>;
          try {
            state = await appendOnce(
              deps.store,
              calculationId,
              'calculated',
              (s) => s.calculated,
              () =>
                rpiCalculated(result, calculationId, new Date(), {
                  division: data.division,
                  games: snapshot.games,
                }),
              sagaId,
            );
          } catch (error) {
            // The same teams make the same event: trying again changes nothing.
            if (error instanceof StoreError && error.code === 'ITEM_TOO_LARGE')
              throw new SagaError(
                'INVALID_REQUEST',
                `the calculation of ${result.ratings.length} teams is too large to store as one event (${error.message}); about 10,000 teams playing 20 games each fit`,
                {
                  retryable: false,
                  context: { sagaId, step: 'calculate_rpi', season: data.season },
                },
              );
            throw error;
          }
          return {
            calculation_id: calculationId,
            games_counted: result.games.counted,
            calculated: state.calculated,
          };
        },
        compensation: {
          name: compensation('calculate_rpi'),
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
        name: 'publish_results',
        timeoutMs: timeout('publish_results'),
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
            throw new SagaError(
              'MISSING_INPUT',
              `calculation ${calculationId} is not there to publish`,
              {
                retryable: true,
                context: { sagaId, step: 'publish_results', season: data.season },
              },
            );
          return { calculation_id: calculationId, published_at: state.publishedAt };
        },
        compensation: {
          name: compensation('publish_results'),
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
        name: 'update_cache',
        timeoutMs: timeout('update_cache'),
        retry,
        async action({ sagaId, data, signal, outputs }) {
          const calculationId = calculationOf(sagaId);
          const collectedAt =
            (outputs.collect_matches as { collected_at?: string } | undefined)?.collected_at ??
            null;
          const targets = cacheTargets(deps, data);
          let document: CachedRankings | undefined;
          /** Per target where ours is in place: the calculation it replaced. */
          const replaced: Partial<Record<keyof typeof targets, string | null>> = {};
          for (const which of ['scope', 'current'] as const) {
            const target = targets[which];
            if (!target) continue;
            const present = await target.read();
            if (present?.calculation_id === calculationId) {
              replaced[which] = present.previous_calculation_id;
              continue;
            }
            // A later request's rankings are in place already (sagas may overlap).
            if (present?.collected_at && collectedAt && present.collected_at > collectedAt)
              continue;
            // Keep what is replaced (once: a retry must not keep our own document as "previous").
            const saved = snapshotKey(sagaId, target.saved);
            if (!(await deps.snapshots.getMany([saved])).has(`${saved.pk}\u0000${saved.sk}`))
              await keepReplaced(deps.snapshots, saved, present);
            document ??= await cachedDocument(deps, sagaId, data, collectedAt);
            // An attempt that timed out must not write after its saga moved on.
            signal.throwIfAborted();
            const previous = present?.calculation_id ?? null;
            await target.write({ ...document, previous_calculation_id: previous });
            replaced[which] = previous;
          }
          const previous = replaced.current !== undefined ? replaced.current : replaced.scope;
          if (previous !== undefined)
            // Also when an earlier attempt wrote the documents but stopped before this.
            await appendOnce(
              deps.store,
              calculationId,
              'cached',
              (s) => s.cached,
              () => ({
                event_type: 'RankingsCacheUpdated',
                data: {
                  season: data.season,
                  calculation_id: calculationId,
                  previous_calculation_id: previous,
                  updated_at: new Date().toISOString(),
                },
              }),
              sagaId,
            );
          return {
            previous_calculation_id: previous ?? null,
            current: replaced.current !== undefined,
          };
        },
        compensation: {
          name: compensation('update_cache'),
          async run({ sagaId, data }) {
            for (const target of Object.values(cacheTargets(deps, data))) {
              const present = await target.read();
              if (present?.calculation_id !== calculationOf(sagaId)) continue; // ours is not there
              const saved = snapshotKey(sagaId, target.saved);
              const kept = await keptReplaced(deps.snapshots, saved);
              if (kept) await target.write(kept);
              else await target.remove();
            }
          },
        },
      },
    ],
  };
}
