import { type Command, Option } from 'commander';
import type { Game } from '../../domain/games/Game.js';
import { latestPerMatch } from '../../domain/games/latestPerMatch.js';
import { computeRpi } from '../../domain/rpi/computeRpi.js';
import { DEFAULT_PROFILE_NAME, PROFILES, resolveProfile } from '../../domain/rpi/RpiProfile.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { readGames } from '../../feeds/readGames.js';
import { CliError, EXIT } from '../exitCodes.js';
import { wholeNumber } from '../options.js';
import { reportProblems } from '../output/problems.js';
import { rankingsJson, rankingsTable } from '../output/rankings.js';
import { write } from '../write.js';

interface StartFlags {
  readonly games?: string;
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly seed: number;
  readonly profile: string;
  readonly top: number;
  readonly json?: boolean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the main job: a season (generated, or --games FILE) to RPI rankings')
    .option('--games <file>', 'use this games feed instead of a generated sample season')
    .option('--teams <n>', 'teams in the generated season', wholeNumber(2, 100_000), 330)
    .option(
      '--games-per-team <m>',
      'games per team in the generated season',
      wholeNumber(1, 500),
      18,
    )
    .option(
      '--seed <s>',
      'seed of the generated season',
      wholeNumber(-(2 ** 53) + 1, 2 ** 53 - 1),
      2026,
    )
    .addOption(
      new Option('--profile <name>', 'RPI parameter set')
        .choices([...PROFILES.keys()])
        .default(DEFAULT_PROFILE_NAME),
    )
    .option('--top <n>', 'teams to print', wholeNumber(1, 1_000_000), 25)
    .option('--json', 'print one JSON summary with the full rankings')
    .addHelpText(
      'after',
      `
Today the job reads the season and computes the rankings directly; the event-sourced
pipeline (event store, stream, read models, saga) takes over as it lands.

Examples:
  npm start
  npm start -- --teams 48 --seed 7 --top 10
  matchstream start --games season.csv --json`,
    )
    .action(async (flags: StartFlags) => {
      await runStart(flags);
    });
}

async function runStart(flags: StartFlags): Promise<void> {
  const started = performance.now();
  const profile = resolveProfile(flags.profile);
  let games: readonly Game[];
  let source: string;
  if (flags.games) {
    const feed = await readGames(flags.games);
    if (feed.problems.length > 0) {
      reportProblems(flags.games, feed.problems);
      throw new CliError(
        `${feed.problems.length} invalid rows in ${flags.games}; nothing computed`,
        EXIT.INVALID_INPUT,
      );
    }
    games = latestPerMatch(feed.games).games;
    source = flags.games;
  } else {
    const season = generateSeason({
      teams: flags.teams,
      gamesPerTeam: flags.gamesPerTeam,
      seed: flags.seed,
    });
    games = season.games;
    source = `sample season ${season.season} (seed ${flags.seed})`;
  }
  const computeStarted = performance.now();
  const result = computeRpi(games, { profile });
  const computeMs = performance.now() - computeStarted;
  const totalMs = performance.now() - started;

  if (flags.json) {
    const doc = {
      source,
      ...rankingsJson(result, { rows: games.length, invalid: 0, superseded: 0 }),
      timing_ms: { rpi: round(computeMs), total: round(totalMs) },
    };
    await write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const top = result.ratings.slice(0, flags.top);
  await write(
    `matchstream — ${source}: ${result.ratings.length} teams, ${result.games.counted.toLocaleString('en-US')} games\n\n` +
      rankingsTable(result, top) +
      `\nrankings computed in ${round(computeMs)} ms (${round(totalMs)} ms in all)\n`,
  );
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
