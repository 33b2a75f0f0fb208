/**
 * The whole embedded pipeline at volume: a generated season (20 games per team) through
 * `matchstream start --games FILE --data-dir DIR --json`, next to `matchstream ingest FILE
 * --data-dir DIR --json` of the same feed into a fresh folder (the store alone, no consumers),
 * at two sizes. Each run is the built command in a process of its own, so its peak RSS is its
 * own; a preload (volumeSampler.ts) samples the heap of its main thread and of each embedded
 * server's thread (dynalite, kinesalite) apart. And the same feed sent to `matchstream serve`
 * on a fresh folder (`ingest FILE --data-dir DIR` hands it to the server holding the folder),
 * timed until the season's rankings count every game: a feed taken in by a running pipeline,
 * whose automatic recalculations no `start` holds.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { generateSeason } from '../domain/season/generateSeason.js';
import { gameJsonLine } from '../feeds/writeGames.js';
import { type SampledRun, VOLUME_REPORT_VARIABLE } from './volumeSampler.js';

export interface VolumeScenario {
  readonly name: string;
  /** The season sizes, in teams; RSS per 1,000 events is compared between the first and last. */
  readonly teams: readonly number[];
  readonly gamesPerTeam: number;
  readonly seed: number;
}

export const VOLUME_SCENARIOS: readonly VolumeScenario[] = [
  // 3,000 teams: past the 2,150 whose games no longer fit one snapshot item (sagas/rpi/gamesSnapshot.ts).
  { name: 'pipeline-volume', teams: [330, 3000], gamesPerTeam: 20, seed: 2026 },
];

const MB = 2 ** 20;
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

const here = dirname(fileURLToPath(import.meta.url));
// The built command and preload, whether this runs built (dist/bench/) or from the sources.
const dist = existsSync(join(here, '../cli/main.js')) ? dirname(here) : join(here, '../dist');

/** Where the built command and the sampling preload are. */
export interface Built {
  readonly cli: string;
  readonly sampler: string;
}

const BUILT: Built = {
  cli: join(dist, 'cli/main.js'),
  sampler: join(dist, 'bench/volumeSampler.js'),
};

