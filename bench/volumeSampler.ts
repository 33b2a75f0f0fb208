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
 * `liveServerThreads()` asks for. So does the CPU time of each: the kernel's count for the
 * thread (Linux), the main thread's read here, each server thread's by the thread itself. It
 * also counts the main thread's DynamoDB and Kinesis requests by operation and table (wrapping the SDK clients' `send`, as chaos/killAt.ts does),
 * since each is work for a server thread. And it keeps the highest RSS of each of the command's
 * phases apart, which the command publishes on a diagnostics channel (`PHASE_CHANNEL` in
 * cli/phases.ts). Nothing in the product knows of it.
 */
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type LiveServerThread,
  liveServerThreads,
  SERVER_THREAD_STOPPED_CHANNEL,
  type ThreadSample,
} from '../stream/local/serverThread.js';

/** The environment variable naming the report file. */
export const VOLUME_REPORT_VARIABLE = 'MATCHSTREAM_VOLUME_REPORT';

/** What a sampled run reports: its seconds and its peak memory, in MB. */
export interface SampledRun {
  /** From this preload's start to the process's exit. */
  readonly seconds: number;
  /** The process's maximum resident set (every thread, native memory included). */
  readonly peak_rss_mb: number;
  /** When (s from the start) the sampled RSS was highest: which phase holds the peak. */
  readonly peak_rss_sampled_at_s: number;
  /**
   * The highest RSS sampled in each of the command's phases (check, boot, ingest, catch-up,
   * buses, rating), in the order they began; `other` is outside any phase (before the first, between
   * two, the shutdown). Sampled, so a peak between two samples is missed.
   */
  readonly peak_rss_by_phase_mb: Record<string, number>;
  /** Seconds spent in each of the command's phases, by name as above (`other`: outside them). */
  readonly seconds_by_phase: Record<string, number>;
  /** The main thread's V8 heap in use, at its highest sample. */
  readonly main_heap_mb: number;
  /** The main thread's V8 heap as committed (in use, garbage not yet collected, room), at its highest. */
  readonly main_heap_committed_mb: number;
  /** Each server thread's V8 heap in use, by package, at its highest sample. */
  readonly threads_heap_mb: Record<string, number>;
  /** Each server thread's V8 heap as committed, by package, at its highest sample. */
  readonly threads_heap_committed_mb: Record<string, number>;
  /** Memory of ArrayBuffers and other objects outside the main thread's V8 heap, at its highest. */
  readonly external_mb: number;
  /** CPU seconds of the whole process, every thread (user and system time). */
  readonly cpu_seconds: number;
  /**
   * The same by thread, where the kernel counts it per thread (Linux; empty elsewhere): `main`,
   * each server thread by package (its last sample: the one taken as it stopped, or for a
   * thread still running at exit the last periodic one), and `other`, the rest: V8's helper
   * threads (garbage collection, compiling), libuv's pool (where LevelDB's reads and writes
   * run) and LevelDB's compactions.
   */
  readonly cpu_seconds_by_thread: Record<string, number>;
  readonly samples: number;
  /** Requests sent to dynalite and kinesalite, by `Operation table` (or stream). */
  readonly requests: Record<string, number>;
  /** Items (or records) those requests carried: a batch counts each of its items. */
  readonly items: Record<string, number>;
}

const requests = new Map<string, number>();
const items = new Map<string, number>();

type Send = (command: { input: Record<string, unknown> }, ...rest: unknown[]) => Promise<unknown>;

/** The tables or stream a request works on. */
function targetsOf(input: Record<string, unknown>): string[] {
  if (typeof input.TableName === 'string') return [input.TableName];
  if (typeof input.StreamName === 'string') return [input.StreamName];
  if (input.RequestItems && typeof input.RequestItems === 'object')
    return Object.keys(input.RequestItems);
  return [];
}

