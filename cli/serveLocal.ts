import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { createApi } from '../api/createApi.js';
import { pipelineDeadLetters } from '../pipeline/deadLetterDesk.js';
import type { EmbeddedPipeline } from '../pipeline/embeddedPipeline.js';
import { log, servingLogLevel } from '../pipeline/logging.js';
import { announceApi } from '../stream/local/dataDirLock.js';
import { storeDir } from '../stream/local/openEventStore.js';
import { CliError, EXIT } from './exitCodes.js';
import { mountFolderRoutes } from './folder/folderRoutes.js';
import { mountLocalAdmin } from './localAdmin.js';
import { storeStoppedLine } from './output/storeStopped.js';
import { mountIngest } from './remoteIngest.js';
import { mountTeams } from './remoteTeams.js';
import { logRequests } from './requestLog.js';
import { apiTokenFile } from './serverToken.js';

/** The built web console: `dist/web/` beside this module's `dist/cli/`. */
const CONSOLE_DIR = fileURLToPath(new URL('../web/', import.meta.url));

/**
 * The token the write routes of the local server require: `MATCHSTREAM_API_TOKEN` when set,
 * otherwise a new random one. Either way it is written, readable by this user only, to
 * `<data folder>/api-token` (a file in the temporary folder for an in-memory server), never
 * to the terminal or a log.
 */
function newToken(dataDir: string | undefined): { token: string; file: string } {
  const token = process.env.MATCHSTREAM_API_TOKEN || randomBytes(24).toString('base64url');
  const file = dataDir ? apiTokenFile(dataDir) : join(tmpdir(), `matchstream-${process.pid}.token`);
  return { token, file };
}

/** Why the local server cannot listen on a port, in one line naming it. */
function listenError(port: number, error: NodeJS.ErrnoException): CliError {
  return new CliError(
    error.code === 'EADDRINUSE'
      ? `port ${port} on 127.0.0.1 is in use (another matchstream serve?): choose another with --port, or --port 0 for a free one`
      : error.code === 'EACCES'
        ? `port ${port} on 127.0.0.1 needs privileges this user does not have: choose one above 1023 with --port`
        : `cannot listen on 127.0.0.1:${port}: ${error.message}`,
    undefined,
    { cause: error },
  );
}

/**
 * Fails at once, naming the port, when the local server could not listen on it: to check
 * before minutes of work that would end in that error. (The server checks again when it
 * listens, as the port may be taken in between.)
 */
export async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenError(port, error)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** SIGINT or SIGTERM, trapped from the moment this is called until `release`. */
export interface SignalTrap {
  readonly caught: Promise<void>;
  /** Whether a signal came already. */
  readonly signalled: boolean;
  release(): void;
}

export function trapSignals(): SignalTrap {
  let signalled = false;
  let shutdown = () => {};
  const caught = new Promise<void>((resolve) => {
    shutdown = () => {
      signalled = true;
      resolve();
    };
  });
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return {
    caught,
    get signalled() {
      return signalled;
    },
    release() {
      process.removeListener('SIGINT', shutdown);
      process.removeListener('SIGTERM', shutdown);
    },
  };
}

/** How long a server whose store stopped waits for the answers under way before it ends. */
const STOPPED_DRAIN_MS = 5_000;

/**
 * Stops taking connections and waits for the open ones to end (an answer under way finishing),
 * at most `ms`; idle keep-alive connections are closed at once.
 */
async function drained(server: ServerType, ms: number): Promise<void> {
  await Promise.race([
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    }),
    delay(ms, undefined, { ref: false }),
  ]);
}

/** The local server of a pipeline, listening. */
export interface LocalServer {
  readonly url: string;
  /** Waits for SIGINT or SIGTERM (logging requests meanwhile), then closes the server. */
  untilInterrupted(): Promise<void>;
  /** Stops listening and ends open connections; the token of a server in memory goes too. */
  close(): void;
}

