import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { EmbeddedPipeline } from '../../pipeline/embeddedPipeline.js';
import type { DocKey } from '../../projections/Projection.js';
import { ArchivedEventStore } from '../../stream/archive/ArchivedEventStore.js';
import type { FolderReader } from './FolderReader.js';
import { LocalFolderReader } from './LocalFolderReader.js';

/** The paths of the folder routes, under the local server's `/admin`. */
export const FOLDER_ROUTES = {
  documents: '/admin/folder/documents',
  deadLetters: '/admin/folder/dead-letters',
  consumerLag: '/admin/folder/consumer-lag',
  unrelayedCommits: '/admin/folder/unrelayed-commits',
  storedEvents: '/admin/folder/stored-events',
  breakers: '/admin/folder/breakers',
} as const;

/** What `POST /admin/folder/documents` takes: a table and one read of it. */
export interface DocumentsRequest {
  readonly table: string;
  readonly get?: readonly DocKey[];
  readonly query?: {
    readonly pk: string;
    readonly range?: { readonly prefix?: string; readonly from?: string; readonly to?: string };
  };
}

const TABLE = /^matchstream-[a-z0-9-]{1,200}$/;

/**
 * Routes of the local server only: what the commands that look at a data folder read, for
 * when this process holds the folder (`status`, `projections list`, `saga list`/`show`,
 * `inspect --dead-letters` ask here instead of being refused). Each answers what the same read
 * on the folder itself would (`LocalFolderReader` over this process's own clients). POST with
 * JSON bodies and the server's token: they show internals (dead-lettered records) that the
 * public API does not.
 */
export function mountFolderRoutes(app: Hono, pipeline: EmbeddedPipeline, token: string): void {
  const store = pipeline.runtime.store;
  const reader: FolderReader = new LocalFolderReader(
    pipeline.runtime.dynamo,
    async () => pipeline.runtime.kinesis,
    store instanceof ArchivedEventStore ? store.seasons : undefined,
    // Its consumers run before any record reached them (a new folder): they are listed, not
    // taken for consumers that never ran.
    () =>
      [...pipeline.runtime.consumers]
        .filter(([, consumer]) => consumer.mapping.enabled)
        .map(([name]) => name),
  );
  // Checked here as well as by the API's guard of every method but GET: these routes read, and
  // must stay closed to anyone without the token whatever that guard becomes.
  const authorized = (c: Context) => {
    const match = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '');
    return match !== null && sameSecret(match[1] ?? '', token);
  };
  const refuse = (c: Context, status: 400 | 401, message: string) =>
    c.json({ error: { status, message } }, status);

  app.post(FOLDER_ROUTES.documents, async (c) => {
    if (!authorized(c)) return refuse(c, 401, 'this route needs the server token');
    const body = (await c.req.json().catch(() => undefined)) as DocumentsRequest | undefined;
    if (!body || typeof body.table !== 'string' || !TABLE.test(body.table))
      return refuse(c, 400, 'table: the name of a matchstream table');
    const store = reader.documents(body.table);
    if (Array.isArray(body.get)) {
      const found = await store.getMany(body.get);
      return c.json({ documents: [...found].map(([key, doc]) => ({ key, doc })) });
    }
    if (body.query && typeof body.query.pk === 'string')
      return c.json({ documents: await store.query(body.query.pk, body.query.range ?? {}) });
    return refuse(c, 400, 'give "get" (a list of keys) or "query" ({pk, range})');
  });
  app.post(FOLDER_ROUTES.deadLetters, async (c) => {
    if (!authorized(c)) return refuse(c, 401, 'this route needs the server token');
    return c.json({ dead_letters: await reader.deadLetters() });
  });
  app.post(FOLDER_ROUTES.breakers, async (c) => {
    if (!authorized(c)) return refuse(c, 401, 'this route needs the server token');
    return c.json({ breakers: await reader.breakers() });
  });
  app.post(FOLDER_ROUTES.consumerLag, async (c) => {
    if (!authorized(c)) return refuse(c, 401, 'this route needs the server token');
    return c.json({ consumers: await reader.consumerLag() });
  });
  app.post(FOLDER_ROUTES.unrelayedCommits, async (c) => {
    if (!authorized(c)) return refuse(c, 401, 'this route needs the server token');
    return c.json({ commits: await reader.unrelayedCommits() });
  });
  app.post(FOLDER_ROUTES.storedEvents, async (c) => {
    if (!authorized(c)) return refuse(c, 401, 'this route needs the server token');
    return c.json(await reader.storedEvents());
  });
}

/** Equal strings, compared in a time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
