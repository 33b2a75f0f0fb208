import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** A local server running on a thread of its own. */
export interface ServerThread {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A server thread's own V8 heap, as `v8.getHeapStatistics()` reports it inside the thread. */
export interface ThreadHeap {
  readonly used_heap_size: number;
  readonly total_heap_size: number;
  readonly external_memory: number;
  readonly malloced_memory: number;
}

/** A live server thread as the benchmarks see it: its package and a way to ask for its heap. */
export interface LiveServerThread {
  readonly packageName: string;
  heap(): Promise<ThreadHeap>;
}

// Every thread started and not yet stopped: the volume benchmark samples their heaps apart
// from the main thread's, which `process.memoryUsage()` cannot do.
const live = new Set<LiveServerThread>();

/** The server threads of this process that are running now. */
export function liveServerThreads(): readonly LiveServerThread[] {
  return [...live];
}

// The thread's program: build the server with the package's factory, listen on loopback, and
// close it when asked. (CommonJS text, so the thread needs no build step.)
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
// Patches of the package's dependencies first: each a self-contained function's source, given a module.
for (const patch of workerData.patches) (0, eval)('(' + patch.source + ')')(require(patch.module));
const create = require(workerData.modulePath);
const server = create(workerData.options);
server.once('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message === 'heap') {
    const h = v8.getHeapStatistics();
    parentPort.postMessage({ heap: {
      used_heap_size: h.used_heap_size,
      total_heap_size: h.total_heap_size,
      external_memory: h.external_memory,
      malloced_memory: h.malloced_memory,
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
 * instead of sharing the event loop with the process that calls it.
 */
export async function startServerThread(
  packageName: string,
  options: object,
  /** Run in the thread before the package loads: self-contained functions, each given a module. */
  patches: readonly { readonly source: string; readonly module: string }[] = [],
): Promise<ServerThread> {
  const modulePath = createRequire(import.meta.url).resolve(packageName);
  const worker = new Worker(PROGRAM, { eval: true, workerData: { modulePath, options, patches } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`${packageName} thread exited (${code}) before listening`)),
    );
    worker.once('message', (message: { port?: number; error?: string }) =>
      message.port ? resolve(message.port) : reject(new Error(`${packageName}: ${message.error}`)),
    );
  });
  worker.removeAllListeners('exit');
  // Heap requests answered in order: the thread answers each message before the next.
  const waiting: { resolve: (heap: ThreadHeap) => void; reject: (error: Error) => void }[] = [];
  worker.on('message', (message: { heap?: ThreadHeap }) => {
    if (message.heap) waiting.shift()?.resolve(message.heap);
  });
  let exited = false;
  const stopped = () => new Error(`${packageName} thread has stopped`);
  worker.once('exit', () => {
    exited = true;
    for (const w of waiting.splice(0)) w.reject(stopped());
  });
  const thread: LiveServerThread = {
    packageName,
    heap: () =>
      new Promise<ThreadHeap>((resolve, reject) => {
        if (exited) return reject(stopped());
        waiting.push({ resolve, reject });
        worker.postMessage('heap');
      }),
  };
  live.add(thread);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      live.delete(thread);
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      await exited;
    },
  };
}
