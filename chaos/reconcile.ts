import type { Game } from '../domain/games/Game.js';
import { computeRpi } from '../domain/rpi/computeRpi.js';
import type { GameRow } from '../feeds/readGames.js';
import { ingestGames } from '../ingest/ingestGames.js';
import { matchAggregateId } from '../ingest/matchEvents.js';
import { type EmbeddedPipeline, READ_MODELS_CONSUMER } from '../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../pipeline/readModels.js';
import { rebuildReadModel } from '../pipeline/rebuild.js';
import { eventCounts } from '../projections/readModels/pipelineStats.js';
import { readCache } from '../sagas/rpi/rankingsCache.js';
import { decodeRecord } from '../stream/consumer/decodeRecord.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { UnreadableEvents } from '../stream/eventStore/UnreadableEvents.js';
import type { ScenarioResult } from './summary.js';

/** One feed into the pipeline's store, as `matchstream ingest` would append it. */
export async function ingestFeed(pipeline: EmbeddedPipeline, games: readonly Game[]) {
  async function* rows(): AsyncGenerator<GameRow[]> {
    yield games.map((game, i) => ({ kind: 'game', line: i + 2, game, fields: {} }));
  }
  return ingestGames(rows(), { store: pipeline.runtime.store, concurrency: 8 });
}

/** Events of each match stream, in order. */
async function matchStreams(
  readAll: () => AsyncIterable<EventEnvelope[]>,
): Promise<Map<string, EventEnvelope[]>> {
  const streams = new Map<string, EventEnvelope[]>();
  for await (const page of readAll())
    for (const e of page) {
      if (!e.aggregate_id.startsWith('match:')) continue;
      const list = streams.get(e.aggregate_id) ?? [];
      list.push(e);
      streams.set(e.aggregate_id, list);
    }
  for (const list of streams.values()) list.sort((a, b) => a.sequence - b.sequence);
  return streams;
}

/**
 * Effects found twice in the other streams: a team registered twice, a saga step or
 * compensation completed twice, a saga ended twice, a calculation calculated, published,
 * cached or retracted twice, an event id twice.
 */
async function repeatedEffects(
  readAll: () => AsyncIterable<EventEnvelope[]>,
  log: (line: string) => void,
): Promise<number> {
  const once = new Map<string, number>();
  const ids = new Set<string>();
  let repeated = 0;
  for await (const page of readAll())
    for (const e of page) {
      if (ids.has(e.event_id)) repeated++;
      ids.add(e.event_id);
      const key =
        e.event_type === 'TeamRegistered' ||
        e.event_type === 'SagaStarted' ||
        e.event_type === 'SagaCompleted' ||
        e.event_type === 'SagaCompensated' ||
        e.event_type === 'RpiCalculated' ||
        e.event_type === 'RpiResultsPublished' ||
        e.event_type === 'RankingsCacheUpdated' ||
        e.event_type === 'RpiResultsRetracted'
          ? `${e.aggregate_id} ${e.event_type}`
          : e.event_type === 'SagaStepCompleted' || e.event_type === 'SagaCompensationCompleted'
            ? `${e.aggregate_id} ${e.event_type} ${String(e.data.step_name)}`
            : undefined;
      if (key === undefined) continue;
      once.set(key, (once.get(key) ?? 0) + 1);
    }
  for (const [key, n] of once)
    if (n > 1) {
      log(`${key}: ${n} times`);
      repeated += n - 1;
    }
  return repeated;
}

/**
 * Reconciles a pipeline with the feeds it was given (in order): once it has settled, every
 * match is stored once with its final result and one correction per change, every stored event
 * was applied by the read models, every read model equals a rebuild from scratch, and the
 * cached rankings equal `computeRpi` on the final games (what `matchstream rpi` prints).
 */
