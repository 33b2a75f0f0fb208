import { type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { EVENTS_TABLE } from '../stream/eventsTableName.js';
import { DEFAULT_DATA_DIR } from '../stream/local/dataDir.js';
import type { StoreTarget } from '../stream/local/openEventStore.js';
import { CliError, EXIT } from './exitCodes.js';

/** The flags that choose the event store, shared by every command that uses it. */
export interface StoreFlags {
  readonly dataDir: string;
  readonly memory?: boolean;
  readonly endpoint?: string;
  readonly aws?: boolean;
  readonly table: string;
}

/** Adds `--data-dir`, `--memory`, `--endpoint`, `--aws` and `--table` to a command. */
export function addStoreOptions(command: Command): Command {
  return command
    .addOption(
      dataDirOption(
        'embedded store kept on disk in this folder (the one store: not with --memory, --endpoint or --aws)',
      ),
    )
    .option('--memory', 'embedded store in memory: nothing is kept after the command')
    .option(
      '--endpoint <url>',
      'use this DynamoDB endpoint instead of the embedded store',
      endpointUrl,
    )
    .option(
      '--aws',
      'the deployed events table on AWS (credentials and region from the environment or the shared AWS config: AWS_PROFILE, AWS_REGION; --table from the stack output EventsTable)',
    )
    .option('--table <name>', 'events table', EVENTS_TABLE);
}

/**
 * `--data-dir <dir>`, as every command that takes it declares it (default `.matchstream`;
 * `withDefault: false` for a command whose default is memory). An empty path is refused: it
 * would put the store in the current folder (`./dynamodb`) without saying so. So is a file,
 * or a path under one, which would fail later on a bare ENOTDIR.
 */
export function dataDirOption(description: string, withDefault = true): Option {
  const option = new Option('--data-dir <dir>', description).argParser(dataDirPath);
  return withDefault ? option.default(DEFAULT_DATA_DIR) : option;
}

function dataDirPath(value: string): string {
  if (value === '') throw new InvalidArgumentError('expected a folder, not an empty path');
  const file = fileInTheWay(resolve(value));
  if (file !== undefined)
    throw new InvalidArgumentError(
      file === resolve(value)
        ? `${value} is a file, not a folder`
        : `${value} cannot be a folder: ${file} is a file`,
    );
  return value;
}

/**
 * The file that stands where `path` or one of the folders above it would be, if any: the
 * nearest of them that exists is not a folder. Undefined when it is one (or nothing exists).
 */
function fileInTheWay(path: string): string | undefined {
  for (let at = path; ; at = dirname(at)) {
    let found: Stats | undefined;
    try {
      found = statSync(at, { throwIfNoEntry: false });
    } catch (error) {
      // Under a file: the file is further up. Anything else (a folder it may not read) is not
      // ours to judge here: opening it says why.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') return undefined;
    }
    if (found) return found.isDirectory() ? undefined : at;
    if (dirname(at) === at) return undefined;
  }
}

/**
 * Refuses (exit 2) flags that name two stores at once, `--aws`, `--endpoint`, `--memory` and a
 * `--data-dir` typed on the command line: one of them would be taken and the others passed
 * over without a word (an ingest with `--memory --aws` written to the deployed table, which
 * `--memory` says keeps nothing; one with `--memory --data-dir DIR` keeping nothing in DIR).
 * `--data-dir`'s default names no store of the user's: only `command`'s own value counts.
 */
export function refuseMixedStores(
  flags: Pick<StoreFlags, 'aws' | 'endpoint' | 'memory'>,
  command?: Command,
): void {
  const given = [
    ...(flags.aws ? ['--aws'] : []),
    ...(flags.endpoint !== undefined ? ['--endpoint'] : []),
    ...(flags.memory ? ['--memory'] : []),
    ...(command?.getOptionValueSource('dataDir') === 'cli' ? ['--data-dir'] : []),
  ];
  if (given.length > 1)
    throw new CliError(
      `${given.join(' and ')} name different stores: give one (--aws the deployed table, --endpoint URL another DynamoDB, --memory one that keeps nothing; --data-dir DIR or none, the data folder)`,
      EXIT.USAGE,
    );
}

/**
 * Where the flags say the events are (one store: see `refuseMixedStores`, which the command
 * calls first with itself, for `--data-dir`).
 */
export function storeTarget(flags: StoreFlags, maxSockets?: number): StoreTarget {
  refuseMixedStores(flags);
  return {
    table: flags.table,
    ...(flags.aws
      ? { aws: true }
      : flags.endpoint
        ? { endpoint: flags.endpoint }
        : flags.memory
          ? { memory: true }
          : { dataDir: flags.dataDir }),
    ...(maxSockets ? { maxSockets } : {}),
  };
}

/** `--endpoint`: an http(s) URL. */
export function endpointUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:8000');
}
