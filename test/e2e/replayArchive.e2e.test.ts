import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { UpdateContinuousBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { FolderStorage, S3Storage } from '../../stream/archive/ArchiveStorage.js';
import { listExports } from '../../stream/archive/readExport.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { DynamoEventStore } from '../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../stream/eventStore/eventsTable.js';
import { type CliRun, runCli } from '../support/cli.js';
import { type Moto, motoAvailable, motoShellEnv, startMoto } from '../support/moto.js';
import { matchRecorded, registry } from '../support/registry.js';
import { exportIntoBucket } from '../support/s3Archive.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('replay-archive-');

/** The one line a command wrote to standard error. */
function oneErrorLine(run: CliRun): string {
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

/** A JSON Lines file's lines, sorted (files are written file by file, not in one order). */
function sortedLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).sort();
}

function feed(name: string, seed: number): string {
  const season = generateSeason({ teams: 10, gamesPerTeam: 4, seed, season: `S${seed}` });
  return tmp.file(
    name,
    `${[GAMES_CSV_HEADER, ...season.games.map((g, i) => gameCsvRow({ ...g, matchId: `s${seed}-${i}` }))].join('\n')}\n`,
  );
}

describe('matchstream replay --to file through the local archive', () => {
  const data = tmp.path('data');
  const replay = (out: string, ...more: string[]) =>
    runCli([
      'replay',
      '--to',
      `file:${out}`,
      '--data-dir',
      data,
      '--json',
      '--no-progress',
      ...more,
    ]);

  beforeAll(async () => {
    const ingested = await runCli([
      'ingest',
      feed('s1.csv', 1),
      '--data-dir',
      data,
      '--no-progress',
    ]);
    expect(ingested.code).toBe(0);
  }, 60_000);

  it('exports, reads the export and writes what the scan writes; later, what came after the export too', async () => {
    // Act
    const first = await replay(tmp.path('archive-1.jsonl'));
    const scan1 = await replay(tmp.path('scan-1.jsonl'), '--source', 'scan');
    const ingested = await runCli([
      'ingest',
      feed('s2.csv', 2),
      '--data-dir',
      data,
      '--no-progress',
    ]);
    const second = await replay(tmp.path('archive-2.jsonl'));
    const scan2 = await replay(tmp.path('scan-2.jsonl'), '--source', 'scan');
    const { exports } = await listExports(new FolderStorage(tmp.path('data/archive')), 'events');

    // Assess
    for (const run of [first, scan1, ingested, second, scan2]) expect(run.code).toBe(0);
    const one = JSON.parse(first.stdout);
    const two = JSON.parse(second.stdout);
    expect(one).toMatchObject({
      source: 'archive',
      exported: 'full',
      exports: [exports[0]?.id],
      completed: true,
    });
    expect(JSON.parse(scan1.stdout)).toMatchObject({ source: 'scan', exports: [] });
    expect(sortedLines(tmp.path('archive-1.jsonl'))).toEqual(sortedLines(tmp.path('scan-1.jsonl')));
    // The chain is recent: no second export; the second season comes from the table after it.
    expect(exports).toHaveLength(1);
    expect(two).toMatchObject({ source: 'archive', exported: null, exports: one.exports });
    expect(two.events).toBeGreaterThan(one.events);
    expect(two.tail.events).toBe(two.events - one.events);
    expect(sortedLines(tmp.path('archive-2.jsonl'))).toEqual(sortedLines(tmp.path('scan-2.jsonl')));
  }, 120_000);

  it('filters as the scan does, and writes to standard output with the summary on standard error', async () => {
    // Act
    const typed = await replay(tmp.path('typed-a.jsonl'), '--type', 'TeamRegistered');
    const typedScan = await replay(
      tmp.path('typed-s.jsonl'),
      '--type',
      'TeamRegistered',
      '--source',
      'scan',
    );
    const stdout = await runCli(['replay', '--to', 'file:-', '--data-dir', data, '--no-progress']);

    // Assess
    expect(typed.code).toBe(0);
    expect(typedScan.code).toBe(0);
    const lines = sortedLines(tmp.path('typed-a.jsonl'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.includes('"event_type":"TeamRegistered"'))).toBe(true);
    expect(lines).toEqual(sortedLines(tmp.path('typed-s.jsonl')));
    expect(stdout.code).toBe(0);
    expect(stdout.stdout.split('\n').filter(Boolean).sort()).toEqual(
      sortedLines(tmp.path('scan-2.jsonl')),
    );
    expect(stdout.stderr).toMatch(
      /^replayed \d+ events to standard output .*\nread through the archive/,
    );
  }, 60_000);

  it('refuses the archive where there is none or it does not apply, in one line, exit 2', async () => {
    const refused = async (args: string[]) => {
      const run = await runCli(['replay', ...args]);
      expect(run.code).toBe(2);
      return oneErrorLine(run);
    };
    expect(
      await refused(['--to', 'read-model:teams', '--source', 'archive', '--data-dir', data]),
    ).toBe(
      'matchstream: --source archive replays to a file only (--to file:PATH): read-model and bus replays scan the table, drop --source',
    );
    expect(await refused(['--to', 'file:x.jsonl', '--source', 'archive', '--memory'])).toBe(
      'matchstream: a store in memory has no archive: drop --source archive (or replay a data folder with --data-dir)',
    );
    expect(
      await refused([
        '--to',
        'file:x.jsonl',
        '--source',
        'archive',
        '--endpoint',
        'http://127.0.0.1:9',
      ]),
    ).toContain('an --endpoint store has no archive: use --source scan');
    expect(await refused(['--to', 'file:x.jsonl', '--aws'])).toBe(
      'matchstream: replay --aws reads the archive bucket: give --bucket <name> (the stack output ArchiveBucket)',
    );
    expect(
      await refused(['--to', 'file:x.jsonl', '--bucket', 'b-1', '--data-dir', data]),
    ).toContain('--bucket and --kms-key are for the archive on AWS: add --aws');
    expect(await refused(['--to', 'file:x.jsonl', '--rate', '5', '--data-dir', data])).toBe(
      'matchstream: --rate paces a scan replay: add --source scan',
    );
  });
});

