import { channel } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type {
  ClientOptions,
  Transport,
  TransportRequest,
  TransportResponse,
} from '../aws/clientConfig.js';
import { StoreStoppedError } from '../StoreError.js';
import type { ModulePatch } from './modulePatches.js';

/** A local server running on a thread of its own. */
export interface ServerThread {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * A server thread's own V8 heap, as `v8.getHeapStatistics()` reports it inside the thread,
 * and the CPU time the thread has run so far.
 */
export interface ThreadSample {
  readonly used_heap_size: number;
  readonly total_heap_size: number;
  readonly external_memory: number;
  readonly malloced_memory: number;
  /**
   * Seconds this thread has run on a core since it started, as the kernel counts them
   * (`/proc/thread-self/schedstat`, user and system time); absent where there is no such file
   * (not Linux). `process.cpuUsage()` counts every thread of the process together.
   */
  readonly cpu_seconds?: number;
}

/** A live server thread as the benchmarks see it: its package and a way to sample it. */
export interface LiveServerThread {
  readonly packageName: string;
  sample(): Promise<ThreadSample>;
}

/**
 * The diagnostics channel a server thread's last sample is published on as it stops, when
 * something subscribes (the volume benchmark: the CPU time a thread ran up to its end):
 * `{ thread: LiveServerThread, sample: ThreadSample }`.
 */
export const SERVER_THREAD_STOPPED_CHANNEL = 'matchstream:server-thread-stopped';
const stoppedChannel = channel(SERVER_THREAD_STOPPED_CHANNEL);

// Every thread started and not yet stopped: the volume benchmark samples their heaps and CPU
// time apart from the main thread's, which `process.memoryUsage()` cannot do.
const live = new Set<LiveServerThread>();

// The request handlers of the server threads running now, by endpoint.
const transports = new Map<string, Transport>();

/**
 * How to hand a request to the server thread of this process at `endpoint` without HTTP (its
 * messages, answered by its server's own request listener); undefined when no thread of this
 * process serves there.
 */
export function serverThreadAt(endpoint: string): Transport | undefined {
  return transports.get(endpoint.replace(/\/$/, ''));
}

/**
 * The client options for a server of this process at `endpoint`: unsigned (see `UNSIGNED`),
 * and through its thread's messages when it runs on one.
 */
export function ownServer(endpoint: string): ClientOptions {
  const transport = serverThreadAt(endpoint);
  return { endpoint, unsigned: true, ...(transport ? { transport } : {}) };
}

/** The server threads of this process that are running now. */
export function liveServerThreads(): readonly LiveServerThread[] {
  return [...live];
}

/**
 * How long a server thread waits for the process to hold an addon it loaded (`keepLoaded`).
 * The process answers from its event loop, in well under a millisecond when it is free.
 */
const ADDON_WAIT_MS = 5_000;

/** How long a server thread that failed gets to end once asked to stop, before it is ended. */
const FAILED_STOP_MS = 5_000;

// The native addons of the server threads, loaded by this process too, by file.
const heldAddons = new Set<string>();

/**
 * Loads into this process (once) the native addon a server thread loaded, so that it stays
 * mapped as long as the process runs. Node unloads a thread's addons when the thread ends, but
 * the thread LevelDB starts for its compactions inside classic-level's addon (dynalite's; and
 * inside leveldown's, kinesalite's) is not the server thread's and outlives it. Run while the
 * whole test suite loaded both cores, 3 of 300 `matchstream inspect --dead-letters` right after
 * a `dead-letters redrive` ended with SIGSEGV, the crashed thread's program counter in no mapped
 * file. A process that holds the addon keeps that code mapped, as in a process that opens
 * LevelDB on its main thread.
 */
function keepLoaded(filename: string): void {
  if (heldAddons.has(filename)) return;
  createRequire(import.meta.url)(filename);
  heldAddons.add(filename);
}

/** The native addons server threads loaded, which this process holds too (`keepLoaded`). */
export function heldServerAddons(): readonly string[] {
  return [...heldAddons];
}

// The thread's program: build the server with the package's factory, listen on loopback, and
// close it when asked. (CommonJS text, so the thread needs no build step.)
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
// Each native addon the thread loads is loaded by the process too (see \`keepLoaded\`) before
// the thread goes on: the thread waits, at most a while, for the process to say it holds it.
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  const result = dlopen.call(this, module, filename, ...rest);
  const held = new Int32Array(new SharedArrayBuffer(4));
  parentPort.postMessage({ addon: filename, held });
  Atomics.wait(held, 0, 0, ${ADDON_WAIT_MS});
  return result;
};
// What the process shares with the thread, on globalThis by name (the patches read it there).
for (const [name, value] of Object.entries(workerData.globals)) globalThis[Symbol.for(name)] = value;
// Patches of the package's dependencies first: each a self-contained function's source, given
// a module; what one returns replaces the module it names, if it names one. The module cache
// is keyed by the file's real path, which a path through a linked package folder is not.
for (const patch of workerData.patches) {
  const replacement = (0, eval)('(' + patch.source + ')')(require(patch.module));
  if (patch.replaces) {
    const replaced = require.resolve(patch.replaces);
    require(replaced);
    require.cache[replaced].exports = replacement;
  }
}
// A failure the server cannot answer with (its store would not open, a write its disk refused,
// an error nothing caught): said to the process, which fails every request from then on with
// the reason. The thread itself ends when the process stops it, as after any run: ending it at
// once, with LevelDB's reads under way in the pool, aborted the whole process (classic-level's
// iterator destroyed before it ended: 1 of 4 runs of \`start\` on a disk that filled up).
const failed = (error) => {
  const cause = error && error.cause && error.cause.message ? ': ' + error.cause.message : '';
  parentPort.postMessage({ failed: (error && error.message ? error.message : String(error)) + cause });
};
globalThis[Symbol.for('matchstream.serverFailed')] = failed;
process.on('uncaughtException', failed);
const create = require(workerData.modulePath);
const server = create(workerData.options);
server.once('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
// A request handed over as a message, given to the server's request listener as it would
// have read it from a socket; the answer goes back as a message with the request's id.
const { EventEmitter } = require('node:events');
// This thread's CPU time (its first field: nanoseconds on a core), where the kernel has it.
const cpuSeconds = () => {
  try {
    return Number(require('node:fs').readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return undefined;
  }
};
const exact = (data) => (typeof data === 'string' ? data : new Uint8Array(data));
function answer(request) {
  const { id, method, url, headers, body } = request;
  const req = Object.assign(new EventEmitter(), { method, url, headers });
  const head = {};
  const res = {
    statusCode: 200,
    setHeader(name, value) { head[String(name).toLowerCase()] = String(value); },
    getHeader(name) { return head[String(name).toLowerCase()]; },
    removeHeader(name) { delete head[String(name).toLowerCase()]; },
    end(data) {
      const out = data == null ? '' : exact(data);
      parentPort.postMessage({ response: { id, status: this.statusCode, headers: head, body: out } },
        typeof out === 'string' ? [] : [out.buffer]);
    },
  };
  server.emit('request', req, res);
  process.nextTick(() => {
    if (body.length > 0) req.emit('data', Buffer.from(body));
    req.emit('end');
  });
}
parentPort.on('message', (message) => {
  if (message !== null && typeof message === 'object' && message.request) return answer(message.request);
  if (message === 'sample') {
    const h = v8.getHeapStatistics();
    parentPort.postMessage({ sample: {
      used_heap_size: h.used_heap_size,
      total_heap_size: h.total_heap_size,
      external_memory: h.external_memory,
      malloced_memory: h.malloced_memory,
      cpu_seconds: cpuSeconds(),
    } });
    return;
  }
  if (message !== 'stop') return;
  if (server.closeAllConnections) server.closeAllConnections();
  server.close(() => parentPort.close());
});
`;

/**
 * Starts a server package (dynalite, kinesalite: a factory returning an `http.Server`) on a
 * worker thread, bound to 127.0.0.1 on a free port. The server then has a core of its own
 * instead of sharing the event loop with the process that calls it. Its socket serves anyone;
 * this process's own clients hand it their requests as messages instead (`serverThreadAt`,
 * `ownServer`), which its server's request listener answers as it would over HTTP.
 */
export async function startServerThread(
  packageName: string,
  options: object,
  /** Run in the thread before the package loads: self-contained functions, each given a module. */
  patches: readonly ModulePatch[] = [],
  /**
   * Set on the thread's `globalThis` under `Symbol.for(name)` before the patches run (shared
   * memory stays shared: an `Int32Array` on a `SharedArrayBuffer` is the same memory there).
   */
  globals: Readonly<Record<string, unknown>> = {},
  /**
   * What the server is to the user, as the errors of its requests name it once it failed or
   * stopped (`StoreStoppedError`): "the tables' store". The package's name otherwise.
   */
  name: string = packageName,
): Promise<ServerThread> {
  const modulePath = createRequire(import.meta.url).resolve(packageName);
  const worker = new Worker(PROGRAM, {
    eval: true,
    workerData: { modulePath, options, patches, globals },
  });
  // Whenever the thread loads an addon (the program waits for this answer).
  worker.on('message', (message: { addon?: string; held?: Int32Array }) => {
    if (message.addon === undefined || message.held === undefined) return;
    try {
      keepLoaded(message.addon);
    } finally {
      Atomics.store(message.held, 0, 1);
      Atomics.notify(message.held, 0);
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    const started = (message: { port?: number; error?: string; failed?: string }) => {
      if (message.port) resolve(message.port);
      else if (message.error !== undefined || message.failed !== undefined)
        reject(new Error(`${packageName}: ${message.error ?? message.failed}`));
      else return;
      worker.off('message', started);
    };
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`${packageName} thread exited (${code}) before listening`)),
    );
    worker.on('message', started);
  });
  worker.removeAllListeners('exit');
  // Why the server can no longer answer, once it cannot: a store that cannot be opened (a data
  // folder's LevelDB locked or damaged) fails once the server listens, as the thread's first
  // request or its own open finds; a write its disk refused, later. Every request under way
  // and after it is refused with that reason (`StoreStoppedError`).
  let failure: Error | undefined;
  // Settles once the server failed: before `stop`, or while it stops (a store that could not
  // open says so after the thread listens, which may be after the process asked it to stop).
  let sayFailed = () => {};
  const failedOnce = new Promise<void>((resolve) => {
    sayFailed = resolve;
  });
  const refuseRequests = () => {
    for (const r of requests.values()) r.reject(stopped());
    requests.clear();
  };
  worker.on('error', (error) => {
    failure ??= error;
    sayFailed();
  });
  // Samples answered in order: the thread answers each message before the next.
  const waiting: { resolve: (sample: ThreadSample) => void; reject: (error: Error) => void }[] = [];
  // Requests handed over as messages, by id, until answered.
  const requests = new Map<
    number,
    { resolve: (response: TransportResponse) => void; reject: (error: Error) => void }
  >();
  let nextId = 0;
  worker.on(
    'message',
    (message: {
      sample?: ThreadSample;
      response?: TransportResponse & { id: number };
      failed?: string;
    }) => {
      if (message.failed) {
        failure ??= new Error(message.failed);
        sayFailed();
        refuseRequests();
      } else if (message.sample) waiting.shift()?.resolve(message.sample);
      else if (message.response) {
        const { id, ...response } = message.response;
        requests.get(id)?.resolve(response);
        requests.delete(id);
      }
    },
  );
  let exited = false;
  const stopped = () => new StoreStoppedError(name, failure?.message);
  const endpoint = `http://127.0.0.1:${port}`;
  worker.once('exit', () => {
    exited = true;
    // The transport stays until `stop()`: a client made after the thread ended gets the
    // reason, not a refused connection to the port it listened on.
    for (const w of waiting.splice(0)) w.reject(stopped());
    refuseRequests();
  });
  transports.set(
    endpoint,
    (request: TransportRequest) =>
      new Promise<TransportResponse>((resolve, reject) => {
        if (exited || failure) return reject(stopped());
        const id = nextId++;
        requests.set(id, { resolve, reject });
        // A body of bytes goes as a copy of its own (a view's whole buffer would be cloned).
        const body = typeof request.body === 'string' ? request.body : new Uint8Array(request.body);
        worker.postMessage(
          { request: { id, ...request, body } },
          typeof body === 'string' ? [] : [body.buffer],
        );
      }),
  );
  const thread: LiveServerThread = {
    packageName,
    sample: () =>
      new Promise<ThreadSample>((resolve, reject) => {
        if (exited) return reject(stopped());
        waiting.push({ resolve, reject });
        worker.postMessage('sample');
      }),
  };
  live.add(thread);
  return {
    endpoint,
    stop: async () => {
      live.delete(thread);
      transports.delete(endpoint);
      if (exited) return;
      if (stoppedChannel.hasSubscribers) {
        const sample = await thread.sample().catch(() => undefined);
        if (sample) stoppedChannel.publish({ thread, sample });
      }
      const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      const first = await Promise.race([
        ended.then(() => 'ended' as const),
        failedOnce.then(() => 'failed' as const),
      ]);
      if (first === 'ended') return;
      // A server that failed, before or while it stops, may hold work it will never finish (a
      // kinesalite whose folder another process held never ended, 1 stop in 24): it gets a
      // while to end as after any run, then the thread is ended from here.
      const late = delay(FAILED_STOP_MS, 'late' as const, { ref: false });
      if ((await Promise.race([ended, late])) === 'late') await worker.terminate();
    },
  };
}
