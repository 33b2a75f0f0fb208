/**
 * RPI engine benchmark: time to rate a season, and how that time grows with the number of
 * games. Run one scenario per process (`tsx bench/rpi.ts <scenario>`) so its peak memory is
 * its own; `bench/main.ts` runs them all and prints one JSON document.
 */
import { pathToFileURL } from 'node:url';
import type { Game } from '../domain/games/Game.js';
import { computeRpi } from '../domain/rpi/computeRpi.js';
import { generateSeason } from '../domain/season/generateSeason.js';

export interface RpiScenario {
  readonly name: string;
  readonly teams: number;
  readonly games: number;
  readonly runs: number;
}

export const RPI_SCENARIOS: readonly RpiScenario[] = [
  { name: 'rpi-350-teams-5k-games', teams: 350, games: 5_000, runs: 21 },
  { name: 'rpi-20k-teams-250k-games', teams: 20_000, games: 250_000, runs: 5 },
  { name: 'rpi-20k-teams-500k-games', teams: 20_000, games: 500_000, runs: 5 },
  { name: 'rpi-20k-teams-1m-games', teams: 20_000, games: 1_000_000, runs: 3 },
  { name: 'rpi-20k-teams-2m-games', teams: 20_000, games: 2_000_000, runs: 3 },
];

/** A season of exactly `games` games among `teams` teams (the earliest of a generated one). */
export function seasonOf(teams: number, games: number, seed = 42): Game[] {
  const gamesPerTeam = Math.min(500, Math.ceil((2 * games) / teams) + 1);
  const season = generateSeason({ teams, gamesPerTeam, seed });
  if (season.games.length < games) throw new Error(`generated only ${season.games.length} games`);
  return season.games.slice(0, games);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median wall time of `computeRpi` over the scenario's runs, after a warm-up run. */
export function measure(scenario: RpiScenario) {
  const games = seasonOf(scenario.teams, scenario.games);
  computeRpi(games);
  const times: number[] = [];
  let rated = 0;
  for (let i = 0; i < scenario.runs; i++) {
    const start = performance.now();
    rated = computeRpi(games).ratings.length;
    times.push(performance.now() - start);
  }
  const ms = median(times);
  return {
    scenario: scenario.name,
    teams: rated,
    games: games.length,
    runs: scenario.runs,
    value: Number(ms.toFixed(3)),
    unit: 'ms',
    ns_per_game: Number(((ms * 1e6) / games.length).toFixed(1)),
    min_ms: Number(Math.min(...times).toFixed(3)),
    max_ms: Number(Math.max(...times).toFixed(3)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  const scenario = RPI_SCENARIOS.find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(
      `unknown scenario ${name}; known: ${RPI_SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(measure(scenario))}\n`);
}
