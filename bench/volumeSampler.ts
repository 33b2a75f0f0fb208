/**
 * A preload for the volume benchmark: samples the memory of the process it runs in while
 * `matchstream` runs, and writes the peaks as JSON to the file named by
 * `MATCHSTREAM_VOLUME_REPORT` when the process exits:
 *
 *   MATCHSTREAM_VOLUME_REPORT=report.json \
 *     node --import ./dist/bench/volumeSampler.js dist/cli/main.js start --games season.jsonl ...
 *
 * The main thread's heap comes from `v8.getHeapStatistics()` here; each embedded server's
 * (dynalite, kinesalite, on worker threads) from the same call inside its thread, which
 * `liveServerThreads()` asks for. Nothing in the product knows of it.
 */
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { liveServerThreads } from '../stream/local/serverThread.js';

/** The environment variable naming the report file. */
export const VOLUME_REPORT_VARIABLE = 'MATCHSTREAM_VOLUME_REPORT';

/** What a sampled run reports: its seconds and its peak memory, in MB. */
export interface SampledRun {
  /** From this preload's start to the process's exit. */
  readonly seconds: number;
  /** The process's maximum resident set (every thread, native memory included). */
  readonly peak_rss_mb: number;
  /** The main thread's V8 heap in use, at its highest sample. */
  readonly main_heap_mb: number;
  /** Each server thread's V8 heap in use, by package, at its highest sample. */
  readonly threads_heap_mb: Record<string, number>;
  /** Memory of ArrayBuffers and other objects outside the main thread's V8 heap, at its highest. */
  readonly external_mb: number;
  readonly samples: number;
}

const MB = 2 ** 20;
const round = (n: number) => Number(n.toFixed(1));

/**
 * Samples every `everyMs` until the process exits, then writes the report. The samples come
 * from a timer, so a busy event loop takes fewer of them, never wrong ones; the peak RSS is
 * the kernel's, whatever the samples saw.
 */
export function sampleUntilExit(reportFile: string, everyMs = 200): void {
  const started = performance.now();
  let mainHeap = 0;
  let external = 0;
  let samples = 0;
  const threadHeap = new Map<string, number>();
  let sampling = false;
  const sample = async () => {
    if (sampling) return;
    sampling = true;
    samples++;
    mainHeap = Math.max(mainHeap, getHeapStatistics().used_heap_size);
    external = Math.max(external, process.memoryUsage().external);
    const threads = liveServerThreads();
    const heaps = await Promise.allSettled(threads.map((t) => t.heap()));
    heaps.forEach((h, i) => {
      const name = threads[i]?.packageName;
      if (h.status === 'fulfilled' && name)
        threadHeap.set(name, Math.max(threadHeap.get(name) ?? 0, h.value.used_heap_size));
    });
    sampling = false;
  };
  // Unreferenced: the sampler never keeps the command running.
  setInterval(() => void sample(), everyMs).unref();
  process.once('exit', () => {
    const report: SampledRun = {
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      main_heap_mb: round(mainHeap / MB),
      threads_heap_mb: Object.fromEntries([...threadHeap].map(([k, v]) => [k, round(v / MB)])),
      external_mb: round(external / MB),
      samples,
    };
    writeFileSync(reportFile, JSON.stringify(report));
  });
}

const reportFile = process.env[VOLUME_REPORT_VARIABLE];
if (isMainThread && reportFile) sampleUntilExit(reportFile);
