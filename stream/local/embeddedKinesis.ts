import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { kinesaliteSequencePatches, patchKinesaliteSequences } from './kinesaliteSequences.js';
import { refuseDamagedStore } from './levelStore.js';
import { startServerThread } from './serverThread.js';

/** The change stream's server as messages name it (`StoreStoppedError`, a damaged folder). */
export const STREAM_STORE = "the change stream's store";

/** A Kinesis stand-in running inside this process. */
export interface EmbeddedKinesis {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts kinesalite in this process on 127.0.0.1 and a free port (its CLI would bind every
 * interface): in memory, or on disk in `dataDir` (created if needed), where the streams
 * outlive the process. Streams become ACTIVE at once. With `thread`, it runs on a worker
 * thread of this process.
 */
export async function startEmbeddedKinesis(
  options: { dataDir?: string; thread?: boolean } = {},
): Promise<EmbeddedKinesis> {
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    refuseDamagedStore(options.dataDir, STREAM_STORE);
  }
  const settings = {
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    // The default of 10 shards across all streams is AWS's old account limit, not ours.
    shardLimit: 1_000,
  };
  // kinesalite's sequence numbers in BigInt (see `bigIntSequences`).
  if (options.thread)
    return startServerThread('kinesalite', settings, kinesaliteSequencePatches(), {}, STREAM_STORE);
  // Loaded here, not at the top: a process whose kinesalite runs on a thread never needs it.
  const { default: kinesalite } = await import('kinesalite');
  patchKinesaliteSequences();
  const server = kinesalite(settings);
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
