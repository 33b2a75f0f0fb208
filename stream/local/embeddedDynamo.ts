import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { startServerThread } from './serverThread.js';

/** A DynamoDB stand-in running inside this process. */
export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts dynalite in this process on 127.0.0.1 and a free port: in memory, or on disk in
 * `dataDir` (created if needed), where the tables outlive the process. With `thread`, it runs
 * on a worker thread of this process, on a core of its own.
 */
export async function startEmbeddedDynamo(
  options: { dataDir?: string; thread?: boolean } = {},
): Promise<EmbeddedDynamo> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const settings = {
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  };
  if (options.thread) return startServerThread('dynalite', settings);
  const server = dynalite(settings);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
