const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
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

/** True for a real `YYYY-MM-DD` day (no 2023-02-29, no month 13). */
export function isCalendarDay(text: string): boolean {
  const match = DAY.exec(text);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}