describe.runIf(motoAvailable())(
  'matchstream replay --aws --to file through the archive bucket (moto stands in for AWS)',
  () => {
    const TABLE = 'matchstream-prod-events';
    const BUCKET = 'matchstream-prod-archive';
    let moto: Moto;
    let env: Record<string, string>;
    let s3: S3Client;

    beforeAll(async () => {
      moto = await startMoto();
      env = motoShellEnv(moto.endpoint);
      const dynamo = dynamoClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
      s3 = s3Client({ endpoint: moto.endpoint, region: 'eu-west-1' });
      try {
        await ensureEventsTable(dynamo, TABLE);
        await dynamo.send(
          new UpdateContinuousBackupsCommand({
            TableName: TABLE,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        );
        const store = new DynamoEventStore({ client: dynamo, table: TABLE, registry });
        for (let i = 1; i <= 12; i++) {
          const id = `match:2026-${String(i).padStart(5, '0')}`;
          await store.append(id, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id) }]);
          await store.append(id, 1, [
            { event_type: 'MatchRecorded', data: matchRecorded(id, 3, 1) },
          ]);
        }
        await s3.send(
          new CreateBucketCommand({
            Bucket: BUCKET,
            CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
          }),
        );
        // A recent export in DynamoDB's format in the bucket (moto's own export writes no
        // manifests), then a commit after it that the archive does not hold.
        await exportIntoBucket(
          { client: dynamo, table: TABLE, folder: tmp.path('exported') },
          s3,
          BUCKET,
        );
        await store.append('match:after-export', 0, [
          { event_type: 'MatchRecorded', data: matchRecorded('match:after-export') },
        ]);
      } finally {
        dynamo.destroy();
      }
    }, 60_000);

    afterAll(async () => {
      s3?.destroy();
      await moto?.stop();
    });

    const replayAws = (out: string, ...more: string[]) =>
      runCli(
        ['replay', '--aws', '--table', TABLE, '--to', `file:${out}`, '--no-progress', ...more],
        { env },
      );

    it('reads the bucket’s export chain without an export or a scan, and ends at its end', async () => {
      // Act
      const archived = await replayAws(tmp.path('aws-a.jsonl'), '--bucket', BUCKET, '--json');
      const text = await replayAws(tmp.path('aws-t.jsonl'), '--bucket', BUCKET);
      const scan = await replayAws(tmp.path('aws-s.jsonl'), '--source', 'scan', '--bucket', BUCKET);

      // Assess
      expect(archived.stderr).toBe('');
      expect(archived.code).toBe(0);
      const summary = JSON.parse(archived.stdout);
      expect(summary).toMatchObject({
        source: 'archive',
        archive: `s3://${BUCKET}`,
        exported: null,
        exports: [expect.any(String)],
        events: 24,
        files: 4,
        duplicates: 0,
        tail: null,
        completed: true,
      });
      const scanned = sortedLines(tmp.path('aws-s.jsonl'));
      expect(scan.code).toBe(0);
      expect(scanned).toHaveLength(25);
      // Every event but the one committed after the chain's end, as the scan wrote them.
      expect(sortedLines(tmp.path('aws-a.jsonl'))).toEqual(
        scanned.filter((l) => !l.includes('"match:after-export"')),
      );
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(
        `; events committed after ${summary.up_to} are not in it (--source scan reads the table)`,
      );
    }, 120_000);

    it('fails in one line naming a data file of the bucket that does not match its manifest', async () => {
      // Prepare
      const storage = new S3Storage(s3, BUCKET);
      const [archived] = (await listExports(storage, 'events')).exports;
      const file = archived?.files.find((f) => f.itemCount > 1);
      if (!file) throw new Error('no data file with items');
      const original = await storage.read(file.dataFileS3Key);
      const kept = gunzipSync(original).toString('utf8').split('\n').filter(Boolean).slice(1);
      const put = (body: Buffer) =>
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: file.dataFileS3Key, Body: body }));
      await put(gzipSync(`${kept.join('\n')}\n`));

      // Act
      const run = await replayAws(tmp.path('aws-bad.jsonl'), '--bucket', BUCKET, '--restart');
      await put(original);

      // Assess
      expect(run.code).toBe(1);
      expect(oneErrorLine(run)).toBe(
        `matchstream: s3://${BUCKET}/${file.dataFileS3Key} holds ${file.itemCount - 1} items, its manifest line says ${file.itemCount}, and its MD5 differs: the export does not match its manifest`,
      );
    }, 60_000);
  },
);
