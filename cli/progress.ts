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
 * (else MB/s), and the ETA. Silent when standard error is not a terminal or `enabled` is
 * false, so scripts and pipes never see control codes.
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
  const started = Date.now();
  let running = false;
  return {
    update(done, total, rows) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const detail =
        rows === undefined
          ? `${(done / 1_048_576).toFixed(1)} MB, ${(done / 1_048_576 / seconds).toFixed(1)} MB/s`
          : `${rows.toLocaleString('en-US')} ${unit}, ${Math.round(rows / seconds).toLocaleString('en-US')} ${unit}/s`;
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
