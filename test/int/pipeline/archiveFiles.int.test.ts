import { gzipSync } from 'node:zlib';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyDeferredStreams,
  applyExportFile,
  replayArchive,
} from '../../../pipeline/archiveReplay.js';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { Projector } from '../../../projections/Projector.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { FolderStorage } from '../../../stream/archive/ArchiveStorage.js';
import { itemLine, jsonItem, type ManifestFile } from '../../../stream/archive/exportFormat.js';
import type { ArchivedExport } from '../../../stream/archive/readExport.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { InMemoryReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
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
  // A result corrected twice, one recorded once, one corrected once.
  for (const [id, goals] of [
    ['match:X', [1, 2, 3]],
    ['match:Y', [1]],
    ['match:Z', [0, 4]],
  ] as const)
    for (const [i, home] of goals.entries())
      await store.append(id, i, [
        { event_type: 'MatchRecorded', data: matchRecorded(id, home, 0) },
      ]);
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

/** The work of a `matches` generation in memory, reading streams from `events`. */
const matchesWork = (events: Pick<DynamoEventStore, 'read'>, consumer: string) => ({
  projection: matchesProjection,
  documents: new InMemoryDocumentStore(),
  positions: new InMemoryPositionStore(),
  consumer,
  events,
  codec: new CommitCodec(registry),
  budgetBytes: 2 ** 20,
});

/** A store's documents in key order. */
const sorted = (s: InMemoryDocumentStore) => {
  const byKey = (d: { pk: string; sk: string }) => `${d.pk}\u0000${d.sk}`;
  return s.all().sort((a, b) => byKey(a).localeCompare(byKey(b)));
};

/** The `matches` documents of every event of a store applied in order, in key order. */
async function everyEventApplied(events: DynamoEventStore) {
  const expected = new InMemoryDocumentStore();
  const projector = new Projector(matchesProjection, expected);
  for await (const batch of events.readAll()) await projector.apply(batch);
  return sorted(expected);
}

describe('the per-file work of a rebuild through the archive', () => {
  const folder = tempDir('archive-files-');
  const storage = new FolderStorage(folder.dir);

  it('leaves a stream an export split over two files to one writer after the files, and ends equal to applying every event', async () => {
    // Prepare: the commits of match:X split over two files; the later file applied first.
    const { Items = [] } = await client.send(new ScanCommand({ TableName: TABLE }));
    const key = (item: (typeof Items)[number]) => `${item.aggregate_id?.S}/${item.sequence?.N}`;
    const later = new Set(['match:X/2', 'match:X/3']);
    const file = async (name: string, items: typeof Items): Promise<ManifestFile> => {
      const dataFileS3Key = `events/AWSDynamoDB/1-split/data/${name}.json.gz`;
      await storage.write(
        dataFileS3Key,
        gzipSync(items.map((i) => `${itemLine(jsonItem(i))}\n`).join('')),
      );
      return { itemCount: items.length, md5Checksum: '', etag: '', dataFileS3Key };
    };
    const files = [
      await file(
        'b',
        Items.filter((i) => later.has(key(i))),
      ),
      await file(
        'a',
        Items.filter((i) => !later.has(key(i))),
      ),
    ];
    const chain: ArchivedExport[] = [
      {
        id: '1-split',
        files,
        summaryKey: 'events/AWSDynamoDB/1-split/manifest-summary.json',
        upTo: new Date().toISOString(),
        incremental: false,
        summary: {
          version: '2020-06-30',
          exportArn: 'arn:aws:dynamodb:local:000000000000:table/events/export/1-split',
          startTime: new Date().toISOString(),
          endTime: new Date().toISOString(),
          tableArn: 'arn:aws:dynamodb:local:000000000000:table/events',
          tableId: 'events',
          s3Bucket: folder.dir,
          s3Prefix: 'events',
          s3SseAlgorithm: null,
          s3SseKmsKeyId: null,
          manifestFilesS3Key: 'events/AWSDynamoDB/1-split/manifest-files.json',
          billedSizeBytes: 0,
          itemCount: Items.length,
          outputFormat: 'DYNAMODB_JSON',
        },
      },
    ];
    const work = matchesWork(store, 'read-model:matches:g2');
    const { documents } = work;

    // Act
    const summary = await replayArchive({
      storage,
      chain,
      name: 'split',
      description: 'matches',
      checkpoints: new InMemoryReplayCheckpoints(),
      concurrency: 1,
      apply: (f, onPage) => applyExportFile({ ...work, storage, file: f, onPage }),
      applyStreams: (ids) => applyDeferredStreams(work, ids),
    });

    // Assess: match:X deferred from the file of its later events, applied whole after both
    // files; the documents are those of every event applied in order. Its first event, applied
    // from the other file, left no position (the matches read model ignores a repeat), so the
    // stream applied whole takes it again: 7 events applied for the 6 stored.
    expect(summary).toMatchObject({ completed: true, deferred: 1, events: 7 });
    expect(sorted(documents)).toEqual(await everyEventApplied(store));
  });
});

