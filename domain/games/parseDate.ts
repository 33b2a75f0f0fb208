const DAY_PREFIX = /^(\d{4}-\d{2}-\d{2})[T ]/;

/**
 * The calendar day of an ISO-8601 date or date-time, or `undefined` when the text is not one.
 * A date-time keeps the day as written (the local day at the venue), whatever its offset.
 *
 * @example parseDay('2024-09-01T19:00:00-05:00') // '2024-09-01'
 */
export function parseDay(text: string): string | undefined {
  const trimmed = text.trim();
  const prefix = DAY_PREFIX.exec(trimmed);
  if (prefix) {
    if (Number.isNaN(Date.parse(trimmed))) return undefined;
    return isCalendarDay(prefix[1] ?? '') ? prefix[1] : undefined;
  }
  return isCalendarDay(trimmed) ? trimmed : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True for a real `YYYY-MM-DD` day (no 2023-02-29, no month 13). */
export function isCalendarDay(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d) {
    return false;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const last = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  return day <= last;
}

/** The decimal number in `text[from, to)`, or -1 if any character is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
