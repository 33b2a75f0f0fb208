import { serve } from '@hono/node-server';
import { createApi } from '../projections/api/createApi.js';
import { announceApi } from '../stream/local/dataDirLock.js';
import { storeDir } from '../stream/local/openEventStore.js';
import type { EmbeddedPipeline } from './embeddedPipeline.js';
import { mountLocalAdmin } from './localAdmin.js';

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
  const app = createApi(pipeline.queries);
  mountLocalAdmin(app, pipeline);
  await new Promise<void>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info) => {
      const url = `http://127.0.0.1:${info.port}`;
      if (dataDir) announceApi(storeDir(dataDir), url);
      process.stderr.write(`query API on ${url} (GET /openapi.json); Ctrl-C to stop\n`);
    });
    const shutdown = () => {
      server.close();
      void stop().then(resolve);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}
