import { setTimeout as sleep } from 'node:timers/promises';
import type { Hono } from 'hono';
import type { EmbeddedPipeline } from '../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../pipeline/readModels.js';
import {
  type RebuildProgress,
  type RebuildSummary,
  rebuildReadModel,
} from '../pipeline/rebuild.js';
import { FolderStorage } from '../stream/archive/ArchiveStorage.js';
import { ARCHIVE_PREFIX } from '../stream/archive/exportFormat.js';
import { archiveDir } from '../stream/local/openEventStore.js';
import { CliError } from './exitCodes.js';

/** What `POST /admin/rebuild` takes. */
export interface RebuildRequest {
  readonly projection: string;
  readonly verify?: boolean;
  readonly switch?: boolean;
  readonly segments?: number;
  /** The flush budget, MB. */
  readonly flushMb?: number;
  /** Commits per scan page. */
  readonly pageSize?: number;
  /** Read the store through the archive (the default) or by scanning the table. */
  readonly source?: 'archive' | 'scan';
}

/** One line of the answer: progress while it runs, then the summary or an error. */
export type RebuildLine =
  | { readonly progress: RebuildProgress }
  | { readonly summary: RebuildSummary }
  | { readonly error: string };

/**
 * Routes of the local server only (never on AWS, where the rebuild runs apart from the API):
 * `POST /admin/rebuild` rebuilds a read model inside the process that holds the data folder,
 * so `matchstream rebuild` works while `serve` keeps answering. The answer is JSON Lines:
 * progress about once a second and at each change of phase, then the summary (with `fault`
 * when a rebuild of the active generation's own version differs from it and kept it, which
 * the command turns into exit 1).
 * Closing the connection interrupts the rebuild, which continues from its checkpoint when
 * asked again.
 */
export function mountLocalAdmin(app: Hono, pipeline: EmbeddedPipeline, dataDir?: string): void {
  let running: { readonly name: string; readonly signal: AbortSignal } | undefined;
  app.post('/admin/rebuild', async (c) => {
    const text = await c.req.text();
    if (text.length > 4096)
      return c.json({ error: { status: 413, message: 'the body is over 4096 bytes' } }, 413);
    const body = parse(text);
    const problem = invalid(body);
    if (problem) return c.json({ error: { status: 400, message: problem } }, 400);
    const request = body as RebuildRequest;
    const projection = READ_MODELS.find((p) => p.name === request.projection);
    if (!projection) return c.json({ error: { status: 400, message: 'unknown read model' } }, 400);
    const archive = (request.source ?? 'archive') === 'archive';
    if (archive && !dataDir)
      return c.json(
        {
          error: {
            status: 400,
            message: 'a pipeline in memory has no archive: rebuild with source "scan"',
          },
        },
        400,
      );
    // One whose client went away (Ctrl-C) finishes what it has in flight first: `finishing`
    // tells the command to ask again in a moment rather than give up.
    if (running)
      return c.json(
        {
          error: {
            status: 409,
            message: running.signal.aborted
              ? `an interrupted rebuild of ${running.name} is still finishing in this server`
              : `a rebuild of ${running.name} is under way in this server`,
            ...(running.signal.aborted ? { finishing: true } : {}),
          },
        },
        409,
      );
    const signal = c.req.raw.signal;
    running = { name: projection.name, signal };
    const encoder = new TextEncoder();
    const body$ = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (line: RebuildLine) => {
          if (!signal.aborted) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        };
        let last = 0;
        let phase: string | undefined;
        try {
          const summary = await rebuildReadModel(pipeline, projection, {
            ...(request.segments ? { segments: request.segments } : {}),
            ...(request.flushMb ? { flushMb: request.flushMb } : {}),
            ...(request.pageSize ? { pageSize: request.pageSize } : {}),
            ...(request.verify !== undefined ? { verify: request.verify } : {}),
            ...(request.switch === false ? { noSwitch: true } : {}),
            ...(archive && dataDir
              ? {
                  archive: {
                    storage: new FolderStorage(archiveDir(dataDir)),
                    prefix: ARCHIVE_PREFIX,
                  },
                }
              : {}),
            signal,
            onProgress: (p) => {
              // About once a second, and at once when the rebuild turns to streams applied
              // after the files (or back), which may take less than a second in all.
              if (Date.now() - last < 1000 && p.streams?.kind === phase) return;
              last = Date.now();
              phase = p.streams?.kind;
              send({
                progress: {
                  events: p.events,
                  scanned: p.scanned,
                  total: p.total,
                  ...(p.streams ? { streams: p.streams } : {}),
                },
              });
            },
          });
          send({ summary });
        } catch (error) {
          send({ error: error instanceof Error ? error.message : String(error) });
        } finally {
          running = undefined;
          if (!signal.aborted) controller.close();
        }
      },
    });
    return new Response(body$, { headers: { 'content-type': 'application/x-ndjson' } });
  });
}

