import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import {
  hasControlCharacter,
  MAX_NAME_LENGTH,
  unsafeText,
} from '../../domain/games/validateGame.js';
import { readTeams } from '../../feeds/readTeams.js';
import {
  applyTeamMetadata,
  type TeamChange,
  type TeamMetadata,
} from '../../ingest/teamMetadata.js';
import { dataDirHolder } from '../../stream/local/dataDirLock.js';
import { openEventStore, storeDir } from '../../stream/local/openEventStore.js';
import { CliError, EXIT } from '../exitCodes.js';
import { counted } from '../output/plural.js';
import { reportProblems } from '../output/problems.js';
import { fileProgress } from '../progress.js';
import { RejectsFile, refuseRejectsWithJson, rejectsPathFor } from '../rejectsFile.js';
import { applyTeamThrough } from '../remoteTeams.js';
import { serverToken } from '../serverToken.js';
import { refuseMixedStores, type StoreFlags, storeTarget } from '../storeOptions.js';
import { write } from '../write.js';

export interface ImportFlags extends StoreFlags {
  readonly json?: boolean;
  readonly rejects?: string;
  readonly concurrency: number;
  readonly progress: boolean;
}

export interface UpdateFlags extends StoreFlags {
  readonly conference?: string;
  readonly division?: string;
  readonly region?: string;
  readonly json?: boolean;
}

/** Where a command's team changes go: the store the flags name, or the server holding it. */
interface TeamsTarget {
  readonly description: string;
  apply(metadata: TeamMetadata, correlationId: string): Promise<TeamChange>;
  close(): Promise<void>;
}

/**
 * The store the flags name; a data folder a server holds, through that server (`POST
 * /admin/teams`), so its pipeline takes the change in at once, as `ingest` does.
 */
async function openTeams(flags: StoreFlags, maxSockets?: number): Promise<TeamsTarget> {
  const server =
    flags.aws || flags.endpoint || flags.memory
      ? undefined
      : dataDirHolder(storeDir(flags.dataDir))?.api;
  if (server) {
    const token = serverToken(flags.dataDir);
    return {
      description: `the server holding ${flags.dataDir} (${server})`,
      apply: (metadata, correlationId) =>
        applyTeamThrough(server, token, metadata, correlationId).catch((error: Error) => {
          throw new CliError(error.message, EXIT.FAILURE, { cause: error });
        }),
      close: async () => {},
    };
  }
  const opened = await openEventStore(storeTarget(flags, maxSockets));
  return {
    description: opened.description,
    apply: (metadata, correlationId) => applyTeamMetadata(opened.store, metadata, correlationId),
    close: () => opened.close(),
  };
}

/** The line `teams import` sums up with, every count written the same way. */
export function importSummary(
  file: string,
  counts: { registered: number; updated: number; unchanged: number; failed: number },
  rejected: number,
): string {
  const n = (count: number) => count.toLocaleString('en-US');
  return (
    `${file}: ${counted(counts.registered, 'team')} registered, ${n(counts.updated)} updated, ${n(counts.unchanged)} unchanged` +
    `${rejected > 0 ? `, ${counted(rejected, 'row')} rejected` : ''}` +
    `${counts.failed > 0 ? `, ${n(counts.failed)} could not be stored` : ''}`
  );
}

