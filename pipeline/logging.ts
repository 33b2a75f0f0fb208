import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { Log } from '../stream/Log.js';
import type { LogFormat, LogLevel } from './logOptions.js';

export interface LoggingOptions {
  /** @default `warn`, or `info` while serving the API (see `servingLogLevel`) */
  readonly level?: LogLevel;
  /** @default `pretty` when standard error is a terminal, else `json` */
  readonly format?: LogFormat;
  /** @default standard error */
  readonly destination?: DestinationStream;
}

/**
 * Fields that must never reach a log, wherever they turn up: a request's credentials and
 * tokens. Nothing logs them on purpose; this keeps an accident from leaking one.
 */
const REDACTED = [
  'authorization',
  'token',
  'password',
  'secret',
  'headers.authorization',
  '*.authorization',
  '*.token',
  '*.password',
  '*.secret',
];

let logger: Logger = pino({ level: 'silent' });
let explicitLevel = false;

/**
 * Sets up the command's log from `--log-level` and `--log-format`: one line per record on
 * standard error (standard output stays the command's result), JSON or pretty.
 */
export function configureLogging(options: LoggingOptions = {}): void {
  const format = options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const destination =
    options.destination ??
    (format === 'pretty' ? prettyStream() : pino.destination({ dest: 2, sync: true }));
  explicitLevel = options.level !== undefined;
  logger = pino(
    {
      level: options.level ?? 'warn',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
    },
    destination,
  );
}

/** A server's requests are what its log is for: `info` unless `--log-level` said otherwise. */
export function servingLogLevel(): void {
  if (!explicitLevel && !logger.isLevelEnabled('info')) logger.level = 'info';
}

/** The command's log (silent until `configureLogging`). */
export function log(): Logger & Log {
  return logger;
}

function prettyStream(): DestinationStream {
  // Loaded only when wanted: most runs write JSON or nothing.
  const require = createRequire(import.meta.url);
  const pretty = require('pino-pretty') as (options: object) => DestinationStream;
  return pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true && !process.env.NO_COLOR,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    // Errors are logged as their message, a field like any other.
    errorLikeObjectKeys: [],
  });
}
