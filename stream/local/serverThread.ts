import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** A local server running on a thread of its own. */
export interface ServerThread {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

// The thread's program: build the server with the package's factory, listen on loopback, and
// close it when asked. (CommonJS text, so the thread needs no build step.)
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const create = require(workerData.modulePath);
const server = create(workerData.options);
server.once('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
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
): Promise<ServerThread> {
  const modulePath = createRequire(import.meta.url).resolve(packageName);
  const worker = new Worker(PROGRAM, { eval: true, workerData: { modulePath, options } });
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
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      await exited;
    },
  };
}