describe('a rebuild through the archive stopped while its files are applied', () => {
  const folder = tempDir('archive-stopped-');
  const storage = new FolderStorage(folder.dir);

  it('is not completed when its signal was aborted under the files in flight, and goes on when run again', async () => {
    // Prepare: an export of two files (match:X and match:Y in one, match:Z in the other),
    // both applied at once; Ctrl-C comes while they are in flight, once both were taken.
    const { Items = [] } = await client.send(new ScanCommand({ TableName: TABLE }));
    const file = async (name: string, items: typeof Items): Promise<ManifestFile> => {
      const dataFileS3Key = `events/AWSDynamoDB/2-stopped/data/${name}.json.gz`;
      await storage.write(
        dataFileS3Key,
        gzipSync(items.map((i) => `${itemLine(jsonItem(i))}\n`).join('')),
      );
      return { itemCount: items.length, md5Checksum: '', etag: '', dataFileS3Key };
    };
    const inZ = (i: (typeof Items)[number]) => i.aggregate_id?.S === 'match:Z';
    const files = [
      await file(
        'a',
        Items.filter((i) => !inZ(i)),
      ),
      await file('b', Items.filter(inZ)),
    ];
    const now = new Date().toISOString();
    const chain: ArchivedExport[] = [
      {
        id: '2-stopped',
        files,
        summaryKey: 'events/AWSDynamoDB/2-stopped/manifest-summary.json',
        upTo: now,
        incremental: false,
        summary: {
          version: '2020-06-30',
          exportArn: 'arn:aws:dynamodb:local:000000000000:table/events/export/2-stopped',
          startTime: now,
          endTime: now,
          tableArn: 'arn:aws:dynamodb:local:000000000000:table/events',
          tableId: 'events',
          s3Bucket: folder.dir,
          s3Prefix: 'events',
          s3SseAlgorithm: null,
          s3SseKmsKeyId: null,
          manifestFilesS3Key: 'events/AWSDynamoDB/2-stopped/manifest-files.json',
          billedSizeBytes: 0,
          itemCount: Items.length,
          outputFormat: 'DYNAMODB_JSON',
        },
      },
    ];
    const work = matchesWork(store, 'read-model:matches:g3');
    const checkpoints = new InMemoryReplayCheckpoints();
    const applied: string[] = [];
    const run = (signal?: AbortSignal, onApplied?: () => void) =>
      replayArchive({
        storage,
        chain,
        name: 'stopped',
        description: 'matches',
        checkpoints,
        concurrency: 2,
        apply: async (f, onPage) => {
          const result = await applyExportFile({ ...work, storage, file: f, onPage });
          applied.push(f.dataFileS3Key);
          onApplied?.();
          return result;
        },
        applyStreams: (ids) => applyDeferredStreams(work, ids),
        ...(signal ? { signal } : {}),
      });
    const controller = new AbortController();

    // Act
    const first = await run(controller.signal, () => controller.abort());
    const saved = await checkpoints.load('stopped');
    const second = await run();

    // Assess: stopped, the run says so (the rebuild then neither catches up nor switches),
    // with its files checkpointed; run again, it applies no file twice and completes.
    expect(first.completed).toBe(false);
    expect(saved?.status).toBe('running');
    expect(second).toMatchObject({ resumed: true, completed: true });
    expect(applied).toHaveLength(2);
    expect(sorted(work.documents)).toEqual(await everyEventApplied(store));
  });
});

