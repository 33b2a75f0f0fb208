import { type Command, Option } from 'commander';
import { latestPerMatch } from '../../domain/games/latestPerMatch.js';
import { computeRpi } from '../../domain/rpi/computeRpi.js';
import {
  computeRpiVariant,
  RPI_VARIANTS,
  type RpiVariant,
} from '../../domain/rpi/computeRpiVariant.js';
import { DEFAULT_PROFILE_NAME, PROFILES, resolveProfile } from '../../domain/rpi/RpiProfile.js';
import { readGames } from '../../feeds/readGames.js';
import { readTeams } from '../../feeds/readTeams.js';
import { readAdjustments } from '../adjustmentsFile.js';
import { CliError, EXIT } from '../exitCodes.js';
import {
  addNeutralOptions,
  day,
  decimal,
  type NeutralFlags,
  neutralValues,
  numberList,
  wholeNumber,
} from '../options.js';
import { counted } from '../output/plural.js';
import { reportProblems } from '../output/problems.js';
import { formatRankings, RANKING_FORMATS, type RankingFormat } from '../output/rankings.js';
import { formatVariantRankings } from '../output/variantRankings.js';
import { fileProgress } from '../progress.js';
import { write } from '../write.js';

interface RpiFlags extends NeutralFlags {
  readonly games?: string;
  readonly teamsFile?: string;
  /** The old name of --teams-file, still accepted. */
  readonly teams?: string;
  readonly profile: string;
  readonly variant: RpiVariant;
  readonly adjustments?: string;
  readonly weights?: number[];
  readonly tieValue?: number;
  readonly sosTieValue?: number;
  readonly locationWeights?: number[];
  readonly asOf?: string;
  readonly season?: string;
  readonly format: RankingFormat;
  readonly top?: number;
  readonly skipInvalid?: boolean;
  readonly progress: boolean;
}

export function registerRpi(program: Command): void {
  const command = program
    .command('rpi')
    .description('compute RPI rankings from a games file')
    .argument('[file]', 'games feed: CSV with header or JSON Lines ("-" for stdin)')
    .addOption(new Option('--games <file>', 'the games feed, as the argument gives it').hideHelp())
    .option(
      '--teams-file <file>',
      'Division I team list (column "team" or "name"); only games between listed teams count',
    )
    .addOption(new Option('--teams <file>', 'old name of --teams-file').hideHelp())
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
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(RANKING_FORMATS).default('table'),
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
neutral (true/false), decided_by (regulation|overtime|penalties), match_id, season.
A match id given twice counts once, with its last row (a correction).

Exit codes: 0 rankings printed; 2 bad command line; 3 invalid rows (nothing computed
unless --skip-invalid); 1 any other failure.

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
      await runRpi(gamesFile(file, flags.games), teamsFile(flags), flags);
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
      'give the games file: matchstream rpi FILE ("-" for standard input)',
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

async function runRpi(
  gamesPath: string,
  teamList: string | undefined,
  flags: RpiFlags,
): Promise<void> {
  if (gamesPath === '-' && teamList === '-')
    throw new CliError(
      'the games and the team list cannot both come from standard input',
      EXIT.USAGE,
    );
  const profile = resolveProfile(flags.profile, {
    ...(flags.weights ? { weights: flags.weights } : {}),
    ...(flags.tieValue !== undefined ? { tieValue: flags.tieValue } : {}),
    ...(flags.sosTieValue !== undefined ? { sosTieValue: flags.sosTieValue } : {}),
    ...(flags.locationWeights ? { locationWeights: flags.locationWeights } : {}),
  });

  const adjustments = flags.adjustments ? await readAdjustments(flags.adjustments) : undefined;
  if (adjustments && flags.variant !== 'adjusted') {
    throw new CliError('--adjustments only applies to --variant adjusted', EXIT.USAGE);
  }

  let invalid = 0;
  let teams: string[] | undefined;
  let conferences: Map<string, string> | undefined;
  if (teamList) {
    const list = await readTeams(teamList);
    reportProblems(teamList, list.problems);
    invalid += list.problems.length;
    teams = list.teams.map((t) => t.team);
    const known = list.teams.filter((t) => t.conference !== undefined && t.conference !== '');
    if (known.length > 0) conferences = new Map(known.map((t) => [t.team, t.conference ?? '']));
  }

  const progress = fileProgress('reading games', flags.progress);
  let feed: Awaited<ReturnType<typeof readGames>>;
  try {
    const neutral = neutralValues(flags);
    feed = await readGames(gamesPath, {
      onProgress: (done, total) => progress.update(done, total),
      ...(neutral ? { neutral } : {}),
    });
  } finally {
    progress.stop();
  }
  reportProblems(gamesPath, feed.problems);
  invalid += feed.problems.length;
  if (invalid > 0 && !flags.skipInvalid) {
    throw new CliError(
      `${counted(invalid, 'invalid row')}; no rankings computed (use --skip-invalid to compute from the valid rows)`,
      EXIT.INVALID_INPUT,
    );
  }

  const { games, superseded } = latestPerMatch(feed.games);
  const options = {
    profile,
    ...(teams ? { teams } : {}),
    ...(flags.asOf ? { asOf: flags.asOf } : {}),
    ...(flags.season ? { season: flags.season } : {}),
  };
  const context = { rows: feed.rows, invalid, superseded };
  // The unadjusted RPI of a classic profile keeps the output it always had.
  if (flags.variant === 'unadjusted' && !profile.qualityWinBonus) {
    await write(formatRankings(computeRpi(games, options), flags.format, context, flags.top));
    return;
  }
  const result = computeRpiVariant(games, {
    ...options,
    variant: flags.variant,
    ...(conferences ? { conferences } : {}),
    ...(adjustments ? { adjustments } : {}),
  });
  const unknown = result.games.unknownConference ?? 0;
  if (unknown > 0 && flags.variant !== 'unadjusted') {
    process.stderr.write(
      `matchstream: warning: ${counted(unknown, 'game')} with a team without a conference in the team list: no non-conference status, left out of the ${flags.variant} figures\n`,
    );
  }
  if (result.unconfirmed.length > 0) {
    process.stderr.write(
      `matchstream: warning: values no published source confirmed were used: ${result.unconfirmed.join(', ')} (supply them with --adjustments)\n`,
    );
  }
  await write(formatVariantRankings(result, flags.format, context, flags.top));
}
