import { type FileHandle, open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Game } from '../../domain/games/Game.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { csvField, GAMES_CSV_HEADER, gameCsvRow, gameJsonLine } from '../../feeds/writeGames.js';
import { CliError, EXIT } from '../exitCodes.js';
import { counted } from '../output/plural.js';
import { sameFile } from '../sameFile.js';
import { write } from '../write.js';

export interface GenerateFlags {
  readonly teamCount: number;
  /** The old name of --team-count, still accepted. */
  readonly teams?: number;
  readonly gamesPerTeam: number;
  readonly seed: number;
  readonly season: string;
  readonly out?: string;
  readonly format?: 'csv' | 'jsonl';
  readonly teamsOut?: string;
  readonly json?: boolean;
}

/** `matchstream generate`: a synthetic season, written out. */
export async function runGenerate(flags: GenerateFlags): Promise<void> {
  const toStdout = (file: string | undefined) => file === undefined || file === '-';
  if (flags.json && toStdout(flags.out)) {
    throw new CliError(
      '--json prints a summary on standard output, so it needs --out FILE',
      EXIT.USAGE,
    );
  }
  if (flags.json && flags.teamsOut !== undefined && toStdout(flags.teamsOut))
    throw new CliError(
      '--json prints a summary on standard output, so it needs --teams-out FILE, not --teams-out -',
      EXIT.USAGE,
    );
  if (flags.teamsOut !== undefined && toStdout(flags.teamsOut) && toStdout(flags.out))
    throw new CliError(
      '--teams-out - and the games would both go to standard output: give --out FILE',
      EXIT.USAGE,
    );
  if (
    flags.out !== undefined &&
    flags.teamsOut !== undefined &&
    !toStdout(flags.out) &&
    !toStdout(flags.teamsOut) &&
    sameFile(flags.out, flags.teamsOut)
  )
    throw new CliError(
      `--out ${flags.out} and --teams-out ${flags.teamsOut} are the same file: the team list would replace the games; name two files`,
      EXIT.USAGE,
    );
  // The readers take a file by its extension (`rpi`, `ingest`): games in the other format
  // than the name says would not read back.
  if (flags.format && flags.out !== undefined && !toStdout(flags.out)) {
    const ext = extname(flags.out).toLowerCase();
    const named =
      ext === '.csv' ? 'csv' : /^\.(jsonl|ndjson|json)$/.test(ext) ? 'jsonl' : undefined;
    if (named && named !== flags.format)
      throw new CliError(
        `--format ${flags.format} and --out ${flags.out} disagree: a ${ext} file is read as ${named === 'csv' ? 'CSV' : 'JSON Lines'}; drop --format, or name a ${flags.format === 'csv' ? '.csv' : '.jsonl'} file`,
        EXIT.USAGE,
      );
  }
  const started = performance.now();
  const gamesFile = toStdout(flags.out) ? undefined : flags.out;
  const teamsFile = toStdout(flags.teamsOut) ? undefined : flags.teamsOut;
  // Both files are opened before anything is written (and emptied only then), so that one that
  // cannot be written fails at once, leaving the other as it was.
  const games = gamesFile ? await open(gamesFile, 'a') : undefined;
  const teams = teamsFile
    ? await open(teamsFile, 'a').catch(async (error: unknown) => {
        await games?.close();
        throw error;
      })
    : undefined;
  const season = generateSeason({
    teams: flags.teamCount,
    gamesPerTeam: flags.gamesPerTeam,
    seed: flags.seed,
    season: flags.season,
  });
  const jsonLines = (file: string | undefined) =>
    file !== undefined && /^\.(jsonl|ndjson|json)$/i.test(extname(file));
  const format = flags.format ?? (jsonLines(gamesFile) ? 'jsonl' : 'csv');
  try {
    if (games) await emptied(games);
    await writeGames(
      games && gamesFile ? (text) => games.writeFile(text).catch(naming(gamesFile)) : write,
      season.games,
      format,
    );
    if (flags.teamsOut) {
      // In the format its name says, as the readers of a team list take it by the extension.
      const list = jsonLines(teamsFile)
        ? season.teams
            .map((t) => `${JSON.stringify({ team: t.team, conference: t.conference })}\n`)
            .join('')
        : `team,conference\n${season.teams.map((t) => `${csvField(t.team)},${csvField(t.conference)}`).join('\n')}\n`;
      if (teams && teamsFile) {
        await emptied(teams);
        await teams.writeFile(list).catch(naming(teamsFile));
      } else await write(list);
    }
  } finally {
    await teams?.close();
    await games?.close();
  }
  if (gamesFile) {
    const summary = {
      season: season.season,
      seed: flags.seed,
      teams: season.teams.length,
      games: season.games.length,
      out: gamesFile,
      format,
      ...(flags.teamsOut ? { teams_out: flags.teamsOut } : {}),
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
    if (flags.json) await write(`${JSON.stringify(summary)}\n`);
    else
      process.stderr.write(
        `wrote ${counted(summary.games, 'game')} of ${counted(summary.teams, 'team')} (season ${summary.season}, seed ${summary.seed}) to ${gamesFile}\n`,
      );
  }
}

/** The games as CSV or JSON Lines, handed to `put` in chunks of about 64 KB. */
async function writeGames(
  put: (text: string) => Promise<void>,
  games: readonly Game[],
  format: 'csv' | 'jsonl',
): Promise<void> {
  const row = format === 'csv' ? gameCsvRow : gameJsonLine;
  let buffer = format === 'csv' ? `${GAMES_CSV_HEADER}\n` : '';
  for (const game of games) {
    buffer += `${row(game)}\n`;
    if (buffer.length >= 1 << 16) {
      await put(buffer);
      buffer = '';
    }
  }
  if (buffer) await put(buffer);
}

/** A file opened to append, emptied before it is written (a device or a pipe is left as it is). */
async function emptied(file: FileHandle): Promise<void> {
  if ((await file.stat()).isFile()) await file.truncate(0);
}

/**
 * A write the system refused (a full disk), given the file's name, which an error of a file
 * handle lacks, so that it is said as `FILE: cannot write: no space left on device`.
 */
function naming(file: string) {
  return (error: unknown): never => {
    if (error instanceof Error && (error as NodeJS.ErrnoException).path === undefined)
      Object.assign(error, { path: file });
    throw error;
  };
}