/** `matchstream ...args` in a process of its own, sampled: its JSON output and its report. */
function sampled(
  args: readonly string[],
  built: Built,
): { output: Record<string, unknown>; report: SampledRun } {
  for (const file of [built.cli, built.sampler])
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  const dir = mkdtempSync(join(tmpdir(), 'matchstream-volume-report-'));
  const reportFile = join(dir, 'report.json');
  try {
    const out = execFileSync(process.execPath, ['--import', built.sampler, built.cli, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 256 * MB,
      env: { ...process.env, [VOLUME_REPORT_VARIABLE]: reportFile },
    });
    return {
      output: JSON.parse(out) as Record<string, unknown>,
      report: JSON.parse(readFileSync(reportFile, 'utf8')) as SampledRun,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface VolumeFigure extends Omit<SampledRun, 'seconds' | 'requests' | 'items'> {
  /** Requests to the local servers per feed event, by operation and table, the largest first. */
  readonly requests_per_event: Record<string, number>;
  readonly requests_per_event_total: number;
  /** Items those requests carried per feed event (a batch counts each item), by operation and table. */
  readonly items_per_event: Record<string, number>;
  readonly items_per_event_total: number;
  readonly teams: number;
  readonly matches: number;
  /** Events the feed became (matches and team registrations), the same in both runs. */
  readonly events: number;
  /** Every event `start` appended, the sagas' own included. */
  readonly events_appended_total: number;
  readonly seconds: number;
  /** Feed events per second from the command's start to its summary, the whole pipeline. */
  readonly value: number;
  readonly unit: 'events/s end to end';
  /** Feed events per second of `matchstream ingest` of the same feed into a fresh folder. */
  readonly baseline: number;
  readonly baseline_unit: string;
  readonly ratio: number;
  readonly ingest_seconds: number;
  readonly ingest_peak_rss_mb: number;
  /** `cpu_seconds` over `seconds`: how many cores `start` kept busy on average. */
  readonly cores_busy: number;
  /** `start`'s CPU time (every thread) per feed event, in ms. */
  readonly cpu_ms_per_event: number;
  /** The ingest alone's CPU seconds, every thread, and by thread as `cpu_seconds_by_thread`. */
  readonly ingest_cpu_seconds: number;
  readonly ingest_cpu_seconds_by_thread: Record<string, number>;
  readonly ingest_cores_busy: number;
  readonly ingest_cpu_ms_per_event: number;
  /**
   * The ingest alone's CPU per event over `start`'s: what `ratio` would be if both runs kept
   * the cores equally busy. Past what the cores allow, only less work per event moves it.
   */
  readonly cpu_ratio: number;
  readonly rss_mb_per_1000_events: number;
  readonly automatic_sagas: number;
  readonly saga_status: unknown;
  readonly games_counted: number;
}

/** The feed sent to `serve`, until rated. */
export interface ServedFigure {
  /** From the ingest's start until the last saga ended with the season rated from every game. */
  readonly seconds_to_rated: number;
  /** Feed events per second over that time. */
  readonly value: number;
  readonly unit: 'events/s ingested and rated through serve';
  /** Of the ingest alone's events per second (the same baseline as `start`'s). */
  readonly ratio: number;
  /** How long `ingest` took to hand the feed over and have it stored. */
  readonly ingest_seconds: number;
  /** Sagas the feed started (automatic recalculations of the season). */
  readonly sagas: number;
  readonly saga_statuses: readonly string[];
  readonly games_counted: number;
  /** The `serve` process's. */
  readonly peak_rss_mb: number;
  /**
   * Requests the `serve` process sent to its servers per feed event, by operation and table,
   * the largest first: what taking the feed in and rating it cost the embedded DynamoDB.
   */
  readonly requests_per_event: Record<string, number>;
  readonly requests_per_event_total: number;
}

/** Requests per feed event, by operation and table, and all of them. */
function perEvent(
  requests: Record<string, number>,
  events: number,
): { requests_per_event: Record<string, number>; requests_per_event_total: number } {
  return {
    requests_per_event: Object.fromEntries(
      Object.entries(requests).map(([k, n]) => [k, round(n / events, 3)]),
    ),
    requests_per_event_total: round(Object.values(requests).reduce((a, b) => a + b, 0) / events, 2),
  };
}

/** How long a served run may take to rate its season before the benchmark gives up. */
const SERVED_PATIENCE_MS = 15 * 60_000;

/**
 * `serve` on a fresh folder (sampled), the feed ingested through it, then `GET /sagas` and
 * `GET /rankings` every 250 ms until every saga has ended and the season's rankings count
 * every game of the feed.
 */
async function served(
  feed: string,
  dir: string,
  season: string,
  baseline: number,
  expected: { events: number; games: number },
  built: Built,
): Promise<ServedFigure> {
  const reportDir = mkdtempSync(join(tmpdir(), 'matchstream-volume-report-'));
  const reportFile = join(reportDir, 'report.json');
  const server = spawn(
    process.execPath,
    ['--import', built.sampler, built.cli, 'serve', '--data-dir', dir, '--port', '0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, [VOLUME_REPORT_VARIABLE]: reportFile },
    },
  );
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  try {
    let said = '';
    const api = await new Promise<string>((resolve, reject) => {
      server.stderr.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        const found = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(said);
        if (found?.[1]) resolve(found[1]);
      });
      void exited.then((code) => reject(new Error(`serve exited (${code}): ${said.trim()}`)));
    });
    const get = async <T>(path: string): Promise<T> => {
      const answer = await fetch(`${api}${path}`);
      if (!answer.ok) throw new Error(`GET ${path}: ${answer.status}`);
      return (await answer.json()) as T;
    };
    const began = Date.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [built.cli, 'ingest', feed, '--data-dir', dir, '--json'],
      { encoding: 'utf8', maxBuffer: 16 * MB },
    );
    const ingested = Date.now();
    const summary = JSON.parse(stdout) as { events_appended: number };
    if (summary.events_appended !== expected.events)
      throw new Error(
        `serve took ${summary.events_appended} feed events, start ${expected.events}`,
      );
    type Saga = { status: string; finished_at: string | null };
    for (;;) {
      const { sagas } = await get<{ sagas: Saga[] }>('/sagas?limit=500');
      const rankings = await get<{ games_counted?: number }>(
        `/rankings?season=${encodeURIComponent(season)}`,
      ).catch(() => ({ games_counted: 0 }));
      if (
        sagas.length > 0 &&
        sagas.every((s) => s.finished_at) &&
        rankings.games_counted === expected.games
      ) {
        const rated = Math.max(...sagas.map((s) => Date.parse(s.finished_at ?? '')));
        server.kill('SIGTERM');
        await exited;
        const report = JSON.parse(readFileSync(reportFile, 'utf8')) as SampledRun;
        const seconds = (rated - began) / 1000;
        const value = expected.events / seconds;
        return {
          seconds_to_rated: round(seconds, 2),
          value: Math.round(value),
          unit: 'events/s ingested and rated through serve',
          ratio: round(value / baseline, 3),
          ingest_seconds: round((ingested - began) / 1000, 2),
          sagas: sagas.length,
          saga_statuses: [...new Set(sagas.map((s) => s.status))],
          games_counted: rankings.games_counted,
          peak_rss_mb: report.peak_rss_mb,
          ...perEvent(report.requests, expected.events),
        };
      }
      if (Date.now() - began > SERVED_PATIENCE_MS)
        throw new Error(`the season fed to serve was not rated within ${SERVED_PATIENCE_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    if (server.exitCode === null) {
      server.kill('SIGKILL');
      await exited;
    }
    rmSync(reportDir, { recursive: true, force: true });
  }
}

/**
 * One size: the feed written, then `start`, `ingest` alone and `serve` with an ingest through
 * it, each on a fresh data folder.
 */
export async function measureSize(
  teams: number,
  options: { gamesPerTeam: number; seed: number },
  built: Built = BUILT,
): Promise<VolumeFigure & { served: ServedFigure }> {
  const work = mkdtempSync(join(tmpdir(), 'matchstream-volume-'));
  try {
    const season = generateSeason({
      teams,
      gamesPerTeam: options.gamesPerTeam,
      seed: options.seed,
    });
    const feed = join(work, 'season.jsonl');
    writeFileSync(feed, `${season.games.map(gameJsonLine).join('\n')}\n`);
    const ingest = sampled(['ingest', feed, '--data-dir', join(work, 'ingest'), '--json'], built);
    const start = sampled(
      ['start', '--games', feed, '--data-dir', join(work, 'start'), '--json', '--quiet'],
      built,
    );
    const ingested = ingest.output as { appended: number; events_appended: number };
    const summary = start.output as {
      events_appended: number;
      games_counted: number;
      ingest: { events_appended: number };
      saga: { status: unknown; automatic_sagas: number };
    };
    const events = summary.ingest.events_appended;
    if (events !== ingested.events_appended)
      throw new Error(`start appended ${events} feed events, ingest ${ingested.events_appended}`);
    const value = events / start.report.seconds;
    const baseline = events / ingest.report.seconds;
    const seasonName = season.games[0]?.season ?? '';
    const servedFigure = await served(
      feed,
      join(work, 'served'),
      seasonName,
      baseline,
      { events, games: ingested.appended },
      built,
    );
    return {
      teams,
      matches: ingested.appended,
      events,
      events_appended_total: summary.events_appended,
      seconds: start.report.seconds,
      value: Math.round(value),
      unit: 'events/s end to end',
      baseline: Math.round(baseline),
      baseline_unit: 'events/s of matchstream ingest alone (same feed, fresh data folder)',
      ratio: round(value / baseline, 3),
      ingest_seconds: ingest.report.seconds,
      ingest_peak_rss_mb: ingest.report.peak_rss_mb,
      cpu_seconds: start.report.cpu_seconds,
      cpu_seconds_by_thread: start.report.cpu_seconds_by_thread,
      cores_busy: round(start.report.cpu_seconds / start.report.seconds, 2),
      cpu_ms_per_event: round((start.report.cpu_seconds * 1000) / events, 3),
      ingest_cpu_seconds: ingest.report.cpu_seconds,
      ingest_cpu_seconds_by_thread: ingest.report.cpu_seconds_by_thread,
      ingest_cores_busy: round(ingest.report.cpu_seconds / ingest.report.seconds, 2),
      ingest_cpu_ms_per_event: round((ingest.report.cpu_seconds * 1000) / events, 3),
      cpu_ratio: round(ingest.report.cpu_seconds / start.report.cpu_seconds, 3),
      peak_rss_mb: start.report.peak_rss_mb,
      main_heap_mb: start.report.main_heap_mb,
      peak_rss_sampled_at_s: start.report.peak_rss_sampled_at_s,
      peak_rss_by_phase_mb: start.report.peak_rss_by_phase_mb,
      seconds_by_phase: start.report.seconds_by_phase,
      main_heap_committed_mb: start.report.main_heap_committed_mb,
      threads_heap_mb: start.report.threads_heap_mb,
      threads_heap_committed_mb: start.report.threads_heap_committed_mb,
      external_mb: start.report.external_mb,
      samples: start.report.samples,
      ...perEvent(start.report.requests, events),
      items_per_event: Object.fromEntries(
        Object.entries(start.report.items).map(([k, n]) => [k, round(n / events, 3)]),
      ),
      items_per_event_total: round(
        Object.values(start.report.items).reduce((a, b) => a + b, 0) / events,
        2,
      ),
      rss_mb_per_1000_events: round((start.report.peak_rss_mb * 1000) / events, 2),
      automatic_sagas: summary.saga.automatic_sagas,
      saga_status: summary.saga.status,
      games_counted: summary.games_counted,
      served: servedFigure,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Every size of a scenario, and how RSS grows between the smallest and the largest: the MB
 * the process grew per 1,000 more events (flat memory per event keeps it near the per-event
 * cost of the data itself), at its peak and in each phase of `start` apart (the rating holds
 * the season's games, which the phases before it need not).
 */
export async function measure(scenario: VolumeScenario, built: Built = BUILT) {
  const figures = [];
  for (const teams of scenario.teams) figures.push(await measureSize(teams, scenario, built));
  const first = figures[0];
  const last = figures.at(-1);
  const growth = (before: number, after: number) =>
    first && last ? round(((after - before) * 1000) / (last.events - first.events), 2) : null;
  const compared = first && last && last !== first;
  const byPhase = compared
    ? Object.fromEntries(
        Object.entries(last.peak_rss_by_phase_mb).flatMap(([phase, after]) => {
          const before = first.peak_rss_by_phase_mb[phase];
          return before === undefined ? [] : [[phase, growth(before, after)]];
        }),
      )
    : null;
  return {
    scenario: scenario.name,
    figures,
    rss_growth_mb_per_1000_events: compared ? growth(first.peak_rss_mb, last.peak_rss_mb) : null,
    rss_growth_mb_per_1000_events_by_phase: byPhase,
  };
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2]) {
  const name = process.argv[2];
  const scenario = VOLUME_SCENARIOS.find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(
      `unknown scenario ${name}; known: ${VOLUME_SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  // --teams 330,1000 to choose the sizes.
  const at = process.argv.indexOf('--teams');
  const teams = at > 0 ? (process.argv[at + 1] ?? '').split(',').map(Number) : scenario.teams;
  if (teams.length === 0 || teams.some((t) => !Number.isInteger(t) || t < 2)) {
    process.stderr.write(
      `--teams "${process.argv[at + 1] ?? ''}": team counts of at least 2, comma-separated\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure({ ...scenario, teams }))}\n`);
}
