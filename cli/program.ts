import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../pipeline/logOptions.js';
import { registerArchive } from './commands/archive.js';
import { registerDeadLetters } from './commands/deadLetters.js';
import { registerGenerate } from './commands/generate.js';
import { registerIngest } from './commands/ingest.js';
import { registerInspect } from './commands/inspect.js';
import { registerProjections } from './commands/projections.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerReplay } from './commands/replay.js';
import { registerRpi } from './commands/rpi.js';
import { registerSaga } from './commands/saga.js';
import { registerSchemas } from './commands/schemas.js';
import { registerServe } from './commands/serve.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerTeams } from './commands/teams.js';
import { ERROR_PREFIX } from './output/errors.js';

/** The version in package.json, found from here whether running from `dist/` or the sources. */
function packageVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'matchstream' && pkg.version) return pkg.version;
    } catch {
      // Not at this level; try the next one up.
    }
  }
  return 'unknown';
}

/**
 * Commander's error text as one line: `matchstream: ` for its `error: `, its lines joined,
 * and where to look for usage last.
 * @example usageError("error: unknown option '--x'\n(Did you mean --y?)\n")
 * // "matchstream: unknown option '--x' (Did you mean --y?) (run with --help for usage)"
 */
export function usageError(text: string): string {
  const line = text
    .replace(/^error: /, ERROR_PREFIX)
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' ');
  return `${line} (run with --help for usage)`;
}

/** The `matchstream` command with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('matchstream')
    .description('matchstream: college soccer match feeds to RPI rankings, event-sourced')
    .version(packageVersion())
    .option('--debug', 'print stack traces and causes of errors')
    // Options before a command belong to the program, after it to the command: so that
    // `schemas show T --version 2` is the schema version, not the program's.
    .enablePositionalOptions()
    .exitOverride()
    // Commander's own errors ("error: unknown option ...") start as every other error does,
    // and are one line as they are: its suggestion ("(Did you mean --season?)") and the
    // pointer to --help after the error on the same line. Subcommands inherit this: it is set
    // before they are added.
    .configureOutput({
      outputError: (text, write) => write(`${usageError(text)}\n`),
    });
  // Every command is registered, with its options and help, from a module that loads nothing
  // heavy; what a command does (actions/) is imported by its action, when it runs: so `--help`,
  // a mistyped flag and each command load only what they need.
  registerRpi(program);
  registerGenerate(program);
  registerIngest(program);
  registerSchemas(program);
  registerInspect(program);
  registerDeadLetters(program);
  registerStart(program);
  registerServe(program);
  registerStatus(program);
  registerSaga(program);
  registerTeams(program);
  registerReplay(program);
  registerRebuild(program);
  registerProjections(program);
  registerArchive(program);
  addGlobalOptions(program);
  for (const group of program.commands) if (group.commands.length > 0) needsCommand(group);
  // Logging is set up from the global options before any command runs (and loaded only then).
  program.hook('preAction', async (_program, action) => {
    const { logLevel, logFormat } = action.optsWithGlobals<{
      logLevel?: LogLevel;
      logFormat?: LogFormat;
    }>();
    const { configureLogging } = await import('../pipeline/logging.js');
    configureLogging({
      ...(logLevel ? { level: logLevel } : {}),
      ...(logFormat ? { format: logFormat } : {}),
    });
  });
  return program;
}

/**
 * A command of commands (`saga`, `dead-letters`, ...) given an option and no command of its
 * own: Commander would say only that the option is unknown (to the group, which has none), so
 * the line says the command is missing, and which there are.
 * @example matchstream dead-letters --data-dir d
 * // "matchstream: dead-letters needs a command (list, show or redrive) before '--data-dir' (run with --help for usage)"
 */
function needsCommand(group: Command): void {
  const names = group.commands.map((c) => c.name());
  const choices =
    names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('');
  group.configureOutput({
    outputError: (text, write) => {
      const option = /^error: unknown option '([^']*)'/.exec(text)?.[1];
      write(
        `${usageError(
          option === undefined
            ? text
            : `error: ${group.name()} needs a command (${choices}) before '${option}'`,
        )}\n`,
      );
    },
  });
}

/** The options every command takes, before or after its name. */
const GLOBAL_OPTIONS = [
  () => new Option('--debug', 'print stack traces and causes of errors'),
  () =>
    new Option(
      '--log-level <level>',
      'what the log on standard error shows (default: warn; info while serving the API)',
    ).choices(LOG_LEVELS),
  () =>
    new Option(
      '--log-format <format>',
      'log records as JSON lines or pretty lines (default: pretty on a terminal, else json)',
    ).choices(LOG_FORMATS),
];

/** The global options are accepted after any command too, not only before it. */
function addGlobalOptions(command: Command): void {
  for (const make of GLOBAL_OPTIONS) {
    const option = make();
    if (!command.options.some((o) => o.long === option.long)) command.addOption(option);
  }
  for (const sub of command.commands) addGlobalOptions(sub);
}