/** An events table of `count` streams of a result each, every fifth corrected once. */
async function resultStreams(table: string, prefix: string, count: number) {
  await ensureEventsTable(client, table);
  const store = new DynamoEventStore({ client, table, registry });
  const ids = Array.from({ length: count }, (_, i) => `match:${prefix}${i}`);
  for (const [i, id] of ids.entries()) {
    await store.append(id, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id, i % 4, 1) }]);
    if (i % 5 === 0)
      await store.append(id, 1, [{ event_type: 'MatchRecorded', data: matchRecorded(id, 9, 9) }]);
  }
  return { store, ids };
}

describe('the streams a rebuild applies after its files', () => {
  it('reads many streams at once and applies every event in order, as applying them one by one does', async () => {
    // Prepare: 250 streams (more than one delivery of 100), every fifth corrected.
    const { store: many, ids } = await resultStreams('events-many', 'M', 250);
    const work = matchesWork(many, 'read-model:matches:g2');
    const { documents } = work;

    // Act
    const applied = await applyDeferredStreams(work, ids);

    // Assess
    expect(applied).toEqual({ events: 300, duplicates: 0, next: 250, done: true });
    expect(sorted(documents)).toEqual(await everyEventApplied(many));
  });

  it('applies the streams in parts that stop once their time has come, each going on where the last stopped, every event once', async () => {
    // Prepare: 25 streams, every fifth corrected; calls that stop after a chunk of 4.
    const { store: parts, ids } = await resultStreams('events-parts', 'P', 25);
    const work = matchesWork(parts, 'read-model:matches:g5');
    const clock = { now: 1_000 };
    const until = clock.now;

    // Act: each call from the last one's `next`; one of them started again from where the
    // one before it began (its output lost, as when a function times out after writing).
    const calls: { next: number; done: boolean; events: number; duplicates: number }[] = [];
    let from = 0;
    while (calls.at(-1)?.done !== true) {
      const part = await applyDeferredStreams(work, ids, {
        from,
        until,
        now: () => clock.now,
        chunk: 4,
      });
      calls.push(part);
      from = part.next;
    }
    const again = await applyDeferredStreams(work, ids, { from: 8, until, chunk: 4 });

    // Assess: a chunk a call (7 calls for 25 streams), the documents of every event applied
    // in order, after the call started again too: it skipped the corrected stream's two
    // events (behind its position) and took the three streams of one event again, which the
    // read model ignores as repeats. The last call goes no further than the list.
    expect(calls.map((c) => c.next)).toEqual([4, 8, 12, 16, 20, 24, 25]);
    expect(calls.reduce((n, c) => n + c.events, 0)).toBe(30);
    expect(again).toMatchObject({ next: 12, done: false, events: 3, duplicates: 2 });
    expect(sorted(work.documents)).toEqual(await everyEventApplied(parts));
    await expect(applyDeferredStreams(work, ids, { from: 26 })).rejects.toThrow(
      "the deferred streams' list has 25 streams; cannot start at 26",
    );
  });

  it('stops between chunks once its signal is aborted, written up to where it says it stopped', async () => {
    // Prepare: 12 streams, every fifth corrected; aborted once the first chunk of 4 is in.
    const { store: stopping, ids } = await resultStreams('events-stopping', 'S', 12);
    const work = matchesWork(stopping, 'read-model:matches:g6');
    const controller = new AbortController();
    const chunks: [number, number][] = [];

    // Act
    const part = await applyDeferredStreams(work, ids, {
      chunk: 4,
      signal: controller.signal,
      onChunk: (next, events) => {
        chunks.push([next, events]);
        controller.abort();
      },
    });

    // Assess: one chunk (match:S0 corrected: 5 events), flushed; the rest from `next` after.
    expect(chunks).toEqual([[4, 5]]);
    expect(part).toEqual({ events: 5, duplicates: 0, next: 4, done: false });
    expect(new Set(work.documents.all().map((d) => d.sk)).size).toBeGreaterThan(0);
    const rest = await applyDeferredStreams(work, ids, { from: part.next });
    expect(rest).toMatchObject({ next: 12, done: true });
    expect(sorted(work.documents)).toEqual(await everyEventApplied(stopping));
  });

  it('fails with the first stream it cannot read, taking no more streams', async () => {
    const reads: string[] = [];
    const events = {
      read: async (id: string) => {
        reads.push(id);
        if (id === 'match:bad') throw new Error('the table is out');
        return store.read(id);
      },
    };
    const work = matchesWork(events, 'read-model:matches:g3');
    const ids = ['match:bad', ...Array.from({ length: 300 }, () => 'match:Y')];

    await expect(applyDeferredStreams(work, ids)).rejects.toThrow('the table is out');
    // The lanes of the first delivery stop; no later delivery begins.
    expect(reads.length).toBeLessThanOrEqual(100);
  });
});

