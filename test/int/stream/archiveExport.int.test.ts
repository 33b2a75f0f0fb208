import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStorage } from '../../../stream/archive/ArchiveStorage.js';
import { exportTableLocally } from '../../../stream/archive/exportTable.js';
import {
  type ArchivedExport,
  listExports,
  readDataFile,
  verifyExport,
} from '../../../stream/archive/readExport.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import type { Commit } from '../../../stream/eventStore/Commit.js';
import { fromItem } from '../../../stream/eventStore/commitItem.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

const TABLE = 'events';
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let store: DynamoEventStore;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
  await ensureEventsTable(client, TABLE);
  store = new DynamoEventStore({ client, table: TABLE, registry });
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

/** `count` streams of two commits each (a result, then its correction). */
async function appendMatches(first: number, count: number): Promise<void> {
  for (let i = first; i < first + count; i++) {
    const id = `match:2026-${String(i).padStart(5, '0')}`;
    await store.append(id, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id, 1, 0) }]);
    await store.append(id, 1, [{ event_type: 'MatchRecorded', data: matchRecorded(id, 2, 0) }]);
  }
}

async function tableCommits(): Promise<string[]> {
  const { Items } = await client.send(new ScanCommand({ TableName: TABLE }));
  return (Items ?? []).map((item) => keyOf(fromItem(item, TABLE))).sort();
}

const keyOf = (c: Commit) => `${c.aggregate_id}/${c.sequence}`;

/** Every commit of an export, file by file. */
async function commitsOf(storage: FolderStorage, archived: ArchivedExport) {
  const byFile: Commit[][] = [];
  for (const file of archived.files) {
    const commits: Commit[] = [];
    for await (const page of readDataFile(storage, file).pages)
      for (const item of page) commits.push(fromItem(item, file.dataFileS3Key));
    byFile.push(commits);
  }
  return byFile;
}