/** `teams import`: teams registered or updated from a team list. */
export async function runTeamsImport(
  file: string,
  flags: ImportFlags,
  command: Command,
): Promise<void> {
  const rejectsToStdout = flags.rejects === '-';
  refuseRejectsWithJson(flags);
  refuseMixedStores(flags, command);
  const rejectsPath = await rejectsPathFor(file, flags.rejects, {
    what: 'team list',
    fallback: 'teams.rejects.jsonl',
  });
  const feed = await readTeams(file);
  // Opened (emptied: it speaks of this run only) before the store, so that a rejects file that
  // cannot be written fails before anything is stored.
  const rejectsFile = rejectsToStdout ? undefined : await RejectsFile.open(rejectsPath);
  const counts = { registered: 0, updated: 0, unchanged: 0, failed: 0 };
  const failures: { team: string; reason: string }[] = [];
  const correlation = randomUUID();
  let store: string;
  try {
    const opened = await openTeams(flags, flags.concurrency * 2);
    store = opened.description;
    const progress = fileProgress(`importing ${file}`, flags.progress && !flags.json);
    try {
      let next = 0;
      const worker = async () => {
        while (next < feed.teams.length) {
          const team = feed.teams[next++] as TeamMetadata;
          try {
            const change = await opened.apply(team, correlation);
            counts[change.outcome]++;
          } catch (error) {
            counts.failed++;
            failures.push({ team: team.team, reason: (error as Error).message });
          }
          const done = counts.registered + counts.updated + counts.unchanged + counts.failed;
          if (done % 50 === 0) progress.update(done, feed.teams.length, done);
        }
      };
      await Promise.all(Array.from({ length: flags.concurrency }, worker));
    } finally {
      progress.stop();
      await opened.close();
    }
    if (feed.problems.length + failures.length > 0) {
      const rejects = `${[
        ...feed.problems.map((p) => JSON.stringify({ file, line: p.line, reason: p.reason })),
        ...failures.map((f) => JSON.stringify({ file, team: f.team, reason: f.reason })),
      ].join('\n')}\n`;
      if (rejectsFile) rejectsFile.write(rejects);
      else await write(rejects);
    }
  } finally {
    await rejectsFile?.close();
  }
  const rejected = feed.problems.length + failures.length;
  const rejectsAt = rejectsToStdout ? 'standard output' : rejectsPath;
  const summary = {
    file,
    store,
    teams: feed.teams.length,
    ...counts,
    rejected: feed.problems.length,
    rejects_file: rejected > 0 ? rejectsPath : null,
  };
  if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    if (feed.problems.length > 0) reportProblems(file, feed.problems);
    const line = `${importSummary(file === '-' ? 'stdin' : file, counts, feed.problems.length)}${rejected > 0 ? ` (see ${rejectsAt})` : ''}\n`;
    // Standard output carries the rejected rows when asked: the summary goes beside them.
    if (rejectsToStdout) process.stderr.write(line);
    else await write(line);
  }
  if (counts.failed > 0)
    throw new CliError(`${counted(counts.failed, 'team')} could not be stored`, EXIT.FAILURE);
  if (feed.problems.length > 0)
    throw new CliError(
      `${counted(feed.problems.length, 'row')} rejected; see ${rejectsAt}`,
      EXIT.INVALID_INPUT,
    );
}

/** `teams update`: one team's conference, division or region. */
export async function runTeamsUpdate(
  team: string,
  flags: UpdateFlags,
  command: Command,
): Promise<void> {
  refuseMixedStores(flags, command);
  // Composed (NFC), as the feeds' names are: one name however it was typed.
  const name = team.trim().normalize('NFC');
  if (name === '' || name.length > MAX_NAME_LENGTH || hasControlCharacter(name))
    throw new CliError(`team must be 1 to ${MAX_NAME_LENGTH} printable characters`, EXIT.USAGE);
  if (flags.conference === undefined && flags.division === undefined && flags.region === undefined)
    throw new CliError('nothing to change: give --conference, --division or --region', EXIT.USAGE);
  // Refused as a games feed or a team list refuses them: the directory's names are shown and
  // exported.
  for (const [what, value] of [
    ['team', name],
    ['--conference', flags.conference],
    ['--division', flags.division],
    ['--region', flags.region],
  ] as const) {
    const why = value === undefined ? undefined : unsafeText(value.trim());
    if (why) throw new CliError(`${what} ${why}`, EXIT.USAGE);
  }
  const opened = await openTeams(flags);
  let change: TeamChange;
  try {
    change = await opened.apply(
      {
        team: name,
        ...(flags.conference !== undefined ? { conference: flags.conference } : {}),
        ...(flags.division !== undefined ? { division: flags.division } : {}),
        ...(flags.region !== undefined ? { region: flags.region } : {}),
      },
      randomUUID(),
    );
  } finally {
    await opened.close();
  }
  if (flags.json) await write(`${JSON.stringify(change)}\n`);
  else
    await write(
      change.outcome === 'registered'
        ? `${name}: registered\n`
        : change.outcome === 'updated'
          ? `${name}: ${change.changed.join(', ')} updated\n`
          : `${name}: unchanged\n`,
    );
}