describe("the expired seasons' streams a rebuild through the archive applies after its files", () => {
  const folder = tempDir('expired-');
  it('applies them in parts, each checkpointed, and an interrupted run goes on after the last one written', async () => {
    // Prepare: 25 streams of an expired season (every fifth corrected), listed out of order;
    // an empty chain, so that only they are applied; parts of one chunk of 4 streams.
    const { store: expiredStore, ids } = await resultStreams('events-expired', 'E', 25);
    const work = matchesWork(expiredStore, 'read-model:matches:g7');
    const checkpoints = new InMemoryReplayCheckpoints();
    const applied: string[][] = [];
    const progress: { done: number; total: number }[] = [];
    const run = (signal?: AbortSignal, onStreams?: (done: number) => void) =>
      replayArchive({
        storage: new FolderStorage(folder.path('archive')),
        chain: [],
        name: 'expired',
        description: 'matches',
        checkpoints,
        apply: () => {
          throw new Error('no files to apply');
        },
        applyStreams: async (list, part) => {
          const result = await applyDeferredStreams(work, list, { ...part, chunk: 4 });
          applied.push(list.slice(part.from ?? 0, result.next));
          return result;
        },
        expired: async () => [...ids].reverse(),
        partMs: 0,
        onProgress: (p) => {
          if (p.streams?.kind !== 'expired') return;
          progress.push({ done: p.streams.done, total: p.streams.total });
          onStreams?.(p.streams.done);
        },
        ...(signal ? { signal } : {}),
      });
    const controller = new AbortController();

    // Act: interrupted once 12 streams are in; then run again.
    const first = await run(controller.signal, (done) => {
      if (done >= 12) controller.abort();
    });
    const saved = await checkpoints.load('expired');
    const second = await run();

    // Assess: three parts of 4 streams in order of id, checkpointed after the last of them;
    // the second run goes on after it, each stream applied once, progress counted from 12.
    const inOrder = [...ids].sort();
    expect(first).toMatchObject({ completed: false, expired: 25 });
    expect(saved).toMatchObject({ status: 'running', streams_through: inOrder[11] });
    expect(applied.slice(0, 3).flat()).toEqual(inOrder.slice(0, 12));
    expect(second).toMatchObject({ resumed: true, completed: true, expired: 25 });
    expect(applied.flat()).toEqual(inOrder);
    expect(progress.map((p) => p.done)).toEqual([4, 8, 12, 16, 20, 24, 25]);
    expect(progress.every((p) => p.total === 25)).toBe(true);
    // The second run's count goes on from the first's: every event once.
    expect(second.events).toBe(30);
    expect(sorted(work.documents)).toEqual(await everyEventApplied(expiredStore));
    expect((await checkpoints.load('expired'))?.status).toBe('done');
  });
});
