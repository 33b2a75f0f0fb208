import { DECIDED_BY, type DecidedBy, type Game } from './Game.js';
import { parseDay } from './parseDate.js';

/** Columns every games feed must have. */
export const REQUIRED_GAME_FIELDS = [
  'date',
  'home_team',
  'away_team',
  'home_score',
  'away_score',
] as const;
/** Columns a games feed may have. */
export const OPTIONAL_GAME_FIELDS = [
  'neutral',
  'decided_by',
  'match_id',
  'season',
  'venue',
] as const;

export type GameValidation =
  | { readonly ok: true; readonly game: Game }
  | { readonly ok: false; readonly reasons: readonly string[] };

/** The longest team name, match id or season accepted. */
export const MAX_NAME_LENGTH = 200;
const MAX_SCORE = 999;
const TRUE_WORDS = new Set(['true', '1', 'yes', 't']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'f', '']);
/**
 * Letters that mean opposite things in different feeds: many write `N` for "neutral site"
 * (beside `H` and `A`), others `N` for "no" and `Y` for "yes". Read either way, a season's
 * sites would be silently wrong, so they are refused unless the user says what they mean.
 */
const AMBIGUOUS_WORDS = new Set(['n', 'y']);

/** How a feed writes its neutral-site flag, beyond true/false, yes/no, t/f and 1/0. */
export interface NeutralValues {
  /** Values meaning "played at a neutral site" (compared without case or surrounding space). */
  readonly true: readonly string[];
  /** Values meaning "not at a neutral site". */
  readonly false: readonly string[];
}

export interface ValidateGameOptions {
  /** Extra spellings of the `neutral` column; they win over the built-in words. */
  readonly neutral?: NeutralValues;
}

/**
 * Validates one feed record (a CSV row keyed by header, or a JSON object) into a `Game`,
 * collecting every reason the record is unusable rather than stopping at the first.
 *
 * @example validateGame({ date: '2024-09-01', home_team: 'A', away_team: 'B', home_score: '2', away_score: '1' })
 */
export function validateGame(
  record: Readonly<Record<string, unknown>>,
  options: ValidateGameOptions = {},
): GameValidation {
  const reasons: string[] = [];

  const date = fieldText(record.date);
  const day = date === undefined ? undefined : parseDay(date);
  if (date === undefined || date === '') reasons.push('date is missing');
  else if (day === undefined) reasons.push(`date ${quote(date)} is not a YYYY-MM-DD date`);

  const homeTeam = teamName(record.home_team, 'home_team', reasons);
  const awayTeam = teamName(record.away_team, 'away_team', reasons);
  if (homeTeam !== undefined && homeTeam === awayTeam) {
    reasons.push(`team ${quote(homeTeam)} cannot play itself`);
  }

  const homeScore = score(record.home_score, 'home_score', reasons);
  const awayScore = score(record.away_score, 'away_score', reasons);

  const neutral = neutralFlag(record.neutral, options.neutral, reasons);
  const decidedBy = decided(record.decided_by, reasons);

  const matchId = fieldText(record.match_id);
  if (matchId !== undefined && matchId.length > MAX_NAME_LENGTH) {
    reasons.push(`match_id is longer than ${MAX_NAME_LENGTH} characters`);
  }
  const seasonText = fieldText(record.season);
  if (seasonText !== undefined && seasonText.length > MAX_NAME_LENGTH) {
    reasons.push(`season is longer than ${MAX_NAME_LENGTH} characters`);
  }

  const venue = fieldText(record.venue);
  if (venue !== undefined && venue.length > MAX_NAME_LENGTH) {
    reasons.push(`venue is longer than ${MAX_NAME_LENGTH} characters`);
  } else if (venue !== undefined && hasControlCharacter(venue)) {
    reasons.push('venue contains control characters');
  } else if (venue !== undefined && venue !== '' && unsafeText(venue)) {
    reasons.push(`venue ${unsafeText(venue)}`);
  }

  if (
    reasons.length > 0 ||
    day === undefined ||
    homeTeam === undefined ||
    awayTeam === undefined ||
    homeScore === undefined ||
    awayScore === undefined ||
    neutral === undefined ||
    decidedBy === undefined
  ) {
    return { ok: false, reasons };
  }

  // One object literal with every property, so all games share one shape (and no spread,
  // which is slow on this hot path).
  const game: Game = {
    matchId: matchId || undefined,
    season: seasonText || day.slice(0, 4),
    date: day,
    homeTeam,
    awayTeam,
    homeScore,
    awayScore,
    neutral,
    decidedBy,
    venue: venue || undefined,
  };
  return { ok: true, game };
}

