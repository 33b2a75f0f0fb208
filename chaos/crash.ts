/**
 * The crash scenario: the embedded pipeline runs as a child process (`matchstream start`) on an
 * on-disk data folder while it ingests a season in chunks (later chunks correct some results),
 * and is killed with SIGKILL at seeded random moments; each killed run is started again on the
 * same chunk until it finishes. Then, in this process, the store and the read models are
 * reconciled: every match once with its final result, every stored event applied, every read
 * model equal to a rebuild from scratch, the cached rankings equal to `computeRpi` on the same
 * games (what `matchstream rpi` prints).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPipeline } from '../cli/embeddedPipeline.js';
import { rebuildReadModel } from '../cli/rebuild.js';
import type { Game } from '../domain/games/Game.js';
import { computeRpi } from '../domain/rpi/computeRpi.js';
import { generateSeason } from '../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../feeds/writeGames.js';
import { readCache } from '../projections/rankingsCache.js';
import { READ_MODELS } from '../projections/readModels/index.js';
import { eventCounts } from '../projections/readModels/pipelineStats.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { matchAggregateId } from '../stream/ingest/matchEvents.js';
import { type Rng, seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface CrashOptions {
  /** Where the data folder and the feeds go (a fresh folder). */
  readonly dir: string;
  /** The built command line (`dist/cli/main.js`). */
  readonly cli: string;
  readonly seed: number;
  /** SIGKILLs over the run. */
  readonly kills: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
  /** Feeds the season is cut into (each run of the child ingests one). */
  readonly chunks: number;
  /** Longest wait before a kill (ms after the child starts). @default 4000 */
  readonly maxKillDelayMs?: number;
  readonly log?: (line: string) => void;
}

/** One kill: which feed the child was ingesting and how long after it started. */
export interface Kill {
  readonly chunk: number;
  readonly after_ms: number;
}

/** The feeds: the season in chunks, and some results corrected in a later chunk. */
function feeds(options: CrashOptions, rng: Rng): { chunks: Game[][]; final: Game[] } {
  const season = generateSeason({
    teams: options.teams,
    gamesPerTeam: options.gamesPerTeam,
    seed: options.seed,
  });
  const games = season.games.map((g, i) => ({ ...g, matchId: `c${i}` }));
  const size = Math.ceil(games.length / options.chunks);
  const chunks = Array.from({ length: options.chunks }, (_, i) =>
    games.slice(i * size, (i + 1) * size),
  );
  const final = new Map(games.map((g) => [g.matchId, g]));
  // One result in twenty is corrected in the chunk after its own (the last chunk's, in it).
  for (let i = 0; i < chunks.length; i++) {
    const later = chunks[Math.min(i + 1, chunks.length - 1)];
    for (const g of chunks[i] ?? []) {
      if (rng() >= 0.05 || !later) continue;
      const corrected = { ...g, homeScore: g.homeScore + 1 + Math.floor(rng() * 3) };
      later.push(corrected);
      final.set(g.matchId, corrected);
    }
  }
  return { chunks, final: [...final.values()] };
}

/** Runs `matchstream start` on one feed; kills it after `killAfterMs` when given. */
function runChild(
  options: CrashOptions,
  feed: string,
  data: string,
  killAfterMs: number | undefined,
): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [options.cli, 'start', '--games', feed, '--data-dir', data, '--json'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code, stderr });
    });
  });
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

