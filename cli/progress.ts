import { SingleBar } from 'cli-progress';

/** A progress bar for reading a file, drawn on standard error only when it is a terminal. */
export interface Progress {
  /** `done` and `total` in bytes (total 0 when unknown); `rows` when counted. */
  update(done: number, total: number, rows?: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

/**
 * A progress bar labelled `label`: percentage of the file read, rows and rows/s when given
 * (else MB/s; either rate from the first update on), and the ETA. Silent when standard error
 * is not a terminal or `enabled` is false, so scripts and pipes never see control codes.
 */
export function fileProgress(label: string, enabled = true, unit = 'rows'): Progress {
  if (!enabled || !process.stderr.isTTY) return SILENT;
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {detail} | ETA {eta_formatted}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 10,
  });
  // The rate is of what this bar saw: work resumed from an earlier run starts past 0.
  let first: { readonly at: number; readonly done: number; readonly rows: number } | undefined;
  let running = false;
  return {
    update(done, total, rows) {
      const now = Date.now();
      first ??= { at: now, done, rows: rows ?? 0 };
      const seconds = (now - first.at) / 1000;
      // No rate until a second has gone by: the first updates would make it up.
      const rate = (n: string) => (seconds >= 1 ? `, ${n}/s` : '');
      const detail =
        rows === undefined
          ? `${(done / 1_048_576).toFixed(1)} MB${rate(`${((done - first.done) / 1_048_576 / seconds).toFixed(1)} MB`)}`
          : `${rows.toLocaleString('en-US')} ${unit}${rate(`${Math.round((rows - first.rows) / seconds).toLocaleString('en-US')} ${unit}`)}`;
      if (!running) {
        bar.start(total || done || 1, done, { detail });
        running = true;
      } else {
        if (total) bar.setTotal(total);
        bar.update(done, { detail });
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** How far some work is: `done` of `total`, a total that may be an estimate or unknown. */
export interface Count {
  readonly done: number;
  /** Undefined while unknown. */
  readonly total?: number | undefined;
  /** The total is an estimate (said with "~"), to be replaced by the exact one. */
  readonly estimated?: boolean;
}

/** What is counted: `rows` `stored`, `events` `applied`. */
export interface CountWords {
  readonly unit: string;
  readonly verb: string;
}

/** The share of the work done, from 0 to 1; undefined while the total is unknown. */
export function shareDone(count: Count): number | undefined {
  if (count.total === undefined) return undefined;
  if (count.total <= 0) return 1;
  return Math.min(1, count.done / count.total);
}

/**
 * What a progress line says of a count after `seconds`: "1,380 of ~3,069 rows stored, 665
 * rows/s, ETA 3 s". The rate and the ETA are of the work done (rows stored), never of the
 * reading ahead of it; no ETA while the total is unknown or nothing is done yet.
 */
export function describeCount(count: Count, words: CountWords, seconds: number): string {
  const done = count.done.toLocaleString('en-US');
  const of =
    count.total === undefined
      ? ''
      : ` of ${count.estimated ? '~' : ''}${Math.max(count.total, count.done).toLocaleString('en-US')}`;
  const parts = [`${done}${of} ${words.unit} ${words.verb}`];
  const rate = seconds > 0 ? count.done / seconds : 0;
  if (count.done > 0 && seconds > 0)
    parts.push(`${Math.round(rate).toLocaleString('en-US')} ${words.unit}/s`);
  if (count.total !== undefined && rate > 0) {
    const left = Math.max(0, count.total - count.done) / rate;
    parts.push(`ETA ${formatSeconds(left)}`);
  }
  return parts.join(', ');
}

/** "0.4 s", "12 s", "3 min 05 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/** One line of status on standard error, rewritten in place; only on a terminal. */
export function statusLine(enabled: boolean): { show(text: string): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { show: () => undefined, stop: () => undefined };
  let shown = false;
  return {
    show(text) {
      const width = process.stderr.columns || 80;
      process.stderr.write(`\r\x1b[2K${text.slice(0, Math.max(20, width - 1))}`);
      shown = true;
    },
    stop() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}
