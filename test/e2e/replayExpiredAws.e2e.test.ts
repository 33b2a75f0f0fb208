import { readFileSync } from 'node:fs';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { seasonOfStream } from '../../ingest/seasons.js';
import { S3Storage } from '../../stream/archive/ArchiveStorage.js';
import { expireSeason } from '../../stream/archive/expireSeason.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import { ensureEventsTable } from '../../stream/eventStore/eventsTable.js';
import { runCli } from '../support/cli.js';
import { type Moto, motoAvailable, motoShellEnv, startMoto } from '../support/moto.js';
import { registry } from '../support/registry.js';
import { exportIntoBucket } from '../support/s3Archive.js';
import { tempDir } from '../support/tempDir.js';

const TABLE = 'matchstream-prod-events';
const BUCKET = 'matchstream-prod-archive';
const tmp = tempDir('replay-expired-aws-');

/** The streams of a replay's file, each with its events' sequences, in order. */
function streamsOf(file: string): Map<string, number[]> {
  const streams = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const { aggregate_id, sequence } = JSON.parse(line) as {
      aggregate_id: string;
      sequence: number;
    };
    streams.set(aggregate_id, [...(streams.get(aggregate_id) ?? []), sequence].sort());
  }
  return streams;
}

// `matchstream replay --aws --source scan` over a deployed table a season was expired from into
// the archive bucket (moto's DynamoDB and S3, the expiry made by the library as `archive expire
// --aws` makes it): the scan reads the expired season's streams through the bucket, as a data
// folder's scan reads its archive.
describe.runIf(motoAvailable())(
  'matchstream replay --aws --source scan over an expired season (moto_server)',
  () => {
    let moto: Moto;
    let env: Record<string, string>;
    let before: Map<string, number[]>;
    const season = generateSeason({ teams: 6, gamesPerTeam: 3, seed: 8 });
    const aws = ['--aws', '--table', TABLE];
    const replay = (out: string, ...more: string[]) =>
      runCli(
        ['replay', ...aws, '--source', 'scan', '--to', `file:${out}`, '--no-progress', ...more],
        { env },
      );

    beforeAll(async () => {
      moto = await startMoto();
      env = motoShellEnv(moto.endpoint);
      const dynamo = dynamoClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
      const s3 = s3Client({ endpoint: moto.endpoint, region: 'eu-west-1' });
      try {
        await ensureEventsTable(dynamo, TABLE);
        await s3.send(
          new CreateBucketCommand({
            Bucket: BUCKET,
            CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
          }),
        );
        const feed = tmp.file(
          'season.csv',
          `${[GAMES_CSV_HEADER, ...season.games.map(gameCsvRow)].join('\n')}\n`,
        );
        const ingested = await runCli(['ingest', feed, ...aws, '--json'], { env });
        expect(ingested.code, ingested.stderr).toBe(0);
        const closed = await runCli(['archive', 'close-season', '2026', ...aws], { env });
        expect(closed.code, closed.stderr).toBe(0);
        // Every stream as the table holds it before the expiry.
        const whole = await replay(tmp.path('before.jsonl'), '--bucket', BUCKET);
        expect(whole.code, whole.stderr).toBe(0);
        before = streamsOf(tmp.path('before.jsonl'));
        await exportIntoBucket(
          {
            client: dynamo,
            table: TABLE,
            folder: tmp.path('exported'),
            now: () => Date.now() + 120_000,
          },
          s3,
          BUCKET,
        );
        const expired = await expireSeason({
          client: dynamo,
          table: TABLE,
          codec: new CommitCodec(registry),
          storage: new S3Storage(s3, BUCKET),
          prefix: 'events',
          season: '2026',
          seasonOf: seasonOfStream,
          graceMs: 0,
        });
        expect(expired.completed).toBe(true);
        expect(expired.streams).toBeGreaterThan(0);
      } finally {
        dynamo.destroy();
        s3.destroy();
      }
    }, 120_000);

    afterAll(async () => {
      await moto?.stop();
    });

    it("with --bucket, replays the expired season's streams too, through the bucket", async () => {
      // Act
      const run = await replay(tmp.path('after.jsonl'), '--bucket', BUCKET, '--json');

      // Assess: every stream, every event, as before the expiry.
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ source: 'scan', completed: true });
      expect(streamsOf(tmp.path('after.jsonl'))).toEqual(before);
    }, 60_000);

    it('without --bucket, is refused before anything is read, saying what to give (exit 2)', async () => {
      // Act
      const run = await replay(tmp.path('blind.jsonl'));

      // Assess
      expect(run).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr).toBe(
        'matchstream: replay --aws reads the streams of seasons expired from the table in the archive bucket: give --bucket <name> (the stack output ArchiveBucket)\n',
      );
    }, 60_000);
  },
);
