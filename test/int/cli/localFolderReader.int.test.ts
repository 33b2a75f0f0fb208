import { describe, expect, it } from 'vitest';
import { openDataFolder } from '../../../cli/folder/LocalFolderReader.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import type { StoredDoc } from '../../../projections/Projection.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { storeDir } from '../../../stream/local/dataDir.js';
import { startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
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
