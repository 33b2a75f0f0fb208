import type { Hono } from 'hono';
import type { GameProblem, GameRow } from '../feeds/readGames.js';
import {
  IngestStoppedError,
  type IngestSummary,
  ingestGames,
  type Reject,
} from '../ingest/ingestGames.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { counted } from './output/plural.js';
import { ingestStopped } from './output/storeStopped.js';

/** The local server's route that ingests a feed into the folder it holds. */
export const INGEST_ROUTE = '/admin/ingest';

/** One line of the answer: rows settled so far, a rejected row, then the summary or an error. */
export type IngestLine =
  | { readonly settled: number }
  | { readonly reject: Reject }
  | { readonly summary: IngestSummary }
  | { readonly error: string; readonly stopped?: IngestSummary };

/**
 * An ingest through the server that stopped at a store of its folder that stopped: its line,
 * and the summary of what the server stored and rejected before it did.
 */
export class ServerIngestStopped extends Error {
  readonly summary: IngestSummary;

  constructor(message: string, summary: IngestSummary) {
    super(message);
    this.name = 'ServerIngestStopped';
    this.summary = summary;
  }
}

type Row = GameRow | GameProblem;

/** Lines of text from a byte stream, each without its line break. */
async function* linesOf(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf('\n');
    while (end >= 0) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\n');
    }
  }
  buffered += decoder.decode();
  if (buffered.trim() !== '') yield buffered;
}

/** The batches of a request's body: a JSON array of feed rows a line. */
async function* batchesOf(body: AsyncIterable<Uint8Array>): AsyncGenerator<readonly Row[]> {
  let n = 0;
  for await (const line of linesOf(body)) {
    n++;
    if (line.trim() === '') continue;
    let batch: unknown;
    try {
      batch = JSON.parse(line);
    } catch {
      throw new Error(`line ${n} of the body is not JSON`);
    }
    if (!Array.isArray(batch)) throw new Error(`line ${n} of the body is not an array of rows`);
    for (const row of batch as { kind?: unknown }[]) {
      if (row?.kind !== 'game' && row?.kind !== 'problem')
        throw new Error(`line ${n} of the body holds a row that is neither a game nor a problem`);
    }
    yield batch as Row[];
  }
}

/**
 * `POST /admin/ingest` on the local server (with its token, as every write): ingests a feed
 * into the store of the pipeline it serves, so `matchstream ingest` works on a data folder
 * while `serve` holds it, and the pipeline (read models, buses, sagas, the console's live
 * page) takes the new results in at once. The body is the feed as read by the command, one
 * JSON array of rows a line, streamed; the answer is JSON Lines: the rows settled (about twice
 * a second, and every 250 rows), each rejected row, then the summary (or an error: with the summary so far as
 * `stopped` when a store of the folder stopped under it). One ingest, like one run of
 * the command: rows of the same match keep their order across the whole body.
 */
export function mountIngest(app: Hono, store: EventStore): void {
  app.post(INGEST_ROUTE, async (c) => {
    const body = c.req.raw.body;
    if (!body)
      return c.json(
        { error: { status: 400, message: 'the body must be the rows to ingest' } },
        400,
      );
    const encoder = new TextEncoder();
    const answer = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (line: IngestLine) => {
          controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        };
        let settled = 0;
        let last = 0;
        let lastSent = 0;
        // The count goes about twice a second, and at once every quarter of `INGEST_WINDOW`
        // rows: the sender, which keeps at most that many rows ahead of the count, is never
        // held back by the clock, however fast the rows settle. The count of a row settled
        // within 500 ms of the last one sent goes at the end of those 500 ms, so the sender is
        // never left waiting for one either.
        let trailing: NodeJS.Timeout | undefined;
        const sendSettled = () => {
          clearTimeout(trailing);
          trailing = undefined;
          last = Date.now();
          lastSent = settled;
          send({ settled });
        };
        try {
          const summary = await ingestGames(batchesOf(body as AsyncIterable<Uint8Array>), {
            store,
            onReject: (reject) => send({ reject }),
            onRow: () => {
              settled++;
              const wait = last + 500 - Date.now();
              if (wait <= 0 || settled - lastSent >= INGEST_WINDOW / 4) sendSettled();
              else trailing ??= setTimeout(sendSettled, wait);
            },
          });
          clearTimeout(trailing);
          send({ summary });
        } catch (error) {
          // A store that stopped under it: how many rows it stored first, and what to do.
          if (error instanceof IngestStoppedError)
            send({ error: ingestStopped(error, 'the feed').message, stopped: error.summary });
          else send({ error: error instanceof Error ? error.message : String(error) });
        } finally {
          clearTimeout(trailing);
          controller.close();
        }
      },
    });
    return new Response(answer, { headers: { 'content-type': 'application/x-ndjson' } });
  });
}

/**
 * The most rows an ingest through the server sends ahead of those the server said settled:
 * what it reads is sent no further ahead, so that Ctrl-C, which stops the reading, leaves the
 * server a second or two of rows to store rather than the megabytes its connection buffers.
 */
export const INGEST_WINDOW = 1_000;

/**
 * Ingests a feed through the server holding a data folder (`POST /admin/ingest`), passing its
 * rejects and progress on as `ingestGames` would; answers the summary.
 */
export async function ingestThrough(
  api: string,
  token: string,
  batches: AsyncIterable<readonly Row[]>,
  handlers: { onReject: (reject: Reject) => void; onRow: () => void },
): Promise<IngestSummary> {
  const encoder = new TextEncoder();
  const iterator = batches[Symbol.asyncIterator]();
  let sent = 0;
  let settled = 0;
  // The sender waiting for the server to settle rows, woken by each count the server sends.
  let caughtUp: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (sent - settled >= INGEST_WINDOW)
        await new Promise<void>((resolve) => {
          caughtUp = resolve;
        });
      const next = await iterator.next();
      if (next.done) controller.close();
      else {
        sent += next.value.length;
        controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
      }
    },
  });
  let response: Response;
  try {
    response = await fetch(new URL(INGEST_ROUTE, api), {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
      body,
      duplex: 'half',
    } as RequestInit);
  } catch (error) {
    throw new Error(
      `the server holding the data folder does not answer at ${api}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (!response.ok || !response.body) {
    const answer = (await response.json().catch(() => undefined)) as
      | { error?: { message?: string } }
      | undefined;
    throw new Error(
      `the server at ${api} refused the ingest (${response.status}): ${answer?.error?.message ?? response.statusText}`,
    );
  }
  const lines = linesOf(response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = await lines.next();
    } catch (error) {
      // The connection cut before the answer ended: the server stopped (its own output says why).
      throw new Error(
        `the server at ${api} ended the ingest before its summary (${error instanceof Error ? error.message : String(error)}): what the server wrote says why; ${counted(settled, 'row')} had been stored or rejected by then, and running the command again goes on from what was stored`,
        { cause: error },
      );
    }
    if (next.done) break;
    const line = JSON.parse(next.value) as IngestLine;
    if ('settled' in line) {
      for (; settled < line.settled; settled++) handlers.onRow();
      caughtUp?.();
      caughtUp = undefined;
    } else if ('reject' in line) handlers.onReject(line.reject);
    else if ('summary' in line) {
      for (; settled < line.summary.read; settled++) handlers.onRow();
      return line.summary;
    } else {
      const message = `the ingest failed in the server at ${api}: ${line.error}`;
      if (line.stopped) throw new ServerIngestStopped(message, line.stopped);
      throw new Error(message);
    }
  }
  throw new Error(`the server at ${api} ended the ingest without a summary`);
}
