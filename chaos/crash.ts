/**
 * The crash scenario: the embedded pipeline runs as a child process (`matchstream start`) on an
 * on-disk data folder while it ingests a season in chunks (later chunks correct some results),
 * and is killed with SIGKILL at seeded random moments; each killed run is started again on the
 * same chunk until it finishes. Then a read model is rebuilt (`matchstream rebuild --verify`),
 * killed with SIGKILL in the middle of its flushes and after a checkpoint, and run again until
 * it finishes, resumed from its checkpoint, equal to the live generation. Then, in this
 * process, the store and the read models are reconciled: every match once with its final
 * result, every stored event applied, every read model equal to a rebuild from scratch, the
 * cached rankings equal to `computeRpi` on the same games (what `matchstream rpi` prints).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Game } from '../domain/games/Game.js';
import { generateSeason } from '../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../feeds/writeGames.js';
import { startPipeline } from '../pipeline/embeddedPipeline.js';
import type { RebuildSummary } from '../pipeline/rebuild.js';
import { generationTable } from '../projections/ReadModelRegistry.js';
import { matchesProjection } from '../projections/readModels/matches.js';
import { openEventStore } from '../stream/local/openEventStore.js';
import { DynamoReplayCheckpoints, REPLAYS_TABLE } from '../stream/replay/ReplayCheckpoints.js';
import { runMatchstream } from './command.js';
import { reconcile } from './reconcile.js';
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
  /** SIGKILLs of the rebuild, each at a write of its new generation. @default 3 */
  readonly rebuildKills?: number;
  /** Longest wait before a kill (ms after the child starts). @default 4000 */
  readonly maxKillDelayMs?: number;
  /** How long the last, unkilled run of a chunk may take. @default 180000 */
  readonly finishWithinMs?: number;
  readonly log?: (line: string) => void;
}

/** One kill: which feed the child was ingesting and how long after it started. */
export interface Kill {
  readonly chunk: number;
  readonly after_ms: number;
}

/** The feeds: the season in chunks, and some results corrected in a later chunk. */
export function seasonFeeds(
  options: { seed: number; teams: number; gamesPerTeam: number; chunks: number },
  rng: Rng,
): { chunks: Game[][]; final: Game[] } {
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

/** `matchstream start` on one feed and the data folder; killed after `killAfterMs` if given. */
const runChild = (options: CrashOptions, feed: string, data: string, killAfterMs?: number) =>
  runMatchstream(
    options.cli,
    ['start', '--games', feed, '--data-dir', data, '--json'],
    killAfterMs,
  );

export async function crashScenario(options: CrashOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const rng = seededRng(options.seed);
  const { chunks, final } = seasonFeeds(options, rng);
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
    // The run left to finish gets a bound, so a run that hangs fails the scenario, saying so.
    const finishWithinMs = options.finishWithinMs ?? 180_000;
    const run = await runChild(options, feed, data, finishWithinMs);
    if (run.killed)
      throw new Error(
        `chunk ${i}: matchstream start did not finish within ${finishWithinMs} ms: ${run.stderr}`,
      );
    if (run.code !== 0)
      throw new Error(`chunk ${i}: matchstream start exited ${run.code}: ${run.stderr}`);
    log(`chunk ${i}: finished after ${restarts} earlier runs`);
  }

  const rebuild = await killedRebuild(options, data, rng, log);

  // Reconcile, in this process, on the same data folder (the rebuilt generation active).
  const pipeline = await startPipeline({ dataDir: data });
  try {
    const found = await reconcile(pipeline, chunks, final, log);
    const rebuildDiffers = rebuild.differences !== 0 || !rebuild.switched;
    if (!rebuildResumed(rebuild))
      log(`rebuild: did not resume from its checkpoint: ${JSON.stringify(rebuild.progress)}`);
    return {
      scenario: 'crash-restart',
      seed: options.seed,
      ...found.result,
      passed: found.result.passed && !rebuildDiffers && rebuildResumed(rebuild),
      divergences: found.result.divergences + (rebuildDiffers ? (rebuild.differences ?? 1) : 0),
      kills: kills.length + rebuild.kills.length,
      details: { ...found.details, chunks: chunks.length, kills, rebuild },
    };
  } finally {
    await pipeline.stop();
  }
}

/** Where a killed rebuild left its checkpoint: the export files it had applied in all. */
export interface RebuildProgress {
  /** Where the run was killed: `OPERATION:TARGET:N` (see `killAt.ts`). */
  readonly kill_at: string;
  /** Files of the export chain the checkpoint marks done, and events applied from them. */
  readonly files_done: number;
  readonly files: number;
  readonly events: number;
}

