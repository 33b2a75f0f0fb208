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
 * Fields that must never reach a log, wherever they turn up and however their name is
 * written (`token`, `apiToken`, `api_token`, `x-api-key`, `AWS_SECRET_ACCESS_KEY`): a
 * request's credentials and tokens. Nothing logs them on purpose; this keeps an accident from
 * leaking one. Matched on the name lower-cased without `_`, `-`, `.` or spaces.
 */
const SECRET_NAME =
  /token|password|passwd|secret|authorization|apikey|privatekey|credential|cookie/;
const REDACTED = '[redacted]';

/** Whether a field's name says it holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replace(/[-_.\s]/g, ''));
}

/**
 * A record's fields with every secret one's value replaced, in plain objects and arrays at
 * any depth (a copy: the caller's objects are left as they are).
 */
function redacted(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => redacted(v, seen));
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, isSecretName(k) ? REDACTED : redacted(v, seen)]),
  );
}

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
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redacted(record) as Record<string, unknown>,
      },
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
