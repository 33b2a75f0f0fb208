import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  classicLevelPatches,
  dynalitesClassicLevel,
  dynalitesMemoryLevel,
  patchClassicLevel,
  WRITE_COUNTER,
  type WriteCounter,
} from './classicLevelPatches.js';
import { lockDataDir } from './dataDirLock.js';
import { dynaliteBatchWritePatches, patchDynaliteBatchWrites } from './dynaliteBatchWrites.js';
import { dynaliteChecksumPatches, patchDynaliteChecksums } from './dynaliteChecksums.js';
import { dynaliteKeyPatches, patchDynaliteKeys } from './dynaliteKeys.js';
import { dynaliteTablePatches, patchDynaliteTables } from './dynaliteTables.js';
import { dynaliteTypePatches, patchDynaliteTypes } from './dynaliteTypes.js';
import { cacheParsedExpressions, expressionCachePatches } from './expressionCache.js';
import { closeIteratorsOnReturn, levelIteratorsPatch } from './levelIterators.js';
import { refuseDamagedStore } from './levelStore.js';
import { startServerThread } from './serverThread.js';

/** The tables' server as messages name it (`StoreStoppedError`, a damaged folder). */
export const TABLES_STORE = "the tables' store";

/** A DynamoDB stand-in running inside this process. */
export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /**
   * With `countWritesTo`: how many writes to the tables of these prefixes (of those; all of
   * them if none given) the store has written so far, by whatever client; undefined for a
   * prefix it does not count. Unchanged between two readings, nothing in those tables changed
   * between them (a write counts once it can be read).
   */
  readonly writesCounted?: (prefixes?: readonly string[]) => number | undefined;
  stop(): Promise<void>;
}

export interface EmbeddedDynamoOptions {
  readonly dataDir?: string;
  readonly thread?: boolean;
  /**
   * Count the writes to the tables whose names start with one of these (`writesCounted`). In
   * this process's own dynalite (no `thread`), the process has one counter: the last store
   * started with this option counts for all of them.
   */
  readonly countWritesTo?: readonly string[];
}

/**
 * Starts dynalite in this process on 127.0.0.1 and a free port: in memory, or on disk in
 * `dataDir` (created if needed), where the tables outlive the process; one process at a time
 * holds a folder (`DataDirInUseError` otherwise). With `thread`, it runs on a worker thread of
 * this process, on a core of its own.
 */
export async function startEmbeddedDynamo(
  options: EmbeddedDynamoOptions = {},
): Promise<EmbeddedDynamo> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const release = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  try {
    if (options.dataDir) refuseDamagedStore(options.dataDir, TABLES_STORE);
    const prefixes = options.countWritesTo ?? [];
    const counter: WriteCounter | undefined = options.countWritesTo
      ? {
          counter: new Int32Array(
            new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * Math.max(1, prefixes.length)),
          ),
          prefixes: [...prefixes],
        }
      : undefined;
    const server = await listen(options, counter);
    const writesCounted = (of: readonly string[] = prefixes): number | undefined => {
      if (!counter) return undefined;
      let sum = 0;
      for (const prefix of of) {
        const i = prefixes.indexOf(prefix);
        if (i < 0) return undefined;
        sum += Atomics.load(counter.counter, i);
      }
      return sum;
    };
    return {
      endpoint: server.endpoint,
      ...(counter ? { writesCounted } : {}),
      stop: async () => {
        try {
          await server.stop();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

async function listen(
  options: EmbeddedDynamoOptions,
  counter: WriteCounter | undefined,
): Promise<EmbeddedDynamo> {
  const settings = {
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  };
  // dynalite leaves every Query's and Scan's LevelDB iterator open otherwise; its reads wait
  // for the thread pool, and its writes compact five times what they would, otherwise.
  if (options.thread)
    return startServerThread(
      'dynalite',
      settings,
      [
        levelIteratorsPatch(),
        ...classicLevelPatches(),
        ...expressionCachePatches(),
        ...dynaliteKeyPatches(),
        ...dynaliteTypePatches(),
        ...dynaliteTablePatches(),
        ...dynaliteBatchWritePatches(),
        ...dynaliteChecksumPatches(),
      ],
      counter ? { [WRITE_COUNTER]: counter } : {},
      TABLES_STORE,
    );
  if (counter) (globalThis as Record<symbol, unknown>)[Symbol.for(WRITE_COUNTER)] = counter;
  // Before dynalite loads: it picks its actions, and its checksum, then.
  patchDynaliteBatchWrites();
  patchDynaliteChecksums();
  // Loaded here, not at the top: a process whose dynalite runs on a thread never needs it.
  const [abstractLevel, classicLevel, memoryLevel, { default: dynalite }] = await Promise.all([
    import('abstract-level'),
    import(pathToFileURL(dynalitesClassicLevel()).href),
    import(pathToFileURL(dynalitesMemoryLevel()).href),
    import('dynalite'),
  ]);
  closeIteratorsOnReturn(abstractLevel);
  patchClassicLevel(classicLevel, memoryLevel);
  cacheParsedExpressions();
  patchDynaliteKeys();
  patchDynaliteTypes();
  patchDynaliteTables();
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
