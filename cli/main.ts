#!/usr/bin/env node
import { getSystemErrorMap } from 'node:util';
import { CommanderError } from 'commander';
import { DomainError } from '../domain/DomainError.js';
import { FeedError } from '../feeds/FeedError.js';
import { SchemaError } from '../schemas/SchemaError.js';
import { DataDirInUseError } from '../stream/local/dataDirLock.js';
import { storeStopped } from '../stream/StoreError.js';
import { CliError, EXIT } from './exitCodes.js';
import { awsCredentialsLine } from './output/awsCredentials.js';
import { reportError } from './output/errors.js';
import { storeStoppedLine } from './output/storeStopped.js';
import { buildProgram } from './program.js';

async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  let stdoutFailure: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // The reader went away (`| head`): stop quietly.
    if (error.code === 'EPIPE') process.exit(EXIT.OK);
    // Anything else (a full disk): the command ends as it would, and then says so, in one line.
    stdoutFailure ??= error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Output that did not arrive is said before anything else: a later error follows from it,
    // or the command's result (rows rejected, say) went nowhere.
    return report(stdoutFailure ? stdoutFailed(stdoutFailure) : error, debug);
  }
  return stdoutFailure ? report(stdoutFailed(stdoutFailure), debug) : EXIT.OK;
}

/** A system error in the system's words ("no space left on device"), else its message. */
function systemWords(failure: NodeJS.ErrnoException): string {
  return (
    (failure.errno === undefined ? undefined : getSystemErrorMap().get(failure.errno)?.[1]) ??
    failure.message
  );
}

/** Standard output failing, in the system's words: "no space left on device". */
function stdoutFailed(failure: NodeJS.ErrnoException): CliError {
  return new CliError(`cannot write to standard output: ${systemWords(failure)}`, EXIT.FAILURE, {
    cause: failure,
  });
}

/** The system's errors on a file or folder that the user can put right. */
const FILE_ERRORS = new Set([
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'ENAMETOOLONG',
  'ELOOP',
]);

const FILE_VERBS: Readonly<Record<string, string>> = {
  open: 'open',
  mkdir: 'make',
  scandir: 'list',
  rename: 'rename',
  unlink: 'remove',
  rm: 'remove',
  write: 'write',
};

/**
 * A file or folder the system refused, said as the feeds' are (`PATH: cannot open: no such
 * file or directory`): the path, what was done and the system's words. Undefined for anything
 * else.
 */
function fileFailed(error: unknown): CliError | undefined {
  const failure = error as NodeJS.ErrnoException;
  if (
    !(error instanceof Error) ||
    typeof failure.code !== 'string' ||
    !FILE_ERRORS.has(failure.code) ||
    typeof failure.path !== 'string' ||
    typeof failure.syscall !== 'string'
  )
    return undefined;
  return new CliError(
    `${failure.path}: cannot ${FILE_VERBS[failure.syscall] ?? failure.syscall}: ${systemWords(failure)}`,
    EXIT.FAILURE,
    { cause: error },
  );
}

function report(given: unknown, debug: boolean): number {
  // A store stopped under the command is said below, with what to do.
  const error = (storeStopped(given) === undefined && fileFailed(given)) || given;
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help) already. Help asked for is done; help
    // in place of a missing or unknown command (`matchstream`, `matchstream saga`, `matchstream
    // help nope`: on standard error, exit code 1 to Commander) is a bad command line.
    return error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      (error.code === 'commander.help' && error.exitCode === 0)
      ? EXIT.OK
      : EXIT.USAGE;
  }
  // A local store that stopped under the command (its disk full): what stopped, and what to do.
  const stopped = error instanceof CliError ? undefined : storeStopped(error);
  // AWS credentials missing or refused, whatever the call: the same line, with what to set
  // (or the command's own line that begins with it and says more: an ingest stopped there).
  const line = awsCredentialsLine(error);
  const credentials =
    line !== undefined && error instanceof CliError && error.message.startsWith(line)
      ? error.message
      : line;
  const message = stopped
    ? storeStoppedLine(stopped)
    : credentials !== undefined
      ? credentials
      : error instanceof Error
        ? error.message
        : String(error);
  // Errors the user can act on say all there is; others point at --debug, on the same line.
  const explained =
    stopped !== undefined ||
    credentials !== undefined ||
    error instanceof CliError ||
    error instanceof FeedError ||
    error instanceof SchemaError ||
    error instanceof DomainError ||
    error instanceof DataDirInUseError;
  reportError(debug || explained ? message : `${message} (run with --debug for details)`);
  if (debug && error instanceof Error) {
    let cause: unknown = error;
    while (cause instanceof Error) {
      process.stderr.write(`${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
      if (cause) process.stderr.write('caused by: ');
    }
  }
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof DomainError) {
    return error.code === 'INVALID_GAME' ? EXIT.INVALID_INPUT : EXIT.USAGE;
  }
  return EXIT.FAILURE;
}

process.exitCode = await main(process.argv);
