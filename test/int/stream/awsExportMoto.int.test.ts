import {
  DescribeExportCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ListExportsCommand,
  UpdateContinuousBackupsCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStorage, S3Storage } from '../../../stream/archive/ArchiveStorage.js';
import {
  type AwsExportReport,
  exportTableOnAws,
  findArchivedExport,
} from '../../../stream/archive/awsExport.js';
import { exportTableLocally } from '../../../stream/archive/exportTable.js';
import { listExports, readDataFile, verifyExport } from '../../../stream/archive/readExport.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { s3Client } from '../../../stream/aws/s3InvocationRecords.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { uploadArchive } from '../../support/s3Archive.js';
import { tempDir } from '../../support/tempDir.js';

const TABLE = 'matchstream-test-events';
const BUCKET = 'matchstream-test-archive';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** A DynamoDB request as it went to moto: the command's name and its input. */
interface SentRequest {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

// DynamoDB's export on moto_server: the requests, the polling and the errors. moto writes one
// data file and no manifests, so an export there ends in the error that says so; the manifests
// are then put where DynamoDB would write them, to show they are found.
describe.runIf(motoAvailable())('the export on AWS, against moto_server', () => {
  let moto: Moto;
  let dynamo: DynamoDBClient;
  let s3: S3Client;
  let tableArn: string;
  const sent: SentRequest[] = [];
  const folder = tempDir('aws-export-');

  beforeAll(async () => {
    moto = await startMoto();
    dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 2 });
    s3 = s3Client({ endpoint: moto.endpoint, maxAttempts: 2 });
    await ensureEventsTable(dynamo, TABLE);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const store = new DynamoEventStore({ client: dynamo, table: TABLE, registry });
    for (let i = 1; i <= 6; i++) {
      const id = `match:2026-0000${i}`;
      await store.append(id, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id, i, 0) }]);
    }
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: TABLE }));
    tableArn = Table?.TableArn ?? '';
    // Every request from here on, as the SDK sends it to moto.
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push({
          command: context.commandName ?? '?',
          input: args.input as Record<string, unknown>,
        });
        return next(args);
      },
      { step: 'initialize', name: 'recordSentRequests' },
    );
  }, 60_000);

  afterAll(async () => {
    dynamo?.destroy();
    s3?.destroy();
    await moto?.stop();
  });

  const exportsOfTable = async () =>
    (await dynamo.send(new ListExportsCommand({ TableArn: tableArn }))).ExportSummaries ?? [];
  const requestsSince = (from: number) => sent.slice(from);

  it('refuses a table without point-in-time recovery, says how to turn it on, and starts no export', async () => {
    // Act
    const refused = exportTableOnAws({
      dynamo,
      s3,
      table: TABLE,
      bucket: BUCKET,
      prefix: 'events',
    });

    // Assess
    await expect(refused).rejects.toThrow(
      `point-in-time recovery is off for table ${TABLE}, and DynamoDB exports only from it: turn it on with "aws dynamodb update-continuous-backups --table-name ${TABLE} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"`,
    );
    expect(await exportsOfTable()).toEqual([]);
  });

  it('requests a full export in DynamoDB JSON under the prefix with the KMS key, follows it to COMPLETED, and says moto left no manifest summary', async () => {
    // Prepare
    await dynamo.send(
      new UpdateContinuousBackupsCommand({
        TableName: TABLE,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    const first = sent.length;
    const reports: AwsExportReport[] = [];

    // Act
    const exported = exportTableOnAws({
      dynamo,
      s3,
      table: TABLE,
      bucket: BUCKET,
      prefix: 'events',
      kmsKeyId: KEY,
      pollMs: 20,
      onStatus: (report) => reports.push(report),
    });

    // Assess
    await expect(exported).rejects.toThrow(
      /^export arn:aws:dynamodb:\S+ of table matchstream-test-events completed, but s3:\/\/matchstream-test-archive\/events\/AWSDynamoDB\/ holds no manifest-summary\.json for it, so it can be neither verified nor read/,
    );
    const requests = requestsSince(first);
    expect(requests.map((r) => r.command)).toEqual(
      expect.arrayContaining([
        'DescribeTableCommand',
        'DescribeContinuousBackupsCommand',
        'ExportTableToPointInTimeCommand',
      ]),
    );
    const request = requests.find((r) => r.command === 'ExportTableToPointInTimeCommand')?.input;
    expect(request).toEqual({
      TableArn: tableArn,
      S3Bucket: BUCKET,
      S3Prefix: 'events',
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: 'FULL_EXPORT',
      S3SseAlgorithm: 'KMS',
      S3SseKmsKeyId: KEY,
      ClientToken: expect.stringMatching(/^matchstream-[0-9a-f]{32}$/),
    });
    const arn = reports[0]?.exportArn ?? '';
    expect(reports.at(-1)?.status).toBe('COMPLETED');
    expect(reports.every((r) => r.exportArn === arn && r.elapsedMs >= 0)).toBe(true);
    // Every DescribeExport after the request asked about this export.
    const described = requests.filter((r) => r.command === 'DescribeExportCommand');
    expect(described.length).toBe(reports.length - 1);
    expect(described.every((r) => r.input.ExportArn === arn)).toBe(true);
    // What moto did write, one data file of {"Item": ...} lines, reads as the table's items.
    const storage = new S3Storage(s3, BUCKET);
    const files: string[] = [];
    for await (const object of storage.list('events/AWSDynamoDB/')) files.push(object.key);
    expect(files).toHaveLength(1);
    const { pages, done } = readDataFile(storage, {
      itemCount: 6,
      md5Checksum: '',
      etag: '',
      dataFileS3Key: files[0] ?? '',
    });
    const ids: string[] = [];
    for await (const page of pages) for (const item of page) ids.push(item.aggregate_id?.S ?? '');
    expect(ids.sort()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `match:2026-0000${i}`));
    expect((await done).items).toBe(6);
  });

  it('requests an incremental export of the new images since `from`, up to now taken to 5 minutes', async () => {
    // Prepare: recovery has been on since the test before; the clock runs an hour ahead.
    const from = new Date().toISOString();
    const now = Date.now() + 3_600_000;
    const first = sent.length;

    // Act
    const exported = exportTableOnAws({
      dynamo,
      s3,
      table: TABLE,
      bucket: BUCKET,
      prefix: 'events',
      incremental: { from },
      clock: () => now,
      pollMs: 20,
    });

    // Assess
    await expect(exported).rejects.toThrow('holds no manifest-summary.json');
    const request = requestsSince(first).find(
      (r) => r.command === 'ExportTableToPointInTimeCommand',
    )?.input;
    expect(request).toMatchObject({
      ExportType: 'INCREMENTAL_EXPORT',
      IncrementalExportSpecification: {
        ExportFromTime: new Date(from),
        ExportToTime: new Date(Math.floor(now / 300_000) * 300_000),
        ExportViewType: 'NEW_IMAGE',
      },
    });
    expect(request).not.toHaveProperty('S3SseAlgorithm');
    const exports = await exportsOfTable();
    expect(exports.map((e) => e.ExportType)).toEqual(['FULL_EXPORT', 'INCREMENTAL_EXPORT']);
  });

  it('refuses an incremental export from longer than 24 hours ago before asking AWS anything', async () => {
    // Prepare
    const first = sent.length;
    const from = new Date(Date.now() - 25 * 3_600_000).toISOString();

    // Act
    const refused = exportTableOnAws({
      dynamo,
      s3,
      table: TABLE,
      bucket: BUCKET,
      prefix: 'events',
      incremental: { from },
    });

    // Assess
    await expect(refused).rejects.toThrow(
      /covers more than 24 hours, the most DynamoDB exports incrementally: take a full export instead$/,
    );
    expect(requestsSince(first)).toEqual([]);
  });

  it('refuses an incremental export from before point-in-time recovery was turned on', async () => {
    // Prepare: recovery was turned on a moment ago; an hour ago is before it.
    const first = sent.length;
    const from = new Date(Date.now() - 3_600_000).toISOString();

    // Act
    const refused = exportTableOnAws({
      dynamo,
      s3,
      table: TABLE,
      bucket: BUCKET,
      prefix: 'events',
      incremental: { from },
    });

    // Assess
    await expect(refused).rejects.toThrow(
      new RegExp(
        `^point-in-time recovery of table ${TABLE} reaches back to \\S+ only, not to ${from} where the incremental export would start: take a full export instead$`,
      ),
    );
    expect(requestsSince(first).map((r) => r.command)).not.toContain(
      'ExportTableToPointInTimeCommand',
    );
  });

  it('reports an export that failed with its failure code and message', async () => {
    // Act: moto fails an export into a bucket that does not exist.
    const failed = exportTableOnAws({
      dynamo,
      s3,
      table: TABLE,
      bucket: 'no-such-archive',
      prefix: 'events',
      pollMs: 20,
    });

    // Assess
    await expect(failed).rejects.toThrow(
      /^export arn:aws:dynamodb:\S+ of table matchstream-test-events to s3:\/\/no-such-archive\/events failed: S3NoSuchBucket: The specified bucket does not exist$/,
    );
  });

  it('finds a completed export by its ARN: in the folder named after it, else anywhere under the prefix', async () => {
    // Prepare: the table exported in the real format, put into the bucket as DynamoDB would
    // have written moto's exports (whose ARNs end in an id, as real ones do).
    const local = new FolderStorage(folder.dir);
    const summary = await exportTableLocally({
      client: dynamo,
      table: TABLE,
      storage: local,
      prefix: 'found',
    });
    const [named, elsewhere] = (await exportsOfTable()).map((e) => e.ExportArn ?? '');
    const describe = async (arn: string) =>
      (await dynamo.send(new DescribeExportCommand({ ExportArn: arn }))).ExportDescription ?? {};
    const localId = summary.exportArn.slice(summary.exportArn.lastIndexOf('/') + 1);
    const namedId = named?.slice(named.lastIndexOf('/') + 1) ?? '';
    await uploadArchive(local, s3, BUCKET, [
      [summary.exportArn, named ?? ''],
      [localId, namedId],
    ]);
    await uploadArchive(local, s3, BUCKET, [
      [summary.exportArn, elsewhere ?? ''],
      ['found/', 'elsewhere/'],
    ]);
    const storage = new S3Storage(s3, BUCKET);

    // Act
    const inItsFolder = await findArchivedExport(
      storage,
      { ...(await describe(named ?? '')), S3Prefix: 'found' },
      'found',
    );
    const underThePrefix = await findArchivedExport(
      storage,
      { ...(await describe(elsewhere ?? '')), S3Prefix: 'elsewhere' },
      'elsewhere',
    );
    const none = await findArchivedExport(
      storage,
      { ...(await describe(elsewhere ?? '')), S3Prefix: 'found' },
      'found',
    );

    // Assess
    expect(inItsFolder?.summaryKey).toBe(`found/AWSDynamoDB/${namedId}/manifest-summary.json`);
    expect(inItsFolder?.summary.exportArn).toBe(named);
    expect(underThePrefix?.summaryKey).toBe(
      `elsewhere/AWSDynamoDB/${localId}/manifest-summary.json`,
    );
    expect(none).toBeUndefined();
    for (const found of [inItsFolder, underThePrefix]) {
      if (!found) throw new Error('an export was not found');
      expect(await verifyExport(storage, found)).toMatchObject({ ok: true, items_read: 6 });
    }
    expect((await listExports(storage, 'found')).exports).toHaveLength(1);
  });
});