describe('the local export of the events table (DynamoDB export format)', () => {
  const folder = tempDir('archive-');
  const storage = new FolderStorage(folder.dir);

  it('writes a full export that holds every commit, each stream in one file, and verifies', async () => {
    // Prepare
    await appendMatches(1, 40);

    // Act
    const summary = await exportTableLocally({ client, table: TABLE, storage, prefix: 'events' });
    const { exports, unfinished } = await listExports(storage, 'events');

    // Assess
    expect(unfinished).toEqual([]);
    expect(exports).toHaveLength(1);
    const [archived] = exports as [ArchivedExport];
    expect(summary).toMatchObject({
      version: '2020-06-30',
      outputFormat: 'DYNAMODB_JSON',
      exportType: 'FULL_EXPORT',
      itemCount: 80,
    });
    expect(archived.files).toHaveLength(4);
    expect(archived.files.every((f) => f.dataFileS3Key.endsWith('.json.gz'))).toBe(true);
    const byFile = await commitsOf(storage, archived);
    expect(byFile.flat().map(keyOf).sort()).toEqual(await tableCommits());
    // Every stream's commits are in one file, as a partition's items are in DynamoDB's.
    const fileOf = new Map<string, number>();
    byFile.forEach((commits, i) => {
      for (const c of commits) {
        expect(fileOf.get(c.aggregate_id) ?? i).toBe(i);
        fileOf.set(c.aggregate_id, i);
      }
    });
    // The data read back is the bytes stored: events decode.
    const sample = byFile.flat()[0] as Commit;
    expect((await store.read(sample.aggregate_id)).length).toBe(2);
    expect(await verifyExport(storage, archived)).toMatchObject({
      ok: true,
      items_in_manifest: 80,
      items_read: 80,
      mismatches: [],
    });
  });

  it('writes an incremental export of the commits after the last one, as changes with new images', async () => {
    // Prepare
    const { exports: before } = await listExports(storage, 'events');
    const full = before[0] as ArchivedExport;
    await appendMatches(41, 5);

    // Act: two minutes on, so the new commits are older than an append may take to land.
    const summary = await exportTableLocally({
      client,
      table: TABLE,
      storage,
      prefix: 'events',
      incremental: { from: full.upTo },
      now: () => Date.now() + 120_000,
    });
    const { exports } = await listExports(storage, 'events');

    // Assess
    expect(summary).toMatchObject({
      exportType: 'INCREMENTAL_EXPORT',
      outputView: 'NEW_IMAGE',
      exportFromTime: full.upTo,
    });
    expect(exports.map((e) => e.incremental)).toEqual([false, true]);
    const incremental = exports[1] as ArchivedExport;
    const lines = incremental.files.flatMap((f) =>
      gunzipSync(readFileSync(storage.path(f.dataFileS3Key)))
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
    expect(lines.every((l) => 'Keys' in l && 'NewImage' in l && 'Metadata' in l)).toBe(true);
    const keys = (await commitsOf(storage, incremental)).flat().map(keyOf);
    // The new commits are there; commits of the full export's last minute may be again
    // (readers take each key once).
    for (let i = 41; i <= 45; i++)
      for (const seq of [1, 2]) expect(keys).toContain(`match:2026-000${i}/${seq}`);
    const union = new Set([...(await commitsOf(storage, full)).flat().map(keyOf), ...keys]);
    expect([...union].sort()).toEqual(await tableCommits());
    expect((await verifyExport(storage, incremental)).ok).toBe(true);
  });

  it('finds a data file that lost an item, and names it', async () => {
    // Prepare
    const { exports } = await listExports(storage, 'events');
    const full = exports[0] as ArchivedExport;
    const file = full.files.find((f) => f.itemCount > 0);
    if (!file) throw new Error('no data file with items');
    const path = storage.path(file.dataFileS3Key);
    const original = readFileSync(path);
    const lines = gunzipSync(original).toString('utf8').split('\n').filter(Boolean);
    writeFileSync(path, gzipSync(`${lines.slice(1).join('\n')}\n`));

    // Act
    const verification = await verifyExport(storage, full);
    writeFileSync(path, original);

    // Assess
    expect(verification.ok).toBe(false);
    expect(verification.mismatches).toEqual([
      {
        file: file.dataFileS3Key,
        expected_items: file.itemCount,
        items: file.itemCount - 1,
        checksum_ok: false,
      },
    ]);
  });

  it('lists an export without a summary as unfinished, and refuses a missing data file by name', async () => {
    // Prepare
    await storage.write('events/AWSDynamoDB/1-deadbeef/_started', '');
    const { exports } = await listExports(storage, 'events');
    const full = exports[0] as ArchivedExport;
    const missing = {
      ...full,
      files: [
        {
          ...(full.files[0] as ArchivedExport['files'][0]),
          dataFileS3Key: 'events/nothing.json.gz',
        },
      ],
    };

    // Act
    const { unfinished } = await listExports(storage, 'events');

    // Assess
    expect(unfinished.map((u) => u.id)).toEqual(['1-deadbeef']);
    await expect(verifyExport(storage, missing)).rejects.toThrow(
      `folder ${folder.dir}: events/nothing.json.gz is missing`,
    );
  });
});

describe('a local export stopped by its signal (Ctrl-C)', () => {
  const folder = tempDir('archive-stopped-');
  const storage = new FolderStorage(folder.dir);

  it('rejects with the signal, leaving the export unfinished, and the next export whole', async () => {
    // Arrange
    await appendMatches(100, 20);
    const controller = new AbortController();
    controller.abort();

    // Act
    const stopped = exportTableLocally({
      client,
      table: TABLE,
      storage,
      prefix: 'events',
      signal: controller.signal,
    });
    await expect(stopped).rejects.toThrow(/abort/i);
    const after = await listExports(storage, 'events');
    const summary = await exportTableLocally({ client, table: TABLE, storage, prefix: 'events' });
    const again = await listExports(storage, 'events');

    // Assess
    expect(after.exports).toEqual([]);
    expect(after.unfinished).toHaveLength(1);
    expect(again.exports.map((e) => e.summary.exportArn)).toEqual([summary.exportArn]);
    expect(summary.itemCount).toBe((await tableCommits()).length);
  });
});
