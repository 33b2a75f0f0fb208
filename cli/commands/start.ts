import { type Command, Option } from 'commander';
import { DEFAULT_PROFILE_NAME, PROFILES } from '../../domain/rpi/RpiProfile.js';
import type { StartFlags, StartInput } from '../actions/start.js';
import { CliError, EXIT } from '../exitCodes.js';
import {
  addNeutralOptions,
  faultSpec,
  inputFile,
  seasonLabel,
  teamCountAlias,
  wholeNumber,
} from '../options.js';
import { dataDirOption } from '../storeOptions.js';

export function registerStart(program: Command): void {
  addNeutralOptions(program.command('start'))
    .description('run the main job: a season through the whole pipeline to RPI rankings')
    .argument(
      '[games]',
      'games feed to ingest instead of a generated sample season ("-" for stdin)',
      inputFile,
    )
    .option('--games <file>', 'the games feed, as an option (the same as the argument)', inputFile)
    .option(
      '--team-count <n>',
      `teams in the generated season (default: ${DEFAULT_TEAM_COUNT})`,
      wholeNumber(2, 100_000),
    )
    .addOption(teamCountAlias())
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
    .option(
      '--season <label>',
      'season to rate (default: the latest season of the games; on a data folder that holds events, without a feed: required)',
      seasonLabel,
    )
    .addOption(
      new Option('--profile <name>', 'RPI parameter set')
        .choices([...PROFILES.keys()])
        .default(DEFAULT_PROFILE_NAME),
    )
    .option('--division <name>', 'count only games between teams of this division of the directory')
    .option(
      '--inject-fault <spec>',
      'make a saga step fail on purpose: saga:STEP[:error|timeout|crash][:compensation] (repeatable)',
      faultSpec,
    )
    .option('--top <n>', 'teams to print', wholeNumber(1, 1_000_000), 25)
    .option('--json', 'print one JSON summary with the full rankings')
    .option('--quiet', 'do not show the phases of the run on standard error')
    .addOption(new Option('--memory', 'keep nothing (the default)').conflicts('dataDir'))
    .addOption(dataDirOption('keep the pipeline state on disk here between runs', false))
    .option(
      '--serve',
      'serve the query API and the web console from the start, and keep serving after the run until interrupted',
    )
    .option('--port <n>', 'port of the query API with --serve', wholeNumber(0, 65535), 8080)
    .addHelpText(
      'after',
      `
Boots the embedded runtime (dynalite, kinesalite, change relay, consumers, buses), ingests the
season while the bus router waits, lets the read models and then the buses catch up, and lets
the RPI saga that the results asked for collect, calculate, publish and cache the rankings;
prints the top of the rankings with a pipeline summary. The rankings equal what
"matchstream rpi" computes from the same games and profile. Its phases show on standard error
(a live bar on a terminal, a line per phase otherwise) unless --quiet.

Without a games feed, start generates a sample season: in memory, or into a data folder that
holds no events yet. A data folder that holds events gets none unless --team-count,
--games-per-team or --seed ask for it (its results then replace those of the folder's matches
that share their ids: 2026-00001...): name its season with --season, and start ingests nothing,
lets the read models and the buses catch up with what the folder holds, and rates that season.

Exit codes: 0 the season was rated; 1 its saga was compensated or failed (the summary is
printed all the same) or the pipeline failed; 2 bad command line; 3 invalid rows in the feed.

Examples:
  npm start
  npm start -- --team-count 48 --seed 7 --top 10
  matchstream start season.csv --data-dir .matchstream --json
  matchstream start --data-dir .matchstream --season 2026
  matchstream start --serve --port 8080`,
    )
    .action(async (file: string | undefined, flags: StartFlags, command: Command) => {
      const input = resolveFlags(file, flags, command);
      const { runStart } = await import('../actions/start.js');
      await runStart(input);
    });
}

/** Teams of the generated sample season. */
const DEFAULT_TEAM_COUNT = 330;

/**
 * The games file from the argument or `--games`, the team count from either of its names, and
 * whether the command line asks for a generated season in so many words.
 */
function resolveFlags(
  file: string | undefined,
  flags: StartFlags,
  command: Command,
): StartFlags & StartInput {
  if (file !== undefined && flags.games !== undefined && file !== flags.games)
    throw new CliError(
      `two games feeds: "${file}" and --games "${flags.games}"; give one`,
      EXIT.USAGE,
    );
  if (flags.teamCount !== undefined && flags.teams !== undefined)
    throw new CliError('--teams is the old name of --team-count: give one of them', EXIT.USAGE);
  const games = file ?? flags.games;
  const given = (option: string) => {
    const source = command.getOptionValueSource(option);
    return source !== undefined && source !== 'default';
  };
  return {
    ...flags,
    ...(games === undefined ? {} : { games }),
    teamCount: flags.teamCount ?? flags.teams ?? DEFAULT_TEAM_COUNT,
    sampleAsked: ['teamCount', 'teams', 'gamesPerTeam', 'seed'].some(given),
  };
}
