import { UpdateContinuousBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { DynamoEventStore } from '../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../stream/eventStore/eventsTable.js';
import { type CliRun, runCli } from '../support/cli.js';
import { type Moto, motoAvailable, motoShellEnv, startMoto } from '../support/moto.js';
import { matchRecorded, registry } from '../support/registry.js';
import { exportIntoBucket } from '../support/s3Archive.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('archive-aws-');

/** The one line a command wrote to standard error. */
function oneErrorLine(run: CliRun): string {
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

describe('matchstream archive --aws: the command line', () => {
  // Nowhere to reach: these are refused before any call to AWS.
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  };
  // A data folder of the test's own for the refusals without --aws (whose messages name its
  // archive), so that none reads the .matchstream of the folder the tests run in; with --aws,
  // --data-dir is itself refused (below).
  const refused = async (args: string[]) => {
    const folder = args.includes('--aws') ? [] : ['--data-dir', tmp.path('data')];
    const run = await runCli(['archive', ...args, ...folder], { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    return oneErrorLine(run);
  };

  it('needs --bucket with --aws, for export and for list', async () => {
    expect(await refused(['export', '--aws'])).toBe(
      'matchstream: archive export --aws needs --bucket <name>: the archive bucket of the deployed stack (its output ArchiveBucket)',
    );
    expect(await refused(['list', '--aws', '--json'])).toBe(
      'matchstream: archive list --aws needs --bucket <name>: the archive bucket of the deployed stack (its output ArchiveBucket)',
    );
  });

  it('refuses --memory and --endpoint, with --aws as without', async () => {
    expect(await refused(['export', '--aws', '--bucket', 'b-1', '--memory'])).toBe(
      'matchstream: an archive of a store in memory would be lost with it: use --data-dir',
    );
    expect(await refused(['list', '--memory'])).toContain('would be lost with it');
    expect(
      await refused(['export', '--aws', '--bucket', 'b-1', '--endpoint', 'http://127.0.0.1:8000']),
    ).toContain('drop --endpoint');
  });

  it('refuses --data-dir with --aws: the folder would be passed over for the bucket', async () => {
    const folder = tmp.path('named');
    for (const args of [
      ['export', '--aws', '--bucket', 'b-1', '--data-dir', folder],
      ['list', '--aws', '--bucket', 'b-1', '--data-dir', folder],
      ['close-season', '2025', '--aws', '--data-dir', folder],
      ['expire', '--season', '2025', '--aws', '--bucket', 'b-1', '--data-dir', folder],
    ])
      expect(await refused(args), args.join(' ')).toBe(
        'matchstream: --aws and --data-dir name different stores: give one (--aws the deployed table, --endpoint URL another DynamoDB, --memory one that keeps nothing; --data-dir DIR or none, the data folder)',
      );
  });

  it('refuses --bucket and --kms-key without --aws, --segments with it, and a bucket URL', async () => {
    expect(await refused(['list', '--bucket', 'b-1'])).toMatch(
      /^matchstream: --bucket and --kms-key are for the archive on AWS: add --aws \(the local archive is .*archive\)$/,
    );
    expect(await refused(['export', '--kms-key', 'arn:aws:kms:eu-west-1:1:key/k'])).toContain(
      'add --aws',
    );
    expect(await refused(['export', '--aws', '--bucket', 'b-1', '--segments', '8'])).toBe(
      'matchstream: --segments is for the local export: on AWS, DynamoDB chooses the data files',
    );
    // Commander's own refusal: its line, ending with the project's pointer to --help.
    const url = await runCli(['archive', 'export', '--aws', '--bucket', 's3://b-1'], { env });
    expect(url.code).toBe(2);
    expect(url.stderr).toBe(
      "matchstream: option '--bucket <name>' argument 's3://b-1' is invalid. expected a bucket name such as matchstream-prod-archive (the stack output ArchiveBucket), not a URL or an ARN (run with --help for usage)\n",
    );
  });
});

describe.runIf(motoAvailable())(
  'matchstream archive --aws against the deployed stack (moto stands in for AWS)',
  () => {
    const TABLE = 'matchstream-prod-events';
    const BUCKET = 'matchstream-prod-archive';
    const EMPTY = 'matchstream-empty-archive';
    let moto: Moto;
    let env: Record<string, string>;
    let exportArn: string;

    beforeAll(async () => {
      moto = await startMoto();
      env = motoShellEnv(moto.endpoint);
      const dynamo = dynamoClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
      const s3 = s3Client({ endpoint: moto.endpoint, region: 'eu-west-1' });
      try {
        await ensureEventsTable(dynamo, TABLE);
        await ensureEventsTable(dynamo, 'no-recovery-events');
        await dynamo.send(
          new UpdateContinuousBackupsCommand({
            TableName: TABLE,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        );
        const store = new DynamoEventStore({ client: dynamo, table: TABLE, registry });
        for (let i = 1; i <= 5; i++) {
          const id = `match:2026-0000${i}`;
          await store.append(id, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id) }]);
        }
        for (const bucket of [BUCKET, EMPTY])
          await s3.send(
            new CreateBucketCommand({
              Bucket: bucket,
              CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
            }),
          );
        // An export in DynamoDB's format in the bucket, as a completed export leaves it.
        ({ exportArn } = await exportIntoBucket(
          { client: dynamo, table: TABLE, folder: tmp.path('exported') },
          s3,
          BUCKET,
        ));
      } finally {
        dynamo.destroy();
        s3.destroy();
      }
    }, 60_000);

    afterAll(async () => {
      await moto?.stop();
    });

    it('lists the exports in the bucket, as JSON and as a table', async () => {
      // Act
      const json = await runCli(['archive', 'list', '--aws', '--bucket', BUCKET, '--json'], {
        env,
      });
      const table = await runCli(['archive', 'list', '--aws', '--bucket', BUCKET], { env });

      // Assess
      expect(json.stderr).toBe('');
      expect(json.code).toBe(0);
      const listed = JSON.parse(json.stdout);
      const id = exportArn.slice(exportArn.lastIndexOf('/') + 1);
      expect(listed).toMatchObject({
        archive: `s3://${BUCKET}`,
        exports: [{ id, type: 'full', items: 5, files: 4 }],
        unfinished: [],
      });
      expect(listed.exports[0].bytes).toBeGreaterThan(0);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(new RegExp(`^${id}\\s+full\\s`, 'm'));
    });

    it('says a bucket holds no export yet, and names a bucket that is not there', async () => {
      // Act
      const empty = await runCli(['archive', 'list', '--aws', '--bucket', EMPTY], { env });
      const missing = await runCli(['archive', 'list', '--aws', '--bucket', 'not-there'], { env });

      // Assess
      expect(empty.code).toBe(0);
      expect(empty.stdout).toContain(`the archive (s3://${EMPTY}) holds no export yet`);
      expect(missing.code).toBe(1);
      expect(oneErrorLine(missing)).toBe(
        'matchstream: s3://not-there: no such bucket; give the stack output ArchiveBucket with --bucket (and its region with AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config)',
      );
    });

    it('exports on AWS, waits for the export, and fails in one line where the manifest summary is missing (moto writes none)', async () => {
      // Act
      const run = await runCli(
        ['archive', 'export', '--aws', '--table', TABLE, '--bucket', EMPTY, '--json'],
        { env },
      );

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(oneErrorLine(run)).toMatch(
        new RegExp(
          `^matchstream: export arn:aws:dynamodb:\\S+ of table ${TABLE} completed, but s3://${EMPTY}/events/AWSDynamoDB/ holds no manifest-summary\\.json for it`,
        ),
      );
    }, 60_000);

    it('refuses in one line: point-in-time recovery off, no export to go on from, too short a window', async () => {
      // Act
      const off = await runCli(
        ['archive', 'export', '--aws', '--table', 'no-recovery-events', '--bucket', EMPTY],
        { env },
      );
      const noFull = await runCli(
        ['archive', 'export', '--aws', '--incremental', '--table', TABLE, '--bucket', EMPTY],
        { env },
      );
      const tooSoon = await runCli(
        ['archive', 'export', '--aws', '--incremental', '--table', TABLE, '--bucket', BUCKET],
        { env },
      );

      // Assess
      expect(off.code).toBe(1);
      expect(oneErrorLine(off)).toContain(
        'point-in-time recovery is off for table no-recovery-events, and DynamoDB exports only from it: turn it on with "aws dynamodb update-continuous-backups --table-name no-recovery-events',
      );
      expect(noFull.code).toBe(1);
      expect(oneErrorLine(noFull)).toBe(
        `matchstream: the archive (s3://${EMPTY}) holds no export yet: run "matchstream archive export --aws" for a full one first`,
      );
      expect(tooSoon.code).toBe(1);
      expect(oneErrorLine(tooSoon)).toMatch(
        /DynamoDB exports at least 15 minutes of changes: try again after \S+Z$/,
      );
    });

    it('archive expire --aws on a bucket without an export gives the export command for the same table and bucket', async () => {
      // Prepare: the season closed, as expire asks first.
      const closed = await runCli(['archive', 'close-season', '2026', '--aws', '--table', TABLE], {
        env,
      });
      expect(closed.code, closed.stderr).toBe(0);

      // Act
      const run = await runCli(
        [
          'archive',
          'expire',
          '--season',
          '2026',
          '--aws',
          '--table',
          TABLE,
          '--bucket',
          EMPTY,
          '--no-progress',
        ],
        { env },
      );

      // Assess: the command to run is one that exports the deployed table into that bucket,
      // not the data folder's export.
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(oneErrorLine(run)).toBe(
        `matchstream: archive expire: the archive (s3://${EMPTY}) holds no export: run "matchstream archive export --aws --table ${TABLE} --bucket ${EMPTY}" first`,
      );
    }, 60_000);
  },
);
