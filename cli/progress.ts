import { SingleBar } from 'cli-progress';

/** A progress bar for reading a file, drawn on standard error only when it is a terminal. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

/**
 * A byte-count progress bar labelled `label` (MB read, rate, ETA). Silent when standard error
 * is not a terminal or `enabled` is false, so scripts and pipes never see control codes.
 */
export function fileProgress(label: string, enabled = true): Progress {
  if (!enabled || !process.stderr.isTTY) return SILENT;
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {done}/{size} MB | {speed} MB/s | ETA {eta_formatted}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 10,
  });
  const started = Date.now();
  let running = false;
  return {
    update(done, total) {
      const mb = (n: number) => (n / 1_048_576).toFixed(1);
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const payload = { done: mb(done), size: total ? mb(total) : '?', speed: mb(done / seconds) };
      if (!running) {
        bar.start(total || done, done, payload);
        running = true;
      } else {
        if (total) bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