/** The items a request carries: each of a batch's, each record of a PutRecords, else one. */
function itemsOf(input: Record<string, unknown>): number {
  if (Array.isArray(input.Records)) return input.Records.length;
  const batch = input.RequestItems as Record<string, unknown[] | { Keys?: unknown[] }> | undefined;
  if (!batch || typeof batch !== 'object') return 1;
  let n = 0;
  for (const entry of Object.values(batch))
    n += Array.isArray(entry) ? entry.length : (entry.Keys?.length ?? 0);
  return n;
}

/** Counts every request the SDK clients of this thread send, by operation and target. */
function countRequests(): void {
  for (const client of [DynamoDBClient, KinesisClient]) {
    const prototype = client.prototype as unknown as { send: Send };
    const send = prototype.send;
    prototype.send = function (this: unknown, command, ...rest) {
      const operation = command.constructor.name.replace(/Command$/, '');
      const key = `${operation} ${targetsOf(command.input).join(',')}`.trim();
      requests.set(key, (requests.get(key) ?? 0) + 1);
      items.set(key, (items.get(key) ?? 0) + itemsOf(command.input));
      return send.call(this, command, ...rest);
    };
  }
}

/**
 * The channel `matchstream` publishes its phases on (`PHASE_CHANNEL` in cli/phases.ts, which
 * benchmarks may not import; the volume benchmark's test fails if the two part).
 */
const PHASE_CHANNEL = 'matchstream:phase';

/** Outside any phase. */
const OUTSIDE = 'other';

const MB = 2 ** 20;
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** This thread's CPU seconds so far, as the kernel counts them; undefined without /proc (not Linux). */
function threadCpuSeconds(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return undefined;
  }
}

/**
 * The process's CPU seconds by thread: the main thread's, each server thread's last sample
 * (summed by package: a server stopped and started again counts both), and the rest.
 */
function cpuByThread(
  total: number,
  threadCpu: ReadonlyMap<LiveServerThread, number>,
): Record<string, number> {
  const main = threadCpuSeconds();
  if (main === undefined) return {};
  const byThread: Record<string, number> = { main };
  for (const [thread, seconds] of threadCpu)
    byThread[thread.packageName] = (byThread[thread.packageName] ?? 0) + seconds;
  const named = Object.values(byThread).reduce((a, b) => a + b, 0);
  byThread.other = Math.max(0, total - named);
  return Object.fromEntries(Object.entries(byThread).map(([k, v]) => [k, round(v, 2)]));
}

/**
 * Samples every `everyMs` until the process exits, then writes the report. The samples come
 * from a timer, so a busy event loop takes fewer of them, never wrong ones; the peak RSS is
 * the kernel's, whatever the samples saw.
 */