/** What the killed rebuild did. */
export interface KilledRebuild {
  readonly projection: string;
  /** Where each killed run died: `BatchWriteItem:<table>:<call>` or `PutItem:<checkpoints>:<call>`. */
  readonly kills: readonly string[];
  /** The checkpoint each killed run left, in order: it never goes back. */
  readonly progress: readonly RebuildProgress[];
  /** True when the run that finished went on from the last killed run's checkpoint. */
  readonly resumed: boolean;
  readonly flushes: number;
  /** Documents that differ from the live generation after it (null: not compared). */
  readonly differences: number | null;
  readonly switched: boolean;
}

/** The checkpoint of an interrupted rebuild of `matches` generation 2, read from the data folder. */
async function rebuildCheckpoint(data: string, killAt: string): Promise<RebuildProgress> {
  const opened = await openEventStore({ dataDir: data, readOnly: true });
  try {
    const checkpoints = await DynamoReplayCheckpoints.open(opened.client);
    const saved = await checkpoints.load(`rebuild:${matchesProjection.name}:g2:archive`);
    return {
      kill_at: killAt,
      files_done: saved?.keys.filter((k) => k === null).length ?? 0,
      files: saved?.keys.length ?? 0,
      events: saved?.events ?? 0,
    };
  } finally {
    await opened.close();
  }
}

/**
 * Rebuilds `matches` with small pages and a small flush budget (a flush every few pages),
 * SIGKILLed as soon as a seeded write call to its new table is answered (in a flush: some
 * documents written, its guards and positions not), run again each time; the last kill comes
 * right after the checkpoint of its first file done, so the next run must skip that file.
 * Between runs the checkpoint is read: it must never go back. Then the run to the end with
 * `--verify` must resume from it and switch to a generation equal to the live one.
 */
async function killedRebuild(
  options: CrashOptions,
  data: string,
  rng: Rng,
  log: (line: string) => void,
): Promise<KilledRebuild> {
  const args = [
    'rebuild',
    '--projection',
    matchesProjection.name,
    '--flush-mb',
    '0.02',
    '--page-size',
    '10',
    '--json',
    '--no-progress',
    '--data-dir',
    data,
  ];
  const table = generationTable(matchesProjection, 2);
  const kills: string[] = [];
  const progress: RebuildProgress[] = [];
  const planned = options.rebuildKills ?? 3;
  // The first write calls of a run: each run has at least a flush's documents left to write.
  // The last kill: once its first file is done (the checkpoint's first save is the run's start).
  for (let i = 0; i < planned; i++) {
    const killAt =
      i === planned - 1
        ? `PutItem:${REPLAYS_TABLE}:2`
        : `BatchWriteItem:${table}:${1 + Math.floor(rng() * 3)}`;
    const run = await runMatchstream(options.cli, args, options.finishWithinMs ?? 180_000, {
      killAt,
    });
    if (!run.killed && run.code === 0) {
      // It finished before that call: the run with --verify rebuilds (and compares) again.
      log(`rebuild: finished before ${killAt}`);
      break;
    }
    if (!run.killed) throw new Error(`rebuild exited ${run.code}: ${run.stderr}`);
    kills.push(killAt);
    const left = await rebuildCheckpoint(data, killAt);
    progress.push(left);
    log(`rebuild: killed at ${killAt}, ${left.files_done} of ${left.files} files done`);
  }
  const run = await runMatchstream(options.cli, [...args, '--verify'], options.finishWithinMs);
  if (run.killed || run.code !== 0)
    throw new Error(
      `rebuild: the run left to finish (after kills at ${kills.join(', ')}) exited ${run.code}: ${run.stderr}`,
    );
  const summary = JSON.parse(run.stdout) as RebuildSummary;
  log(`rebuild: finished, ${summary.differences} documents differ from the live generation`);
  return {
    projection: summary.projection,
    kills,
    progress,
    resumed: summary.resumed,
    flushes: summary.flushes,
    differences: summary.differences,
    switched: summary.switched,
  };
}

/** Whether the killed rebuild resumed: its checkpoint never went back, the last run went on from it. */
export function rebuildResumed(rebuild: KilledRebuild): boolean {
  const forward = rebuild.progress.every(
    (p, i) => i === 0 || p.files_done >= (rebuild.progress[i - 1]?.files_done ?? 0),
  );
  return rebuild.kills.length === 0 || (forward && rebuild.resumed);
}
