import { readFile } from 'node:fs/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildFileHandlers } from '../../../pipeline/aws/rebuildFiles.js';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { Projector } from '../../../projections/Projector.js';
import { standingsProjection } from '../../../projections/readModels/standings.js';
import { FolderStorage, S3Storage } from '../../../stream/archive/ArchiveStorage.js';
import { APPEND_LANDS_WITHIN_MS, exportTableLocally } from '../../../stream/archive/exportTable.js';
import { listExports } from '../../../stream/archive/readExport.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { s3Client } from '../../../stream/aws/s3InvocationRecords.js';
import { DEAD_LETTERS_TABLE } from '../../../stream/consumer/DeadLetterQueue.js';
import {
  DynamoPositionStore,
  POSITIONS_TABLE,
} from '../../../stream/consumer/DynamoPositionStore.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { ensureRuntimeTables } from '../../../stream/local/localTables.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { uploadArchive } from '../../support/s3Archive.js';
import { tempDir } from '../../support/tempDir.js';

const BUCKET = 'archive';
const GENERATION_TABLE = 'matchstream-rm-standings-v2-g2';

// The rebuild's per-file function as the Distributed Map runs it on AWS: over the archive
// bucket and the deployed tables, here moto_server's S3 and DynamoDB.
describe.runIf(motoAvailable())(
  'the per-file rebuild function on moto_server (S3, DynamoDB)',
  () => {
    let moto: Moto;
    let dynamo: DynamoDBClient;
    let s3: S3Client;
    let store: DynamoEventStore;
    const folder = tempDir('rebuild-files-');

    beforeAll(async () => {
      moto = await startMoto();
      dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
      s3 = s3Client({ endpoint: moto.endpoint });
      await Promise.all([
        ensureEventsTable(dynamo, 'events'),
        ensureRuntimeTables(dynamo),
        DynamoDocumentStore.open(dynamo, GENERATION_TABLE),
        s3.send(new CreateBucketCommand({ Bucket: BUCKET })),
      ]);
      store = new DynamoEventStore({ client: dynamo, table: 'events', registry });
      for (let i = 1; i <= 12; i++) {
        const id = `match:2026-${i}`;
        await store.append(id, 0, [
          { event_type: 'MatchRecorded', data: matchRecorded(id, i % 3, 1) },
        ]);
        if (i % 4 === 0)
          await store.append(id, 1, [
            { event_type: 'MatchRecorded', data: matchRecorded(id, 0, 0) },
          ]);
      }
    }, 60_000);

    /** The table holds the documents of every stored event applied in order. */
    const expectEveryEventApplied = async (table: string) => {
      const expected = new InMemoryDocumentStore();
      const projector = new Projector(standingsProjection, expected);
      for await (const batch of store.readAll()) await projector.apply(batch);
      const written: { pk: string; sk: string }[] = [];
      for await (const page of new DynamoDocumentStore(dynamo, table).scanAll())
        written.push(...page);
      const key = (d: { pk: string; sk: string }) => `${d.pk}\u0000${d.sk}`;
      const byKey = <T extends { pk: string; sk: string }>(docs: T[]) =>
        docs.sort((a, b) => key(a).localeCompare(key(b)));
      expect(byKey(written)).toEqual(byKey(expected.all()));
    };

    afterAll(async () => {
      dynamo?.destroy();
      s3?.destroy();
      await moto?.stop();
    });

    it('applies each data file of an export in the bucket to the generation, and a run again changes nothing', async () => {
      // Prepare: an export in DynamoDB's format, uploaded under the keys DynamoDB writes.
      const local = new FolderStorage(folder.dir);
      await exportTableLocally({
        client: dynamo,
        table: 'events',
        storage: local,
        prefix: 'events',
      });
      for await (const object of local.list('events/'))
        await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: object.key,
            Body: await readFile(local.path(object.key)),
          }),
        );
      const [archived] = (await listExports(local, 'events')).exports;
      if (!archived) throw new Error('no export');
      const handlers = rebuildFileHandlers(
        { EVENTS_TABLE: 'events', POSITIONS_TABLE, DEAD_LETTERS_TABLE },
        { dynamo, s3 },
      );
      const target = { projection: 'standings', generation: 2, table: GENERATION_TABLE };

      // Act: every file, then every file again (a map run redriven).
      const first = await Promise.all(
        archived.files.map(async (file) => {
          const out = await handlers.file({ ...target, bucket: BUCKET, file });
          expect(out.done).toBe(true);
          return out.progress;
        }),
      );
      const again = await Promise.all(
        archived.files.map(
          async (file) => (await handlers.file({ ...target, bucket: BUCKET, file })).progress,
        ),
      );

      // Assess: the documents equal the events applied in order, after the second run too;
      // the positions of the consumer that feeds the generation next stand at the end of each
      // stream past its first event (the standings ignore a repeat, so a stream of one event
      // has none). The second run drops what those positions cover, and takes each stream of
      // one event again, which changes nothing.
      expect(first.reduce((n, r) => n + r.items, 0)).toBe(15);
      expect(first.reduce((n, r) => n + r.events, 0)).toBe(15);
      expect(first.map((r) => [r.deferred, r.deferred_key])).toEqual(
        archived.files.map(() => [0, null]),
      );
      expect(again.reduce((n, r) => n + r.events, 0)).toBe(9);
      expect(again.reduce((n, r) => n + r.duplicates, 0)).toBe(6);
      await expectEveryEventApplied(GENERATION_TABLE);
      const positions = await new DynamoPositionStore(
        dynamo,
        'read-model:standings:g2',
        POSITIONS_TABLE,
      ).positions(['match:2026-4', 'match:2026-5']);
      expect(Object.fromEntries(positions)).toEqual({ 'match:2026-4': 2, 'match:2026-5': 0 });
    });

    it('applies a data file in parts, each call going on where the one before stopped, to the same documents', async () => {
      // Prepare: the export the test above uploaded; a generation of its own, and calls that
      // stop after their first page of two items.
      const table = 'matchstream-rm-standings-v2-g3';
      await DynamoDocumentStore.open(dynamo, table);
      const [archived] = (await listExports(new S3Storage(s3, BUCKET), 'events')).exports;
      if (!archived) throw new Error('no export');
      const handlers = rebuildFileHandlers(
        { EVENTS_TABLE: 'events', POSITIONS_TABLE, DEAD_LETTERS_TABLE },
        { dynamo, s3, fileBudgetMs: 0, filePageItems: 2 },
      );
      const target = { projection: 'standings', generation: 3, table };

      // Act: each file called again with the output until it is done, as the map's loop does.
      let calls = 0;
      const results = [];
      for (const file of archived.files) {
        let out = await handlers.file({ ...target, bucket: BUCKET, file });
        calls++;
        while (!out.done) {
          expect(out.progress.next_item).toBeLessThan(file.itemCount);
          out = await handlers.file(structuredClone(out));
          calls++;
        }
        expect(out.progress.items).toBe(file.itemCount);
        results.push(out.progress);
      }

      // Assess: more calls than files, every event once, the documents the events make.
      expect(calls).toBeGreaterThan(archived.files.length);
      expect(results.reduce((n, r) => n + r.events, 0)).toBe(15);
      expect(results.map((r) => r.deferred)).toEqual(archived.files.map(() => 0));
      await expectEveryEventApplied(table);
      // A call whose progress names no item to go on from is refused.
      const [file] = archived.files;
      await expect(
        handlers.file({
          ...target,
          bucket: BUCKET,
          file: file as (typeof archived.files)[number],
          progress: { done: false } as never,
        }),
      ).rejects.toThrow('has no item to go on from, or no count (and key) of deferred streams');
    });

    it("keeps the streams a file defers in the run's folder in the bucket, not in the iteration's state", async () => {
      // Prepare: corrections of four streams of one result each, and an incremental export
      // that holds only them (its window begins after the streams' first events).
      const from = new Date().toISOString();
      const later = new DynamoEventStore({
        client: dynamo,
        table: 'events',
        registry,
        now: () => new Date(Date.now() + 1_000),
      });
      const corrected = ['match:2026-1', 'match:2026-2', 'match:2026-3', 'match:2026-5'];
      for (const id of corrected)
        await later.append(id, 1, [{ event_type: 'MatchRecorded', data: matchRecorded(id, 5, 5) }]);
      const local = new FolderStorage(folder.dir);
      const summary = await exportTableLocally({
        client: dynamo,
        table: 'events',
        storage: local,
        prefix: 'later',
        incremental: { from },
        now: () => Date.now() + 2 * APPEND_LANDS_WITHIN_MS,
      });
      await uploadArchive(local, s3, BUCKET);
      const [archived] = (await listExports(local, 'later')).exports;
      if (!archived) throw new Error('no export');
      // A new generation with no positions (as after a full export's files, which keep none
      // for a stream of one event): each correction comes after a gap, so its file defers it.
      const table = 'matchstream-rm-standings-v2-g4';
      await DynamoDocumentStore.open(dynamo, table);
      const handlers = rebuildFileHandlers(
        { EVENTS_TABLE: 'events', POSITIONS_TABLE, DEAD_LETTERS_TABLE },
        { dynamo, s3, fileBudgetMs: 0, filePageItems: 1 },
      );
      const target = { projection: 'standings', generation: 4, table };
      const run = 'rebuilds/standings-g4/run-1';

      // Act: each file in parts (a page of one item a call), as the map's loop calls it.
      const outputs = [];
      for (const file of archived.files) {
        let out = await handlers.file({ ...target, bucket: BUCKET, folder: run, file });
        while (!out.done) out = await handlers.file(structuredClone(out));
        outputs.push(out);
      }

      // Assess: the state carries a count and a key; the ids are in the bucket under the
      // run's folder, each file's under its own key, every correction's stream once.
      expect(summary.itemCount).toBe(corrected.length);
      const deferring = outputs.filter((o) => o.progress.deferred > 0);
      expect(deferring.reduce((n, o) => n + o.progress.deferred, 0)).toBe(corrected.length);
      const storage = new S3Storage(s3, BUCKET);
      const ids: string[] = [];
      for (const { progress, file } of deferring) {
        expect(progress.deferred_key).toBe(`${run}/deferred/${file.dataFileS3Key}.json`);
        const kept = JSON.parse((await storage.read(progress.deferred_key as string)).toString());
        expect(kept).toHaveLength(progress.deferred);
        ids.push(...kept);
        expect(JSON.stringify(progress)).not.toContain('match:');
      }
      expect(ids.sort()).toEqual(corrected);
      // Without a folder to keep them in, the call that defers a stream fails, naming its file.
      const [first] = deferring;
      if (!first) throw new Error('no file deferred a stream');
      const { folder: _, progress: __, done: ___, ...bare } = first;
      await expect(
        rebuildFileHandlers(
          { EVENTS_TABLE: 'events', POSITIONS_TABLE, DEAD_LETTERS_TABLE },
          { dynamo, s3 },
        ).file(bare),
      ).rejects.toThrow(
        `${first.file.dataFileS3Key} deferred streams, and the input names no "folder" to keep them in`,
      );
      // A call whose list of deferred streams is not one fails naming where it looked.
      const bad = `${run}/deferred/not-a-list.json`;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: bad, Body: '{"match:x"' }));
      await expect(
        handlers.file({
          ...bare,
          progress: { ...first.progress, done: false, next_item: 0, deferred_key: bad },
        }),
      ).rejects.toThrow(`s3://${BUCKET}/${bad} is not a list of stream ids`);
    });

    it('refuses an input without its file, or for a generation that is not a rebuild, saying what is missing', async () => {
      const handlers = rebuildFileHandlers(
        { EVENTS_TABLE: 'events', POSITIONS_TABLE, DEAD_LETTERS_TABLE },
        { dynamo, s3 },
      );

      await expect(
        handlers.file({
          projection: 'standings',
          generation: 2,
          table: GENERATION_TABLE,
          bucket: BUCKET,
        } as never),
      ).rejects.toThrow('the input needs "bucket" and "file" (a line of manifest-files.json)');
      await expect(
        handlers.deferred({ projection: 'standings', generation: 1, table: 't', streams: [] }),
      ).rejects.toThrow('generation must be a whole number from 2 (got 1)');
      await expect(
        handlers.deferred({ projection: 'ratings', generation: 2, table: 't', streams: [] }),
      ).rejects.toThrow('unknown read model "ratings"');
    });
  },
);