function parse(text: string): Partial<RebuildRequest> | undefined {
  try {
    return JSON.parse(text) as Partial<RebuildRequest>;
  } catch {
    return undefined;
  }
}

function invalid(body: Partial<RebuildRequest> | undefined): string | undefined {
  if (!body || typeof body !== 'object') return 'the body must be a JSON object';
  if (typeof body.projection !== 'string')
    return `projection must be one of ${READ_MODELS.map((p) => p.name).join(', ')}`;
  if (body.verify !== undefined && typeof body.verify !== 'boolean') return 'verify: true or false';
  if (body.switch !== undefined && typeof body.switch !== 'boolean') return 'switch: true or false';
  if (
    body.segments !== undefined &&
    !(Number.isInteger(body.segments) && body.segments >= 1 && body.segments <= 64)
  )
    return 'segments: a whole number from 1 to 64';
  if (
    body.flushMb !== undefined &&
    !(typeof body.flushMb === 'number' && body.flushMb > 0 && body.flushMb <= 65_536)
  )
    return 'flushMb: a number of MB above 0, at most 65536';
  if (
    body.pageSize !== undefined &&
    !(Number.isInteger(body.pageSize) && body.pageSize >= 1 && body.pageSize <= 1_000_000)
  )
    return 'pageSize: a whole number from 1 to 1000000';
  if (body.source !== undefined && body.source !== 'archive' && body.source !== 'scan')
    return 'source: "archive" or "scan"';
  return undefined;
}

/** How long a rebuild waits for an interrupted one still finishing in the server. */
const FINISHING_WAIT_MS = 30_000;

/**
 * Asks the server holding a data folder to rebuild a read model, passing its progress on;
 * aborting the signal closes the connection, which interrupts the rebuild there.
 */
export async function rebuildThrough(
  api: string,
  token: string,
  request: RebuildRequest,
  onProgress: (progress: RebuildProgress) => void,
  signal?: AbortSignal,
): Promise<RebuildSummary> {
  const ask = () =>
    fetch(new URL('/admin/rebuild', api), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(request),
      ...(signal ? { signal } : {}),
    });
  // A rebuild interrupted a moment ago may still be finishing its files in flight in the
  // server: asked again at once, this one waits for it a little, then goes on from it.
  const until = Date.now() + FINISHING_WAIT_MS;
  let response = await ask();
  for (;;) {
    if (response.ok) break;
    const answer = (await response.json().catch(() => undefined)) as
      | { error?: { message?: string; finishing?: boolean } }
      | undefined;
    const message = answer?.error?.message ?? response.statusText;
    if (response.status === 409 && answer?.error?.finishing && Date.now() < until) {
      await sleep(250, undefined, signal ? { signal } : {});
      response = await ask();
      continue;
    }
    // Another rebuild under way, or one still finishing after the wait: an expected state.
    if (response.status === 409)
      throw new CliError(
        `the server at ${api} refused the rebuild: ${message}; run it again ${answer?.error?.finishing ? 'in a moment' : 'once that one has ended'}`,
      );
    throw new Error(`the server at ${api} refused the rebuild (${response.status}): ${message}`);
  }
  if (!response.body) throw new Error(`the server at ${api} answered the rebuild with no body`);
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf('\n');
    while (end >= 0) {
      const line = JSON.parse(buffered.slice(0, end)) as RebuildLine;
      buffered = buffered.slice(end + 1);
      if ('progress' in line) onProgress(line.progress);
      else if ('summary' in line) return line.summary;
      else throw new Error(`the rebuild failed in the server at ${api}: ${line.error}`);
      end = buffered.indexOf('\n');
    }
  }
  throw new Error(`the server at ${api} ended the rebuild without a summary`);
}
