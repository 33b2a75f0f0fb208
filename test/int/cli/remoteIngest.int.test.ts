import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { INGEST_WINDOW, ingestThrough, mountIngest } from '../../../cli/remoteIngest.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import type { GameRow } from '../../../feeds/readGames.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { registry } from '../../support/registry.js';

/** A store whose appends take a few milliseconds, as a served folder's under its pipeline. */
class SlowStore extends InMemoryEventStore {
  override async append(...args: Parameters<InMemoryEventStore['append']>) {
    await delay(4);
    return super.append(...args);
  }
}

const servers: { close(): void }[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/** The ingest route on a store (a slow one unless `fast`), served over HTTP as `serve` serves it. */
async function server(fast = false): Promise<{ url: string; store: InMemoryEventStore }> {
  const store = fast ? new InMemoryEventStore(registry) : new SlowStore(registry);
  const app = new Hono();
  mountIngest(app, store);
  const url = await new Promise<string>((resolve) => {
    const listening = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
      resolve(`http://127.0.0.1:${(info as AddressInfo).port}`),
    );
    servers.push(listening);
  });
  return { url, store };
}

describe('an ingest through the server holding the folder', () => {
  it('reads no further ahead of the rows the server settled than its window, and ingests them all', async () => {
    // Arrange: a season's rows in batches of 100, as the command reads them between two looks
    // at Ctrl-C, counting how far the reading gets ahead of the rows settled
    const { url, store } = await server();
    const games = generateSeason({ teams: 120, gamesPerTeam: 40, seed: 3 }).games;
    const rows: GameRow[] = games.map((game, i) => ({
      kind: 'game',
      line: i + 2,
      game,
      fields: {},
    }));
    let read = 0;
    let settled = 0;
    let furthest = 0;
    async function* batches() {
      for (let start = 0; start < rows.length; start += 100) {
        furthest = Math.max(furthest, read - settled);
        const batch = rows.slice(start, start + 100);
        read += batch.length;
        yield batch;
      }
    }

    // Act
    const summary = await ingestThrough(url, 'token', batches(), {
      onReject: () => {},
      onRow: () => {
        settled++;
      },
    });

    // Assess: what Ctrl-C would leave the server to store is at most the window (and a batch)
    expect(summary.read).toBe(rows.length);
    expect(summary.appended).toBe(rows.length);
    expect(settled).toBe(rows.length);
    expect(furthest).toBeLessThanOrEqual(INGEST_WINDOW + 100);
    expect((await store.read(`match:${games[0]?.matchId}`)).length).toBe(1);
  });

  it('counts the rows settled at least every quarter of the window, so that a fast server does not wait for the clock', async () => {
    // Arrange: a season's rows on a store that settles them as fast as it can
    const { url } = await server(true);
    const games = generateSeason({ teams: 120, gamesPerTeam: 40, seed: 4 }).games;
    const rows: GameRow[] = games.map((game, i) => ({
      kind: 'game',
      line: i + 2,
      game,
      fields: {},
    }));
    const body = rows
      .map((_, i) => i)
      .filter((i) => i % 100 === 0)
      .map((i) => `${JSON.stringify(rows.slice(i, i + 100))}\n`)
      .join('');

    // Act
    const answer = await fetch(new URL('/admin/ingest', url), { method: 'POST', body });
    const counts = (await answer.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { settled?: number })
      .flatMap((line) => (line.settled === undefined ? [] : [line.settled]));

    // Assess: the sender, at most a window ahead of the count, is never held up by its gaps
    const gaps = counts.map((n, i) => n - (counts[i - 1] ?? 0));
    expect(counts.at(-1)).toBeGreaterThanOrEqual(rows.length - INGEST_WINDOW / 4);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(INGEST_WINDOW / 4);
  });
});
