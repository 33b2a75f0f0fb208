import { type Command, InvalidArgumentError, Option } from 'commander';
import { isCalendarDay } from '../domain/games/parseDate.js';
import type { NeutralValues } from '../domain/games/validateGame.js';
import { parseStepFault, type StepFault } from '../sagas/faultSpec.js';
import { RPI_STEPS } from '../sagas/rpi/rpiSagaData.js';
import { CliError, EXIT } from './exitCodes.js';

/** A commander argument parser for a whole number within bounds. */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A commander argument parser for a number (decimal or fraction such as `1/3`). */
export function decimal(value: string): number {
  const n = parseNumber(value);
  if (n === undefined) throw new InvalidArgumentError('expected a number such as 0.5 or 1/3');
  return n;
}

/** A commander argument parser for `count` comma-separated numbers. */
export function numberList(count: number): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((p) => parseNumber(p));
    if (parts.length !== count || parts.some((p) => p === undefined)) {
      throw new InvalidArgumentError(`expected ${count} comma-separated numbers`);
    }
    return parts as number[];
  };
}

/**
 * A commander argument parser for an instant, `--since` and `--until`: an ISO 8601 date
 * (midnight UTC) or date and time, in UTC unless it gives its offset (`Z`, `+02:00`), as the
 * events' and letters' times are written. A day that does not exist (2026-02-30) is refused,
 * not rolled into the next month, as is anything else `Date.parse` would guess at (`1`,
 * `March 1`). Returns the instant in ISO 8601, UTC.
 */
export function isoInstant(value: string): string {
  const text = value.trim();
  const parts =
    /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
      text,
    );
  if (!parts)
    throw new InvalidArgumentError(
      'expected an ISO 8601 date or time, such as 2026-09-01 or 2026-09-01T12:00:00Z',
    );
  const [, date = '', time, offset] = parts;
  const at =
    isCalendarDay(date) && (time === undefined || /^([01]\d|2[0-3]):[0-5]\d/.test(time))
      ? Date.parse(time === undefined ? date : `${date}T${time}${offset ?? 'Z'}`)
      : Number.NaN;
  if (Number.isNaN(at)) throw new InvalidArgumentError('expected a date or time that exists');
  return new Date(at).toISOString();
}

/** A commander argument parser for a `YYYY-MM-DD` day. */
export function day(value: string): string {
  if (!isCalendarDay(value.trim())) throw new InvalidArgumentError('expected a YYYY-MM-DD date');
  return value.trim();
}

function parseNumber(text: string): number | undefined {
  const t = text.trim();
  const fraction = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(t);
  if (fraction) {
    const d = Number(fraction[2]);
    return d === 0 ? undefined : Number(fraction[1]) / d;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return undefined;
  return Number(t);
}

/** A commander argument parser collecting `--inject-fault saga:STEP[:error|timeout|crash]`. */
export function faultSpec(value: string, previous: StepFault[] = []): StepFault[] {
  let fault: StepFault;
  try {
    fault = parseStepFault(value.trim());
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  if (!(RPI_STEPS as readonly string[]).includes(fault.step)) {
    throw new InvalidArgumentError(
      `unknown step "${fault.step}"; the RPI saga's steps are ${RPI_STEPS.join(', ')}`,
    );
  }
  return [...previous, fault];
}

/** `--teams N`, the old name of `--team-count`: hidden, kept so that scripts keep working. */
export function teamCountAlias(): Option {
  return new Option('--teams <n>', 'old name of --team-count')
    .argParser(wholeNumber(2, 100_000))
    .hideHelp();
}

/** The team count, from --team-count or its old name --teams. */
export function teamCount(flags: { teamCount: number; teams?: number }, command: Command): number {
  if (flags.teams === undefined) return flags.teamCount;
  if (command.getOptionValueSource('teamCount') !== 'default' && flags.teams !== flags.teamCount)
    throw new CliError('--teams is the old name of --team-count: give one of them', EXIT.USAGE);
  return flags.teams;
}

/** Flags that say how a feed writes its `neutral` column, beyond the words read anyway. */
export interface NeutralFlags {
  readonly neutralTrue?: string[];
  readonly neutralFalse?: string[];
}

/** A commander argument parser collecting comma-separated values (repeatable). */
function valueList(value: string, previous: string[] = []): string[] {
  const values = value.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw new InvalidArgumentError('expected values such as N,Y');
  return [...previous, ...values];
}

/** Adds `--neutral-true VALUES` and `--neutral-false VALUES` to a command that reads games. */
export function addNeutralOptions(command: Command): Command {
  return command
    .option(
      '--neutral-true <values>',
      'neutral-column values meaning "neutral site", comma-separated (e.g. N)',
      valueList,
    )
    .option(
      '--neutral-false <values>',
      'neutral-column values meaning "not a neutral site", comma-separated (e.g. H,A)',
      valueList,
    );
}

/** The neutral-column values the flags map, or undefined when they map none. */
export function neutralValues(flags: NeutralFlags): NeutralValues | undefined {
  const yes = flags.neutralTrue ?? [];
  const no = flags.neutralFalse ?? [];
  if (yes.length === 0 && no.length === 0) return undefined;
  const both = yes.find((v) => no.some((w) => w.toLowerCase() === v.toLowerCase()));
  if (both !== undefined)
    throw new CliError(
      `"${both}" is given to both --neutral-true and --neutral-false: it can mean only one`,
      EXIT.USAGE,
    );
  return { true: yes, false: no };
}

/**
 * `--season <label>`: a season label as the feeds write it, 1 to 200 characters without
 * control characters (an empty one would label every match id `-00001`). Spaces around it
 * are dropped, as a feed's season cell loses them.
 */
export function seasonLabel(value: string): string {
  const label = value.trim();
  const control = [...label].some((c) => (c.codePointAt(0) ?? 0) < 0x20);
  if (label !== '' && label.length <= 200 && !control) return label;
  throw new InvalidArgumentError('expected a season label such as 2025 (1 to 200 characters)');
}

/**
 * A file to write (`-`: standard output). An empty path is refused: `--out "$FILE"` with the
 * variable unset would otherwise send the output somewhere else (standard output) or nowhere.
 */
export function outputFile(value: string): string {
  if (value === '')
    throw new InvalidArgumentError('expected a file ("-": standard output), not an empty path');
  return value;
}

/**
 * A file to read (`-`: standard input). An empty path is refused: `rpi "$FILE"` with the
 * variable unset would otherwise fail as a file not found, or, for an option such as
 * `--teams-file ""`, be taken as no option at all.
 */
export function inputFile(value: string): string {
  if (value === '')
    throw new InvalidArgumentError('expected a file ("-": standard input), not an empty path');
  return value;
}
