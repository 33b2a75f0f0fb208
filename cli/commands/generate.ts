import { createWriteStream } from 'node:fs';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type Command, Option } from 'commander';
import type { Game } from '../../domain/games/Game.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { csvField, GAMES_CSV_HEADER, gameCsvRow, gameJsonLine } from '../../feeds/writeGames.js';
import { CliError, EXIT } from '../exitCodes.js';
import { wholeNumber } from '../options.js';
import { write } from '../write.js';

interface GenerateFlags {
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly seed: number;
  readonly season: string;
  readonly out?: string;
  readonly format?: 'csv' | 'jsonl';
  readonly teamsOut?: string;
  readonly json?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write a realistic synthetic season (deterministic for a seed)')
    .option('--teams <n>', 'number of teams', wholeNumber(2, 100_000), 330)
    .option('--games-per-team <m>', 'regular-season games per team', wholeNumber(1, 500), 18)
    .option(
      '--seed <s>',
      'random seed; the same seed writes the same season',
      wholeNumber(-(2 ** 53) + 1, 2 ** 53 - 1),
      1,
    )
    .option('--season <label>', 'season label, also the calendar year of the dates', '2026')
    .option('-o, --out <file>', 'write the games here (default: standard output)')
    .addOption(
      new Option(
        '--format <format>',
        'games format (default: from the extension of --out, else csv)',
      ).choices(['csv', 'jsonl']),
    )
    .option('--teams-out <file>', 'also write the team list (team,conference) as CSV')
    .option('--json', 'print a JSON summary (needs --out)')
    .addHelpText(
      'after',
      `
The season has conferences of about ten teams, home, away and neutral sites, about a fifth
of games tied, and a four-team tournament per conference whose draws go to overtime or
penalty kicks.

Examples:
  matchstream generate --teams 330 --games-per-team 18 --seed 7 --out season.csv
  matchstream generate --teams 20000 --games-per-team 200 --out big.jsonl --teams-out teams.csv`,
    )
    .action(async (flags: GenerateFlags) => {
      await runGenerate(flags);
    });
}

async function runGenerate(flags: GenerateFlags): Promise<void> {
  if (flags.json && !flags.out) {
    throw new CliError(
      '--json prints a summary on standard output, so it needs --out FILE',
      EXIT.USAGE,
    );
  }
  const started = performance.now();
  const season = generateSeason({
    teams: flags.teams,
    gamesPerTeam: flags.gamesPerTeam,
    seed: flags.seed,
    season: flags.season,
  });
  const format =
    flags.format ??
    (flags.out && /^\.(jsonl|ndjson|json)$/i.test(extname(flags.out)) ? 'jsonl' : 'csv');
  const out: Writable = flags.out ? createWriteStream(flags.out) : process.stdout;
  await writeGames(out, season.games, format);
  if (flags.out) {
    out.end();
    await finished(out);
  }
  if (flags.teamsOut) {
    const teams = createWriteStream(flags.teamsOut);
    teams.end(
      `team,conference\n${season.teams.map((t) => `${csvField(t.team)},${csvField(t.conference)}`).join('\n')}\n`,
    );
    await finished(teams);
  }
  if (flags.out) {
    const summary = {
      season: season.season,
      seed: flags.seed,
      teams: season.teams.length,
      games: season.games.length,
      out: flags.out,
      format,
      ...(flags.teamsOut ? { teams_out: flags.teamsOut } : {}),
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
    if (flags.json) await write(`${JSON.stringify(summary)}\n`);
    else
      process.stderr.write(
        `wrote ${summary.games} games of ${summary.teams} teams (season ${summary.season}, seed ${summary.seed}) to ${flags.out}\n`,
      );
  }
}

async function writeGames(
  out: Writable,
  games: readonly Game[],
  format: 'csv' | 'jsonl',
): Promise<void> {
  const row = format === 'csv' ? gameCsvRow : gameJsonLine;
  let buffer = format === 'csv' ? `${GAMES_CSV_HEADER}\n` : '';
  for (const game of games) {
    buffer += `${row(game)}\n`;
    if (buffer.length >= 1 << 16) {
      if (!out.write(buffer)) await new Promise((resolve) => out.once('drain', resolve));
      buffer = '';
    }
  }
  if (buffer)
    await new Promise<void>((resolve, reject) =>
      out.write(buffer, (e) => (e ? reject(e) : resolve())),
    );
}
