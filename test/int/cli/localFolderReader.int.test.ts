import { describe, expect, it } from 'vitest';
import { openDataFolder } from '../../../cli/folder/LocalFolderReader.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import type { StoredDoc } from '../../../projections/Projection.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { storeDir } from '../../../stream/local/dataDir.js';
import { startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { feedRows } from '../../support/games.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('matchstream-folder-reader-');

describe("a data folder's documents, read by the folder reader", () => {
  it('are queried a page at a time, and a table the folder does not hold has none', async () => {
    // Prepare: 600 documents of 4 KB under one key, more than one page (DynamoDB's 1 MB).
    const data = tmp.path('paged');
    const dynamo = await startEmbeddedDynamo({ dataDir: storeDir(data) });
    const client = dynamoClient({ endpoint: dynamo.endpoint });
    try {
      const store = await DynamoDocumentStore.open(client, 'paged-table');
      const docs: StoredDoc[] = Array.from({ length: 600 }, (_, i) => ({
        pk: 'day#2026-09-01',
        sk: String(i).padStart(4, '0'),
        doc: { filler: 'x'.repeat(4000) },
      }));
      for (let i = 0; i < docs.length; i += 25) await store.write(docs.slice(i, i + 25), []);
    } finally {
      client.destroy();
      await dynamo.stop();
    }
    const { reader, close } = await openDataFolder(data);
    try {
      // Act
      const pages: number[] = [];
      for await (const page of reader.documents('paged-table').queryPages('day#2026-09-01'))
        pages.push(page.length);
      const absent: number[] = [];
      for await (const page of reader.documents('no-such-table').queryPages('day#2026-09-01'))
        absent.push(page.length);

      // Assess
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.reduce((a, b) => a + b, 0)).toBe(600);
      expect(absent).toEqual([]);
      expect(await reader.documents('no-such-table').query('day#2026-09-01')).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe("a data folder's change stream, read by the folder reader", () => {
  it("gives each consumer's lag, opening the stream when asked, and lets it go on close", async () => {
    // Prepare: a folder a pipeline ran on, stopped once caught up.
    const data = tmp.path('stream');
    const pipeline = await startPipeline({ dataDir: data });
    try {
      const season = generateSeason({ teams: 6, gamesPerTeam: 2, seed: 3 });
      await ingestGames(feedRows(season.games), { store: pipeline.runtime.store });
      await pipeline.runtime.settle();
    } finally {
      await pipeline.stop();
    }

    // Act: twice, so that the second opening finds the stream's store let go by the first.
    const lags = [];
    for (let round = 0; round < 2; round++) {
      const { reader, close } = await openDataFolder(data);
      try {
        lags.push(await reader.consumerLag());
      } finally {
        await close();
      }
    }

    // Assess
    const caughtUp = ['bus-router', 'read-models', 'sagas'].map((consumer) => ({
      consumer,
      lag_ms: 0,
      shards_behind: 0,
    }));
    for (const lag of lags)
      expect([...lag].sort((a, b) => a.consumer.localeCompare(b.consumer))).toEqual(caughtUp);
  }, 60_000);
});
