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

/** The ingest route on a slow store, served over HTTP as `serve` serves it. */
async function server(): Promise<{ url: string; store: SlowStore }> {
  const store = new SlowStore(registry);
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
});