export async function crashScenario(options: CrashOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const rng = seededRng(options.seed);
  const { chunks, final } = feeds(options, rng);
  const data = join(options.dir, 'data');
  mkdirSync(data, { recursive: true });
  const kills: Kill[] = [];
  const perChunk = Math.ceil(options.kills / chunks.length);
  const maxDelay = options.maxKillDelayMs ?? 4000;
  for (const [i, chunk] of chunks.entries()) {
    const feed = join(options.dir, `feed-${i}.csv`);
    writeFileSync(feed, `${[GAMES_CSV_HEADER, ...chunk.map(gameCsvRow)].join('\n')}\n`);
    // Killed runs until this chunk's share of kills is spent (a run that finishes first teaches
    // how long a run lasts, so later kills land inside one), then one run left to finish.
    let killedHere = 0;
    let restarts = 0;
    let longest = maxDelay;
    while (killedHere < perChunk && kills.length < options.kills) {
      const kill = Math.round(100 + rng() * Math.max(0, longest - 100));
      const started = Date.now();
      const run = await runChild(options, feed, data, kill);
      restarts++;
      if (run.killed) {
        kills.push({ chunk: i, after_ms: kill });
        killedHere++;
        log(`chunk ${i}: killed after ${kill} ms (${kills.length}/${options.kills})`);
      } else if (run.code !== 0) {
        throw new Error(`chunk ${i}: matchstream start exited ${run.code}: ${run.stderr}`);
      } else longest = Math.min(longest, Date.now() - started);
    }
    const run = await runChild(options, feed, data, undefined);
    if (run.code !== 0)
      throw new Error(`chunk ${i}: matchstream start exited ${run.code}: ${run.stderr}`);
    log(`chunk ${i}: finished after ${restarts} earlier runs`);
  }

  // Reconcile, in this process, on the same data folder.
  const pipeline = await startPipeline({ dataDir: data });
  try {
    await pipeline.runtime.settle();
    await pipeline.sagas.settle(60_000);
    await pipeline.runtime.settle();
    const streams = await matchStreams(() => pipeline.runtime.store.readAll());
    let lost = 0;
    let duplicated = 0;
    const expected = new Map(final.map((g) => [matchAggregateId(g, 0), g]));
    // Each match's rows in feed order: a recording, then one correction per changed result.
    const rows = new Map<string | undefined, Game[]>();
    for (const g of chunks.flat()) rows.set(g.matchId, [...(rows.get(g.matchId) ?? []), g]);
    const eventsWanted = (matchId: string | undefined) =>
      (rows.get(matchId) ?? []).filter(
        (g, i, list) =>
          i === 0 ||
          g.homeScore !== list[i - 1]?.homeScore ||
          g.awayScore !== list[i - 1]?.awayScore,
      ).length;
    for (const [id, game] of expected) {
      const events = streams.get(id) ?? [];
      const last = events.at(-1);
      if (
        !last ||
        last.data.home_goals !== game.homeScore ||
        last.data.away_goals !== game.awayScore
      ) {
        lost++;
        continue;
      }
      // Anything beyond a recording and one correction per change is there twice.
      const wanted = eventsWanted(game.matchId);
      if (events.length > wanted) duplicated += events.length - wanted;
      if (events.length < wanted) lost += wanted - events.length;
    }
    for (const id of streams.keys()) if (!expected.has(id)) duplicated++;

    let stored = 0;
    for await (const page of pipeline.runtime.store.readAll()) stored += page.length;
    const applied = (await eventCounts(pipeline.stores['pipeline-stats'])).total;
    let divergences = 0;
    for (const projection of READ_MODELS) {
      const name = projection.name;
      const rebuilt = await rebuildReadModel(pipeline, projection, {
        verify: true,
        noSwitch: true,
      });
      if (rebuilt.differences) log(`${name}: ${rebuilt.differences} documents differ`);
      divergences += rebuilt.differences ?? 0;
    }
    const season = final[0]?.season ?? '2026';
    const cached = await readCache(pipeline.sagaStores.cache, season);
    const direct = computeRpi(final).ratings;
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
    const deadLettered = (await pipeline.runtime.deadLetters.list()).length;
    return {
      scenario: 'crash-restart',
      seed: options.seed,
      passed: lost === 0 && duplicated === 0 && divergences === 0 && applied === stored,
      events_in: stored,
      events_applied: applied,
      rejected: 0,
      dead_lettered: deadLettered,
      lost: lost + Math.max(0, stored - applied),
      duplicated,
      divergences,
      details: {
        matches: expected.size,
        corrected: [...rows.values()].filter((list) => list.length > 1).length,
        chunks: chunks.length,
        kills,
      },
    };
  } finally {
    await pipeline.stop();
  }
}
