import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { invocationRecord, invocationRecordKey } from '../../stream/consumer/invocationRecord.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import { storeDir } from '../../stream/local/openEventStore.js';
import { runCli } from '../support/cli.js';
import { kinesisRecordOf } from '../support/kinesisRecords.js';
import { type Moto, motoAvailable, startMoto } from '../support/moto.js';
import { matchRecorded, registry } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();
const codec = new CommitCodec(registry);

/** The object a Kinesis mapping's S3 destination holds for a batch of two commits given up on. */
function givenUp() {
  const records = ['f1', 'f2'].map((m) =>
    kinesisRecordOf(
      codec.build(`match:${m}`, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(m) }]),
    ),
  );
  const at = new Date('2026-12-01T10:00:00.000Z');
  return {
    key: invocationRecordKey('6b9cf1a2-2bd4-4f3e-9a51-0c1d2e3f4a5b', 'shardId-000000000000', at),
    body: JSON.stringify(
      invocationRecord({
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:matchstream-prod-read-models',
        condition: 'RetryAttemptsExhausted',
        invokeCount: 6,
        records,
        at,
      }),
    ),
  };
}

/** The events `inspect` printed, one JSON object per line. */
const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { aggregate_id: string; source: { on_failure?: unknown } });

describe('matchstream inspect --failures', () => {
  it("reads the invocation records the embedded mappings keep in the data folder's failures/", async () => {
    // Prepare
    const dataDir = tmp.path('folder');
    mkdirSync(storeDir(dataDir), { recursive: true });
    const { key, body } = givenUp();
    const file = join(dataDir, 'failures', ...key.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);

    // Act
    const run = await runCli(['inspect', '--failures', '--data-dir', dataDir]);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(events(run.stdout).map((e) => e.aggregate_id)).toEqual(['match:f1', 'match:f2']);
    expect(events(run.stdout)[0]?.source.on_failure).toMatchObject({
      function: 'arn:aws:lambda:us-east-1:123456789012:function:matchstream-prod-read-models',
      condition: 'RetryAttemptsExhausted',
      shard: 'shardId-000000000000',
    });
  });

  it('refuses --bucket without --failures, and --failures --aws without a bucket', async () => {
    const stray = await runCli(['inspect', '--bucket', 'b', 'x.json']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--bucket goes with --failures');
    const bare = await runCli(['inspect', '--failures', '--aws']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--failures with --aws takes --bucket');
  });

  it('refuses a bucket without --aws rather than reading the data folder in its place', async () => {
    // Prepare: a data folder whose failures/ holds a batch given up on.
    const dataDir = tmp.path('folder-not-bucket');
    mkdirSync(storeDir(dataDir), { recursive: true });
    const { key, body } = givenUp();
    const file = join(dataDir, 'failures', ...key.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);

    // Act
    const run = await runCli([
      'inspect',
      '--failures',
      '--bucket',
      'matchstream-prod-failures',
      '--data-dir',
      dataDir,
    ]);

    // Assess
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toBe(
      "matchstream: --bucket names the on-failure bucket on AWS: add --aws (without it, the data folder's failures/ is read)\n",
    );
  });
});

describe.runIf(motoAvailable())('matchstream inspect --failures --aws, on moto_server', () => {
  let moto: Moto;
  const bucket = 'matchstream-prod-failures';

  beforeAll(async () => {
    moto = await startMoto();
    const s3 = s3Client({ endpoint: moto.endpoint });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { key, body } = givenUp();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    // Something else in the bucket is not read: only what Lambda writes under aws/lambda/.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes.txt', Body: 'hello' }));
    s3.destroy();
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  it('lists and reads the objects of the on-failure bucket and decodes the records inside', async () => {
    // Act: the SDK's own setting points S3 at moto, as credentials and region come from the environment.
    const run = await runCli(['inspect', '--failures', '--aws', '--bucket', bucket], {
      env: {
        AWS_ENDPOINT_URL_S3: moto.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
      },
    });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(events(run.stdout).map((e) => e.aggregate_id)).toEqual(['match:f1', 'match:f2']);
  });

  it('names the bucket when it cannot list it', async () => {
    const run = await runCli([
      'inspect',
      '--failures',
      '--endpoint',
      moto.endpoint,
      '--bucket',
      'nope',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('s3://nope: cannot list the failures');
  });
});
