import { type Command, Option } from 'commander';
import { DEFAULT_PROFILE_NAME, PROFILES } from '../../domain/rpi/RpiProfile.js';
import { RPI_VARIANTS } from '../../domain/rpi/rpiVariants.js';
import type { RpiFlags } from '../actions/rpi.js';
import { CliError, EXIT } from '../exitCodes.js';
import {
  addNeutralOptions,
  day,
  decimal,
  inputFile,
  numberList,
  seasonLabel,
  wholeNumber,
} from '../options.js';
import { RANKING_FORMATS } from '../output/rankingFormats.js';

export function registerRpi(program: Command): void {
  const command = program
    .command('rpi')
    .description('compute RPI rankings from a games file')
    .argument('[file]', 'games feed: CSV with header or JSON Lines ("-" for stdin)', inputFile)
    .addOption(
      new Option('--games <file>', 'the games feed, as the argument gives it')
        .argParser(inputFile)
        .hideHelp(),
    )
    .option(
      '--teams-file <file>',
      'Division I team list (column "team" or "name"); only games between listed teams count',
      inputFile,
    )
    .addOption(
      new Option('--teams <file>', 'old name of --teams-file').argParser(inputFile).hideHelp(),
    )
    .addOption(
      new Option('--profile <name>', 'parameter set of the calculation')
        .choices([...PROFILES.keys()])
        .default(DEFAULT_PROFILE_NAME),
    )
    .addOption(
      new Option(
        '--variant <variant>',
        'which RPI: unadjusted, adjusted (bonuses and penalties, soccer profiles) or non-conference (needs a conference column in --teams-file); the unadjusted RPI is shown beside the others',
      )
        .choices(RPI_VARIANTS)
        .default('unadjusted'),
    )
    .option(
      '--adjustments <file.json>',
      'values for the profile\'s bonus and penalty table, by tier id (README, "The RPI")',
    )
    .option('--weights <wp,owp,oowp>', 'override the weights, e.g. 0.25,0.50,0.25', numberList(3))
    .option(
      '--tie-value <n>',
      "override a tie's worth in the team's own WP, e.g. 0.3333 or 1/3",
      decimal,
    )
    .option('--sos-tie-value <n>', "override a tie's worth inside OWP and OOWP", decimal)
    .option(
      '--location-weights <home,road>',
      'override the weights of a home win and a road win in WP, e.g. 0.6,1.4',
      numberList(2),
    )
    .option('--as-of <YYYY-MM-DD>', 'count only games played on or before this day', day)
    .option(
      '--season <label>',
      'count only games of this season (the season column, else the year of the date)',
      seasonLabel,
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(RANKING_FORMATS).default('table'),
    )
    .addOption(
      new Option('--json', 'the same as --format json, as other commands say it').implies({
        format: 'json',
      }),
    )
    .option('--top <n>', 'print only the first n teams', wholeNumber(1, 1_000_000))
    .option(
      '--skip-invalid',
      'report invalid rows and compute from the valid ones (default: compute nothing)',
    )
    .option('--no-progress', 'no progress bar, even on a terminal');
  addNeutralOptions(command)
    .addHelpText(
      'after',
      `
Games file columns: date, home_team, away_team, home_score, away_score (required);
neutral (true/false), decided_by (regulation|overtime|penalties), match_id, season, venue.
Other columns are ignored, each named in a warning (with the column it probably misspells).
A match id given twice counts once, with its last row (a correction).

Exit codes: 0 rankings printed; 2 bad command line; 3 invalid rows (nothing computed;
with --skip-invalid, the rankings of the valid rows printed); 1 any other failure.

Examples:
  matchstream rpi season.csv
  matchstream rpi season.csv --teams-file d1.csv --as-of 2026-10-15 --format csv
  matchstream rpi season.jsonl --profile ncaa-soccer-2023 --top 25
  matchstream rpi season.csv --teams-file d1.csv --variant non-conference
  matchstream rpi season.csv --teams-file d1.csv --variant adjusted --adjustments tiers.json
  matchstream rpi hockey.csv --profile ncaa-hockey-2013
  matchstream generate | matchstream rpi -`,
    )
    .action(async (file: string | undefined, flags: RpiFlags) => {
      if (flags.json && flags.format !== 'json')
        throw new CliError(
          `--json and --format ${flags.format} ask for two formats: give one`,
          EXIT.USAGE,
        );
      const games = gamesFile(file, flags.games);
      const teams = teamsFile(flags);
      const { runRpi } = await import('../actions/rpi.js');
      await runRpi(games, teams, flags);
    });
}

/** The games file: the argument, or `--games` (the option it replaces), not two different ones. */
function gamesFile(argument: string | undefined, option: string | undefined): string {
  if (argument !== undefined && option !== undefined && argument !== option)
    throw new CliError(
      `two games files given (${argument} and --games ${option}): give one`,
      EXIT.USAGE,
    );
  const file = argument ?? option;
  if (file === undefined)
    throw new CliError(
      'give the games file: matchstream rpi FILE ("-" for standard input); a season stored in a data folder is rated by "matchstream saga start rpi --season S"',
      EXIT.USAGE,
    );
  return file;
}

/** The team list: `--teams-file`, or `--teams` (its old name), not two different ones. */
function teamsFile(flags: RpiFlags): string | undefined {
  if (flags.teams !== undefined && flags.teamsFile !== undefined && flags.teams !== flags.teamsFile)
    throw new CliError('--teams is the old name of --teams-file: give one of them', EXIT.USAGE);
  return flags.teamsFile ?? flags.teams;
}
