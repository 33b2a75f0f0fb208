import type { Game } from '../../domain/games/Game.js';
import { latestPerMatch } from '../../domain/games/latestPerMatch.js';
import { computeRpi } from '../../domain/rpi/computeRpi.js';
import { computeRpiVariant } from '../../domain/rpi/computeRpiVariant.js';
import { resolveProfile } from '../../domain/rpi/RpiProfile.js';
import type { RpiVariant } from '../../domain/rpi/rpiVariants.js';
import { readGames } from '../../feeds/readGames.js';
import { readTeams } from '../../feeds/readTeams.js';
import { readAdjustments } from '../adjustmentsFile.js';
import { CliError, EXIT } from '../exitCodes.js';
import { type NeutralFlags, neutralValues } from '../options.js';
import { counted } from '../output/plural.js';
import { reportProblems, unknownColumnWarnings } from '../output/problems.js';
import type { RankingFormat } from '../output/rankingFormats.js';
import { formatRankings } from '../output/rankings.js';
import { formatVariantRankings } from '../output/variantRankings.js';
import { fileProgress } from '../progress.js';
import { write } from '../write.js';

export interface RpiFlags extends NeutralFlags {
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
  /** `--json`: the same as `--format json`. */
  readonly json?: boolean;
  readonly top?: number;
  readonly skipInvalid?: boolean;
  readonly progress: boolean;
}

/** `matchstream rpi`: the rankings of a games file. */
export async function runRpi(
  gamesPath: string,
  teamList: string | undefined,
  flags: RpiFlags,
): Promise<void> {
  if (gamesPath === '-' && teamList === '-')
    throw new CliError(
      'the games and the team list cannot both come from standard input',
      EXIT.USAGE,
    );
  if (flags.adjustments === '-' && (gamesPath === '-' || teamList === '-'))
    throw new CliError(
      `the ${gamesPath === '-' ? 'games' : 'team list'} and the adjustments cannot both come from standard input`,
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
  // Said once the bar is gone, with the rows' problems.
  const warnings: string[] = [];
  let feed: Awaited<ReturnType<typeof readGames>>;
  try {
    const neutral = neutralValues(flags);
    feed = await readGames(gamesPath, {
      onProgress: (done, total) => progress.update(done, total),
      onUnknownColumn: unknownColumnWarnings(gamesPath, (line) => warnings.push(line)),
      ...(neutral ? { neutral } : {}),
    });
  } finally {
    progress.stop();
    for (const line of warnings) process.stderr.write(`${line}\n`);
  }
  reportProblems(gamesPath, feed.problems);
  invalid += feed.problems.length;
  if (invalid > 0 && !flags.skipInvalid) {
    throw new CliError(
      `${counted(invalid, 'invalid row')}; no rankings computed (use --skip-invalid to compute from the valid rows)`,
      EXIT.INVALID_INPUT,
    );
  }

  checkSeasons(gamesPath, feed.games, flags.season);
  checkAsOf(gamesPath, feed.games, flags.season, flags.asOf);
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
    skipped(invalid);
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
  skipped(invalid);
}

/**
 * The seasons of the feed against `--season`: a season the feed has no game of is an error
 * naming those it has (an empty table would look like a season without results); games of
 * several seasons ranked together, without `--season`, get a warning (an RPI rates one
 * season; `matchstream start` rates the latest).
 */
function checkSeasons(file: string, games: readonly Game[], season: string | undefined): void {
  const seasons = [...new Set(games.map((g) => g.season))].sort();
  const held = seasons.map((s) => JSON.stringify(s)).join(', ');
  const name = file === '-' ? 'stdin' : file;
  if (season !== undefined && games.length > 0 && !seasons.includes(season))
    throw new CliError(`${name} has no game of season "${season}": its seasons are ${held}`);
  if (season === undefined && seasons.length > 1)
    process.stderr.write(
      `matchstream: warning: ${name} holds games of ${seasons.length} seasons (${held}), ranked together: --season LABEL ranks one\n`,
    );
}

/**
 * `--as-of` before the first game (of `--season`, when given) is an error naming that game's
 * day, as a saga of the same scope says: an empty table would look like a season of teams with
 * no result.
 */
function checkAsOf(
  file: string,
  games: readonly Game[],
  season: string | undefined,
  asOf: string | undefined,
): void {
  if (asOf === undefined) return;
  const first = games
    .filter((g) => season === undefined || g.season === season)
    .map((g) => g.date)
    .sort()[0];
  if (first !== undefined && first > asOf)
    throw new CliError(
      `${file === '-' ? 'stdin' : file} has no game${season === undefined ? '' : ` of season "${season}"`} played on or before ${asOf}: the first was on ${first}`,
    );
}

/**
 * With --skip-invalid, rankings printed from the valid rows: exit 3 all the same (invalid input
 * kept aside, the rest done), with one line saying how many rows were left out.
 */
function skipped(invalid: number): void {
  if (invalid > 0)
    throw new CliError(
      `${counted(invalid, 'invalid row')} skipped; the rankings are of the valid rows`,
      EXIT.INVALID_INPUT,
    );
}
