/** Formats a ratio as the RPI is usually printed: `0.6123`; a dash for none. */
export function ratio(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

/** `12-3-1` */
export function record(r: { wins: number; losses: number; ties: number }): string {
  return `${r.wins}-${r.losses}-${r.ties}`;
}

/** An instant in the reader's locale, to the second. */
export function instant(value: string | null | undefined): string {
  if (!value) return '–';
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? value
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A count with thousands separators. */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toLocaleString('en-US');
}

/** Bytes as KiB, MiB, GiB. */
export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? size : size.toFixed(1)} ${units[unit]}`;
}

/** A duration in ms, short: `850 ms`, `4.2 s`, `3 min`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
