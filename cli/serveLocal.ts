import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApi } from '../projections/api/createApi.js';
import { announceApi } from '../stream/local/dataDirLock.js';
import { storeDir } from '../stream/local/openEventStore.js';
import type { EmbeddedPipeline } from './embeddedPipeline.js';
import { mountLocalAdmin } from './localAdmin.js';
import { log, servingLogLevel } from './logging.js';
import { logRequests } from './requestLog.js';

/** The file that holds the local server's write token, in a data folder. */
export function apiTokenFile(dataDir: string): string {
  return join(dataDir, 'api-token');
}

/**
 * The token the write routes of the local server require: `MATCHSTREAM_API_TOKEN` when set,
 * otherwise a new random one. Either way it is written, readable by this user only, to
 * `<data folder>/api-token` (a file in the temporary folder for an in-memory server), never
 * to the terminal or a log.
 */
function writeToken(dataDir: string | undefined): { token: string; file: string } {
  const token = process.env.MATCHSTREAM_API_TOKEN || randomBytes(24).toString('base64url');
  const file = dataDir ? apiTokenFile(dataDir) : join(tmpdir(), `matchstream-${process.pid}.token`);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}

/**
 * Serves the query API of the embedded pipeline on 127.0.0.1 (and the local admin routes)
 * until SIGINT or SIGTERM, then stops the pipeline. With a data folder, the folder's lock
 * records the API, so `matchstream rebuild` on the same folder asks this process.
 */
export async function serveUntilInterrupted(
  pipeline: EmbeddedPipeline,
  port: number,
  stop: () => Promise<void>,
  dataDir?: string,
): Promise<void> {
  const { token, file } = writeToken(dataDir);
  const app = createApi(pipeline.queries, { token });
  mountLocalAdmin(app, pipeline);
  servingLogLevel();
  const fetch = logRequests(app.fetch, log());
  await new Promise<void>((resolve) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port }, (info) => {
      const url = `http://127.0.0.1:${info.port}`;
      if (dataDir) announceApi(storeDir(dataDir), url);
      process.stderr.write(
        `query API on ${url} (GET /openapi.json); write routes need the token in ${file}; Ctrl-C to stop\n`,
      );
    });
    const shutdown = () => {
      server.close();
      void stop().then(resolve);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}