export function sampleUntilExit(reportFile: string, everyMs = 200): void {
  const started = performance.now();
  let mainHeap = 0;
  let mainCommitted = 0;
  let rss = 0;
  let rssAt = 0;
  let external = 0;
  let samples = 0;
  const byPhase = new Map<string, number>();
  let phase = OUTSIDE;
  const secondsByPhase = new Map<string, number>();
  let phaseSince = started;
  const closePhase = () => {
    const now = performance.now();
    secondsByPhase.set(phase, (secondsByPhase.get(phase) ?? 0) + (now - phaseSince) / 1000);
    phaseSince = now;
  };
  const residentNow = () => {
    const resident = process.memoryUsage.rss();
    byPhase.set(phase, Math.max(byPhase.get(phase) ?? 0, resident));
    return resident;
  };
  // Each change of phase closes the one before with a sample of its own.
  subscribe(PHASE_CHANNEL, (message) => {
    const { phase: name, state } = message as { phase: string; state: 'begin' | 'end' };
    residentNow();
    if (state === 'begin') {
      closePhase();
      phase = name;
    } else if (phase === name) {
      closePhase();
      phase = OUTSIDE;
    }
  });
  const threadHeap = new Map<string, number>();
  const threadCommitted = new Map<string, number>();
  // Each server thread's CPU time at its latest sample (it only grows: a periodic sample
  // answered after the one taken as the thread stopped changes nothing).
  const threadCpu = new Map<LiveServerThread, number>();
  const cpuOf = (thread: LiveServerThread, seconds: number | undefined) => {
    if (seconds !== undefined) threadCpu.set(thread, Math.max(threadCpu.get(thread) ?? 0, seconds));
  };
  // Each server thread's last sample, taken as it stops: its CPU time to its end.
  subscribe(SERVER_THREAD_STOPPED_CHANNEL, (message) => {
    const { thread, sample } = message as { thread: LiveServerThread; sample: ThreadSample };
    cpuOf(thread, sample.cpu_seconds);
  });
  let sampling = false;
  const sample = async () => {
    if (sampling) return;
    sampling = true;
    samples++;
    const heap = getHeapStatistics();
    const resident = residentNow();
    if (resident > rss) {
      rss = resident;
      rssAt = (performance.now() - started) / 1000;
    }
    mainHeap = Math.max(mainHeap, heap.used_heap_size);
    mainCommitted = Math.max(mainCommitted, heap.total_heap_size);
    external = Math.max(external, process.memoryUsage().external);
    const threads = liveServerThreads();
    const heaps = await Promise.allSettled(threads.map((t) => t.sample()));
    heaps.forEach((h, i) => {
      const thread = threads[i];
      const name = thread?.packageName;
      if (h.status !== 'fulfilled' || !thread || !name) return;
      cpuOf(thread, h.value.cpu_seconds);
      threadHeap.set(name, Math.max(threadHeap.get(name) ?? 0, h.value.used_heap_size));
      threadCommitted.set(name, Math.max(threadCommitted.get(name) ?? 0, h.value.total_heap_size));
    });
    sampling = false;
  };
  // Unreferenced: the sampler never keeps the command running.
  setInterval(() => void sample(), everyMs).unref();
  process.once('exit', () => {
    closePhase();
    const usage = process.resourceUsage();
    const cpu = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
    const report: SampledRun = {
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      peak_rss_sampled_at_s: round(rssAt),
      peak_rss_by_phase_mb: Object.fromEntries(
        [...byPhase].map(([name, bytes]) => [name, Math.round(bytes / MB)]),
      ),
      seconds_by_phase: Object.fromEntries(
        [...secondsByPhase].map(([name, s]) => [name, Number(s.toFixed(2))]),
      ),
      main_heap_mb: round(mainHeap / MB),
      main_heap_committed_mb: round(mainCommitted / MB),
      threads_heap_mb: Object.fromEntries([...threadHeap].map(([k, v]) => [k, round(v / MB)])),
      threads_heap_committed_mb: Object.fromEntries(
        [...threadCommitted].map(([k, v]) => [k, round(v / MB)]),
      ),
      external_mb: round(external / MB),
      cpu_seconds: round(cpu, 2),
      cpu_seconds_by_thread: cpuByThread(cpu, threadCpu),
      samples,
      requests: Object.fromEntries([...requests].sort((a, b) => b[1] - a[1])),
      items: Object.fromEntries([...items].sort((a, b) => b[1] - a[1])),
    };
    writeFileSync(reportFile, JSON.stringify(report));
  });
}

const reportFile = process.env[VOLUME_REPORT_VARIABLE];
if (isMainThread && reportFile) {
  // The bundled bin carries its own copy of the SDK: wrapping node_modules' would count nothing.
  if (/[\\/]cli[\\/]matchstream\.js$/.test(process.argv[1] ?? ''))
    throw new Error(
      'volumeSampler.js: run the unbundled command (dist/cli/main.js): the bundled bin does not use the SDK clients this preload wraps',
    );
  countRequests();
  sampleUntilExit(reportFile);
}