/**
 * Opens the query API of the embedded pipeline, the web console and the local admin routes
 * on 127.0.0.1. With a data folder, the folder's lock records the API, so `matchstream
 * rebuild` and `ingest` on the same folder ask this process. `start --serve` opens it before
 * its season goes in, so the console can watch the rankings settle.
 *
 * With `waitsAtOnce` (the caller goes straight to `untilInterrupted`), SIGINT and SIGTERM are
 * trapped before "Ctrl-C to stop" is printed: a signal sent on reading it stops the server
 * cleanly instead of killing the process between the line and the wait (`trap`: the one the
 * caller set before, as `serve` does before its boot). Without it (a season still to run), a
 * signal before the wait keeps its default action.
 */
export async function openLocalServer(
  pipeline: EmbeddedPipeline,
  port: number,
  dataDir?: string,
  { waitsAtOnce = false, trap }: { waitsAtOnce?: boolean; trap?: SignalTrap } = {},
): Promise<LocalServer> {
  const { token, file } = newToken(dataDir);
  const queries = pipeline.queries.with({ deadLetters: pipelineDeadLetters(pipeline, dataDir) });
  const app = createApi(queries, { token }, { consoleDir: CONSOLE_DIR });
  mountLocalAdmin(app, pipeline, dataDir);
  mountFolderRoutes(app, pipeline, token);
  mountIngest(app, pipeline.runtime.store);
  mountTeams(app, pipeline.runtime.store);
  const fetch = logRequests(app.fetch, log());
  const { server, url } = await new Promise<{ server: ServerType; url: string }>(
    (resolve, reject) => {
      const listening: ServerType = serve({ fetch, hostname: '127.0.0.1', port }, (info) => {
        // Written once the port is ours, so a refused start leaves no token behind.
        writeFileSync(file, `${token}\n`, { mode: 0o600 });
        resolve({ server: listening, url: `http://127.0.0.1:${info.port}` });
      });
      listening.once('error', (error: NodeJS.ErrnoException) => reject(listenError(port, error)));
    },
  );
  if (dataDir) announceApi(storeDir(dataDir), url);
  let early = waitsAtOnce ? (trap ?? trapSignals()) : undefined;
  process.stderr.write(
    `query API on ${url} (GET /openapi.json; the web console at ${url}/); write routes need the token in ${file}; Ctrl-C to stop\n`,
  );
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    early?.release();
    server.close();
    // Open streams (a console's GET /live) would keep the server, and the process, alive.
    if ('closeAllConnections' in server) server.closeAllConnections();
    // The token file in the temporary folder belongs to this server alone: it goes with it.
    if (!dataDir) rmSync(file, { force: true });
  };
  return {
    url,
    close,
    async untilInterrupted() {
      servingLogLevel();
      const trap = early ?? trapSignals();
      early = undefined;
      process.stderr.write('serving until Ctrl-C (or SIGTERM)\n');
      try {
        // A store that stopped under the pipeline fails every request from then on: the
        // server ends, saying why, rather than answering each with an internal error.
        const stopped = await Promise.race([
          trap.caught.then(() => undefined),
          pipeline.runtime.storeStopped,
        ]);
        if (stopped) {
          // What is under way (an ingest saying how far it got) is answered first, for a while.
          await drained(server, STOPPED_DRAIN_MS);
          throw new CliError(storeStoppedLine(stopped), EXIT.FAILURE, { cause: stopped });
        }
      } finally {
        trap.release();
        close();
      }
    },
  };
}

/**
 * Serves the query API of the embedded pipeline on 127.0.0.1 (see `openLocalServer`) until
 * SIGINT or SIGTERM (from `trap` on, when given), then stops the pipeline.
 */
export async function serveUntilInterrupted(
  pipeline: EmbeddedPipeline,
  port: number,
  stop: () => Promise<void>,
  dataDir?: string,
  trap?: SignalTrap,
): Promise<void> {
  try {
    const server = await openLocalServer(pipeline, port, dataDir, {
      waitsAtOnce: true,
      ...(trap ? { trap } : {}),
    });
    await server.untilInterrupted();
  } finally {
    await stop();
  }
}