export async function reconcile(
  pipeline: EmbeddedPipeline,
  feeds: readonly (readonly Game[])[],
  final: readonly Game[],
  log: (line: string) => void,
): Promise<{
  result: Omit<ScenarioResult, 'scenario' | 'seed' | 'details'>;
  details: Record<string, unknown>;
}> {
  await pipeline.runtime.settle();
  await pipeline.sagas.settle(60_000);
  await pipeline.runtime.settle();
  // Every read of the store goes past events it cannot decode (a scenario may plant them), as
  // the consumers and rebuilds do: such events are counted, and must be dead-lettered.
  const readAll = (unreadable = new UnreadableEvents()) =>
    pipeline.runtime.store.readAll({ unreadable });
  const streams = await matchStreams(readAll);
  let lost = 0;
  let duplicated = 0;
  const expected = new Map(final.map((g) => [matchAggregateId(g, 0), g]));
  // Each match's rows in feed order: a recording, then one correction per changed result.
  const rows = new Map<string | undefined, Game[]>();
  for (const g of feeds.flat()) rows.set(g.matchId, [...(rows.get(g.matchId) ?? []), g]);
  const eventsWanted = (matchId: string | undefined) =>
    (rows.get(matchId) ?? []).filter(
      (g, i, list) =>
        i === 0 || g.homeScore !== list[i - 1]?.homeScore || g.awayScore !== list[i - 1]?.awayScore,
    ).length;
  for (const [id, game] of expected) {
    const events = streams.get(id) ?? [];
    const last = events.at(-1);
    const result =
      last?.event_type === 'MatchRecorded' || last?.event_type === 'MatchResultCorrected'
        ? last.data
        : undefined;
    if (!result || result.home_goals !== game.homeScore || result.away_goals !== game.awayScore) {
      lost++;
      continue;
    }
    // Anything beyond a recording and one correction per change is there twice.
    const wanted = eventsWanted(game.matchId);
    if (events.length > wanted) duplicated += events.length - wanted;
    if (events.length < wanted) lost += wanted - events.length;
  }
  for (const id of streams.keys()) if (!expected.has(id)) duplicated++;
  duplicated += await repeatedEffects(readAll, log);

  let stored = 0;
  const unreadable = new UnreadableEvents();
  for await (const page of readAll(unreadable)) stored += page.length;
  const eventsIn = stored + unreadable.count;
  const applied = (await eventCounts(pipeline.stores['pipeline-stats'])).total;
  let divergences = 0;
  const rebuildUnreadable: Record<string, number> = {};
  for (const projection of READ_MODELS) {
    const rebuilt = await rebuildReadModel(pipeline, projection, { verify: true, noSwitch: true });
    if (rebuilt.differences) log(`${projection.name}: ${rebuilt.differences} documents differ`);
    divergences += rebuilt.differences ?? 0;
    rebuildUnreadable[projection.name] = rebuilt.unreadable;
  }
  const season = final[0]?.season ?? '2026';
  const cached = await readCache(pipeline.sagaStores.cache, season);
  const direct = computeRpi([...final]).ratings;
  const served = cached?.rankings ?? [];
  const rankingsDiffer =
    served.length !== direct.length ||
    direct.some(
      (r, i) =>
        served[i]?.team !== r.team ||
        (r.rpi === null
          ? served[i]?.rpi !== null
          : Math.abs((served[i]?.rpi ?? Number.NaN) - r.rpi) > 1e-12),
    );
  if (rankingsDiffer) {
    log('the cached rankings differ from computeRpi on the final games');
    divergences++;
  }
  // Events the read models' consumer gave up on, each kept with why.
  let deadLettered = 0;
  for (const letter of await pipeline.runtime.deadLetters.list(READ_MODELS_CONSUMER)) {
    if (!letter.record) continue;
    try {
      deadLettered += decodeRecord(letter.record).commit?.events.length ?? 1;
    } catch {
      deadLettered += 1; // not a commit at all: one unreadable item
    }
  }
  return {
    result: {
      passed:
        lost === 0 &&
        duplicated === 0 &&
        divergences === 0 &&
        applied + deadLettered === eventsIn &&
        deadLettered === unreadable.count,
      events_in: eventsIn,
      events_applied: applied,
      rejected: 0,
      dead_lettered: deadLettered,
      lost: lost + Math.max(0, eventsIn - applied - deadLettered),
      duplicated,
      divergences,
    },
    details: {
      matches: expected.size,
      corrected: [...rows.values()].filter((list) => list.length > 1).length,
      unreadable: unreadable.count,
      rebuild_unreadable: rebuildUnreadable,
      dead_letters_all_consumers: (await pipeline.runtime.deadLetters.list()).length,
    },
  };
}