/**
 * A feed's field as text, trimmed and in Unicode's composed form (NFC), so that a name typed
 * with "é" as one character or as "e" and an accent is one name (one team): a string, or a
 * JSON number or boolean as written; anything else (absent, null, an object, a list) undefined.
 */
export function fieldText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim().normalize('NFC');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function teamName(value: unknown, field: string, reasons: string[]): string | undefined {
  const name = fieldText(value);
  if (name === undefined || name === '') {
    reasons.push(`${field} is missing`);
    return undefined;
  }
  if (name.length > MAX_NAME_LENGTH) {
    reasons.push(`${field} is longer than ${MAX_NAME_LENGTH} characters`);
    return undefined;
  }
  // Control characters in a name are never intended and break every output format.
  if (hasControlCharacter(name)) {
    reasons.push(`${field} contains control characters`);
    return undefined;
  }
  const unsafe = unsafeText(name);
  if (unsafe) {
    reasons.push(`${field} ${unsafe}`);
    return undefined;
  }
  return name;
}

/**
 * Why a name cannot be kept as it is, or undefined: bytes that were not UTF-8 (decoded to
 * U+FFFD), a leading `=`, `+`, `-` or `@` that a spreadsheet opening an export would run as a
 * formula, or `<` / `>`, markup in every page that shows it. No team or venue is named so.
 */
export function unsafeText(name: string): string | undefined {
  if (name.includes('\uFFFD')) return 'is not valid UTF-8 text';
  if (/^[=+\-@]/.test(name)) return `${quote(name.slice(0, 40))} starts like a spreadsheet formula`;
  if (/[<>]/.test(name)) return `${quote(name.slice(0, 40))} contains markup characters (< or >)`;
  return undefined;
}

export function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function score(value: unknown, field: string, reasons: string[]): number | undefined {
  const raw = fieldText(value);
  if (raw === undefined || raw === '') {
    reasons.push(`${field} is missing`);
    return undefined;
  }
  if (!/^\d{1,3}$/.test(raw)) {
    reasons.push(`${field} ${quote(raw)} is not a whole number from 0 to ${MAX_SCORE}`);
    return undefined;
  }
  return Number(raw);
}

function neutralFlag(
  value: unknown,
  mapped: NeutralValues | undefined,
  reasons: string[],
): boolean | undefined {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  const shown = fieldText(value);
  const raw = shown?.toLowerCase();
  if (raw !== undefined && mapped) {
    if (mapped.true.some((v) => v.trim().toLowerCase() === raw)) return true;
    if (mapped.false.some((v) => v.trim().toLowerCase() === raw)) return false;
  }
  if (raw !== undefined && TRUE_WORDS.has(raw)) return true;
  if (raw !== undefined && FALSE_WORDS.has(raw)) return false;
  if (raw !== undefined && AMBIGUOUS_WORDS.has(raw)) {
    reasons.push(
      `neutral ${quote(shown ?? raw)} is ambiguous (feeds write N for "neutral site" as well as for "no"): write true or false, or say what it means with --neutral-true or --neutral-false`,
    );
    return undefined;
  }
  reasons.push(
    `neutral ${quote(String(shown ?? typeof value))} is not true or false${mapped ? ' nor one of the mapped values' : ''}`,
  );
  return undefined;
}

function decided(value: unknown, reasons: string[]): DecidedBy | undefined {
  const raw = fieldText(value)?.toLowerCase();
  if (raw === undefined || raw === '') return 'regulation';
  const found = DECIDED_BY.find((d) => d === raw);
  if (found) return found;
  reasons.push(`decided_by ${quote(raw)} is not one of ${DECIDED_BY.join(', ')}`);
  return undefined;
}

/** Quotes a value for an error message, cut short so a huge field cannot flood the output. */
export function quote(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
  return JSON.stringify(shown);
}
