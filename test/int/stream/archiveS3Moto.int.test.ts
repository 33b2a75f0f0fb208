import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStorage, S3Storage } from '../../../stream/archive/ArchiveStorage.js';
import type { ManifestSummary } from '../../../stream/archive/exportFormat.js';
import { exportTableLocally } from '../../../stream/archive/exportTable.js';
import {
  type ArchivedExport,
  listExports,
  readDataFile,
  verifyExport,
} from '../../../stream/archive/readExport.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { s3Client } from '../../../stream/aws/s3InvocationRecords.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { uploadArchive } from '../../support/s3Archive.js';
import { tempDir } from '../../support/tempDir.js';

const TABLE = 'events';
const BUCKET = 'matchstream-archive';

// The archive in a bucket of moto's S3: an export in DynamoDB's format (written by the local
// export, then put into the bucket under the same keys), listed and verified through S3.
describe.runIf(motoAvailable())('the archive in an S3 bucket (moto_server)', () => {
  let moto: Moto;
  let dynamo: DynamoDBClient;
  let s3: S3Client;
  let storage: S3Storage;
  let summary: ManifestSummary;
  const folder = tempDir('archive-s3-');

  beforeAll(async () => {
    moto = await startMoto();
    dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 2 });
    s3 = s3Client({ endpoint: moto.endpoint, maxAttempts: 2 });
    await ensureEventsTable(dynamo, TABLE);
    const store = new DynamoEventStore({ client: dynamo, table: TABLE, registry });
    for (let i = 1; i <= 30; i++) {
      const id = `match:2026-${String(i).padStart(5, '0')}`;
      await store.append(id, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id, 1, 0) }]);
      await store.append(id, 1, [{ event_type: 'MatchRecorded', data: matchRecorded(id, 2, 1) }]);
    }
    summary = await exportTableLocally({
      client: dynamo,
      table: TABLE,
      storage: new FolderStorage(folder.dir),
      prefix: 'events',
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await uploadArchive(new FolderStorage(folder.dir), s3, BUCKET);
    storage = new S3Storage(s3, BUCKET);
  }, 60_000);

  afterAll(async () => {
    dynamo?.destroy();
    s3?.destroy();
    await moto?.stop();
  });

  const theExport = async (): Promise<ArchivedExport> => {
    const { exports } = await listExports(storage, 'events');
    const found = exports.find((e) => e.summary.exportArn === summary.exportArn);
    if (!found) throw new Error(`the export ${summary.exportArn} is not listed`);
    return found;
  };

  it('lists the export from its manifests in the bucket and verifies it', async () => {
    // Act
    const { exports, unfinished } = await listExports(storage, 'events');
    const verification = await verifyExport(storage, await theExport());

    // Assess
    expect(unfinished).toEqual([]);
    expect(exports).toHaveLength(1);
    expect(exports[0]).toMatchObject({
      incremental: false,
      upTo: summary.exportTime,
      summaryKey: expect.stringMatching(/^events\/AWSDynamoDB\/[^/]+\/manifest-summary\.json$/),
    });
    expect(exports[0]?.files).toHaveLength(4);
    expect(verification).toMatchObject({
      ok: true,
      items_in_manifest: 60,
      items_read: 60,
      files: 4,
      mismatches: [],
    });
  });

  it('reports a data file that lost a line as a mismatch naming the file', async () => {
    // Prepare
    const archived = await theExport();
    const file = archived.files.find((f) => f.itemCount > 1);
    if (!file) throw new Error('no data file with items');
    const original = await storage.read(file.dataFileS3Key);
    const lines = gunzipSync(original).toString('utf8').split('\n').filter(Boolean);
    const put = (body: Buffer) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: file.dataFileS3Key, Body: body }));
    await put(gzipSync(`${lines.slice(1).join('\n')}\n`));

    // Act
    const verification = await verifyExport(storage, archived);
    await put(original);

    // Assess
    expect(verification.ok).toBe(false);
    expect(verification.items_read).toBe(59);
    expect(verification.mismatches).toEqual([
      {
        file: file.dataFileS3Key,
        expected_items: file.itemCount,
        items: file.itemCount - 1,
        checksum_ok: false,
      },
    ]);
    expect((await verifyExport(storage, archived)).ok).toBe(true);
  });

  it('reads every item of the export back through S3', async () => {
    // Prepare
    const archived = await theExport();

    // Act
    const ids = new Set<string>();
    let items = 0;
    for (const file of archived.files)
      for await (const page of readDataFile(storage, file, 7).pages)
        for (const item of page) {
          items++;
          ids.add(item.aggregate_id?.S ?? '');
        }

    // Assess
    expect(items).toBe(60);
    expect(ids.size).toBe(30);
  });

  it('lists an export that has begun and has no summary as unfinished, and names a missing data file', async () => {
    // Prepare
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'events/AWSDynamoDB/2-cafe/_started', Body: '' }),
    );
    const archived = await theExport();
    const first = archived.files[0];
    if (!first) throw new Error('no data file');
    const missing = { ...archived, files: [{ ...first, dataFileS3Key: 'events/gone.json.gz' }] };

    // Act
    const { unfinished } = await listExports(storage, 'events');
    const verifying = verifyExport(storage, missing);

    // Assess
    expect(unfinished.map((u) => u.id)).toEqual(['2-cafe']);
    await expect(verifying).rejects.toThrow(`s3://${BUCKET}: events/gone.json.gz is missing`);
  });
});
