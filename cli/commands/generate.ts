import { type Command, Option } from 'commander';
import type { GenerateFlags } from '../actions/generate.js';
import { outputFile, seasonLabel, teamCount, teamCountAlias, wholeNumber } from '../options.js';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write a realistic synthetic season (deterministic for a seed)')
    .option('--team-count <n>', 'number of teams', wholeNumber(2, 100_000), 330)
    .addOption(teamCountAlias())
    .option('--games-per-team <m>', 'regular-season games per team', wholeNumber(1, 500), 18)
    .option(
      '--seed <s>',
      'random seed; the same seed writes the same season',
      wholeNumber(-(2 ** 53) + 1, 2 ** 53 - 1),
      1,
    )
    .option(
      '--season <label>',
      'season label, also the calendar year of the dates',
      seasonLabel,
      '2026',
    )
    .option('-o, --out <file>', 'write the games here ("-" or none: standard output)', outputFile)
    .addOption(
      new Option(
        '--format <format>',
        'games format (default: from the extension of --out, else csv; one that contradicts it is refused)',
      ).choices(['csv', 'jsonl']),
    )
    .option(
      '--teams-out <file>',
      'also write the team list (team,conference): CSV, or JSON Lines for .jsonl ("-": standard output, CSV)',
      outputFile,
    )
    .option('--json', 'print a JSON summary (needs --out FILE, and --teams-out, if given, a file)')
    .addHelpText(
      'after',
      `
The season has conferences of about ten teams, home, away and neutral sites, about a fifth
of games tied, and a four-team tournament per conference whose draws go to overtime or
penalty kicks.

Examples:
  matchstream generate --team-count 330 --games-per-team 18 --seed 7 --out season.csv
  matchstream generate --team-count 20000 --games-per-team 200 --out big.jsonl --teams-out teams.csv`,
    )
    .action(async (flags: GenerateFlags, command: Command) => {
      const count = teamCount(flags, command);
      const { runGenerate } = await import('../actions/generate.js');
      await runGenerate({ ...flags, teamCount: count });
    });
}
