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
const tmp = tempDir('ingest-expired-aws-');

// `matchstream ingest --aws` on a season expired from the deployed table into the archive
// bucket (moto's DynamoDB and S3, the expiry made by the library as `archive expire --aws` makes
// it): with --bucket, the season's feed again is unchanged and a changed result refused.
describe.runIf(motoAvailable())(
  'matchstream ingest --aws on an expired season (moto_server)',
  () => {
    let moto: Moto;
    let env: Record<string, string>;
    const season = generateSeason({ teams: 6, gamesPerTeam: 3, seed: 8 });
    const feed = tmp.file(
      'season.csv',
      `${[GAMES_CSV_HEADER, ...season.games.map(gameCsvRow)].join('\n')}\n`,
    );
    const aws = ['--aws', '--table', TABLE];

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
        const ingested = await runCli(['ingest', feed, ...aws, '--json'], { env });
        expect(ingested.code, ingested.stderr).toBe(0);
        // Closed, as `archive expire` asks of a season before it expires it.
        const closed = await runCli(['archive', 'close-season', '2026', ...aws], { env });
        expect(closed.code, closed.stderr).toBe(0);
        // A verified export covering the season in the bucket, then the season expired.
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
      } finally {
        dynamo.destroy();
        s3.destroy();
      }
    }, 120_000);

    afterAll(async () => {
      await moto?.stop();
    });

    it('with --bucket, counts the season fed again as unchanged and refuses a changed result', async () => {
      const [first] = season.games;
      if (!first) throw new Error('no game');
      const changed = tmp.file(
        'changed.csv',
        `${[GAMES_CSV_HEADER, gameCsvRow({ ...first, homeScore: first.homeScore + 3 })].join('\n')}\n`,
      );

      const again = await runCli(['ingest', feed, ...aws, '--bucket', BUCKET, '--json'], { env });
      const refused = await runCli(['ingest', changed, ...aws, '--bucket', BUCKET, '--json'], {
        env,
      });

      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        read: season.games.length,
        appended: 0,
        unchanged: season.games.length,
        events_appended: 0,
      });
      expect(refused.code).toBe(3);
      expect(JSON.parse(refused.stdout)).toMatchObject({ read: 1, appended: 0, rejected: 1 });
      expect(readFileSync(`${changed}.rejects.jsonl`, 'utf8')).toContain(
        `refused: stream match:${first.matchId} was expired from the table with the closed season 2026`,
      );
    });

    // HeadBucket answers 404 for a bucket that does not exist, 403 without s3:ListBucket on it
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html).
    it('with a --bucket that is not there, says so in one line before storing a row (exit 1)', async () => {
      const fresh = tmp.file(
        'fresh-season.csv',
        'date,home_team,away_team,home_score,away_score\n2028-09-01,East Ridge College,West Vale Tech,1,0\n',
      );

      const run = await runCli(['ingest', fresh, ...aws, '--bucket', `${BUCKET}-typo`, '--json'], {
        env,
      });
      const after = await runCli(['ingest', fresh, ...aws, '--json'], { env });

      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([
        `matchstream: no bucket "${BUCKET}-typo" in eu-west-1: give the ArchiveBucket output of the deployed stack with --bucket (and its region with AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config) (run with --debug for details)`,
      ]);
      // Nothing was stored: the row is new on the next run.
      expect(after.code, after.stderr).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({ read: 1, appended: 1, failed: 0 });
    });

    it("without --bucket, refuses a closed season's rows, saying to give it, and takes the others", async () => {
      const other = tmp.file(
        'other-season.csv',
        'date,home_team,away_team,home_score,away_score\n2027-09-01,North Harbor State,South Bay Tech,2,1\n',
      );

      const blind = await runCli(['ingest', feed, ...aws, '--json'], { env });
      const next = await runCli(['ingest', other, ...aws, '--json'], { env });

      expect(blind.code).toBe(3);
      expect(JSON.parse(blind.stdout)).toMatchObject({
        read: season.games.length,
        appended: 0,
        unchanged: 0,
        rejected: season.games.length,
        events_appended: 0,
      });
      const reasons = readFileSync(`${feed}.rejects.jsonl`, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { reason: string }).reason);
      expect(new Set(reasons)).toEqual(
        new Set([
          'season 2026 is closed, and may have been expired from the table into the archive, which this store does not read: give --bucket ARCHIVE_BUCKET (the stack output ArchiveBucket), which holds its expired streams',
        ]),
      );
      expect(next.code, next.stderr).toBe(0);
      expect(JSON.parse(next.stdout)).toMatchObject({ read: 1, appended: 1, rejected: 0 });
    });
  },
);

describe('matchstream ingest --bucket', () => {
  it('refuses --bucket without --aws', async () => {
    const run = await runCli(['ingest', feedOf(), '--memory', '--bucket', BUCKET]);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'matchstream: --bucket is the archive bucket on AWS: add --aws (a data folder reads its own archive)\n',
    );
  });
});

function feedOf(): string {
  return tmp.file('one.csv', `${GAMES_CSV_HEADER}\n`);
}
