import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { ensureEventsTable } from '../../stream/eventStore/eventsTable.js';
import { runCli } from '../support/cli.js';
import { type Moto, motoAvailable, startMoto } from '../support/moto.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

describe.runIf(motoAvailable())(
  'matchstream ingest --aws (the deployed table; moto stands in for AWS)',
  () => {
    let moto: Moto;
    /** What a user's shell would have: credentials, a region, here also moto's address. */
    let env: Record<string, string>;

    beforeAll(async () => {
      moto = await startMoto();
      env = {
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint,
      };
      // The table as the CDK app makes it (no relay index: the real stream does that job).
      const client = dynamoClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
      await ensureEventsTable(client, 'matchstream-prod-events');
      client.destroy();
    }, 60_000);

    afterAll(async () => {
      await moto?.stop();
    });

    it('appends a feed with the credentials and region of the environment, and again appends nothing', async () => {
      // Prepare
      const season = tmp.path('season.csv');
      await runCli([
        'generate',
        '--team-count',
        '12',
        '--games-per-team',
        '4',
        '--seed',
        '2',
        '--out',
        season,
      ]);

      // Act
      const ingested = await runCli(
        ['ingest', season, '--aws', '--table', 'matchstream-prod-events', '--json'],
        { env },
      );
      const again = await runCli(
        ['ingest', season, '--aws', '--table', 'matchstream-prod-events', '--json'],
        { env },
      );

      // Assess
      expect(ingested.stderr).toBe('');
      expect(ingested.code).toBe(0);
      const first = JSON.parse(ingested.stdout);
      expect(first.appended).toBeGreaterThan(0);
      expect(first.store).toContain('matchstream-prod-events (eu-west-1)');
      expect(JSON.parse(again.stdout)).toMatchObject({ appended: 0 });
    }, 60_000);

    it('stops at the first request AWS refuses the credentials of, in one line, keeping the rows stored before', async () => {
      // Prepare: a season, and moto told to check credentials from its 40th request on, which
      // it then refuses for an access key no IAM user of it has (UnrecognizedClientException), as AWS
      // refuses a session token that expired during a long ingest.
      const season = tmp.path('refused.csv');
      await runCli([
        'generate',
        '--team-count',
        '16',
        '--games-per-team',
        '6',
        '--seed',
        '7',
        '--out',
        season,
      ]);
      const table = 'matchstream-refused-events';
      const client = dynamoClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
      await ensureEventsTable(client, table);
      client.destroy();
      const auth = (count: string) =>
        fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: count });
      expect((await auth('40')).ok).toBe(true);

      // Act
      let run: Awaited<ReturnType<typeof runCli>>;
      try {
        run = await runCli(['ingest', season, '--aws', '--table', table, '--no-progress'], {
          env,
        });
      } finally {
        await auth('inf');
      }
      const again = await runCli(['ingest', season, '--aws', '--table', table, '--json'], {
        env,
      });

      // Assess: one line, exit 1, no rejects file; what was stored is there, and the rest is
      // stored by the same command run again.
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^matchstream: AWS refused the credentials \\(UnrecognizedClientException: [^)]*\\): check AWS_PROFILE, or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and renew credentials that expired; \\d+ rows? of ${season} stored before, the rest not tried \\(run it again with credentials AWS accepts: a row stored already is not appended twice\\)$`,
        ),
      );
      expect(existsSync(`${season}.rejects.jsonl`)).toBe(false);
      const stored = Number(/; (\d+) rows? of /.exec(lines[0] ?? '')?.[1]);
      expect(stored).toBeGreaterThan(0);
      expect(again.code, again.stderr).toBe(0);
      const summary = JSON.parse(again.stdout);
      expect(summary.unchanged).toBe(stored);
      expect(summary.appended).toBe(summary.read - stored);
    }, 120_000);

    it('names the table and region when the table is not there, and creates nothing', async () => {
      const run = await runCli(['ingest', '-', '--aws', '--table', 'missing-events'], {
        env,
        input: 'date,home,away,home_goals,away_goals\n',
      });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('no table "missing-events" in eu-west-1');
      expect(run.stderr).not.toContain('    at ');
    });

    it('refuses a replay onto the deployed read models', async () => {
      const run = await runCli(
        ['replay', '--aws', '--table', 'matchstream-prod-events', '--to', 'read-model:teams'],
        { env },
      );

      expect(run.code).toBe(2);
      expect(run.stderr).toContain('with --aws, replay only to a file');
    });
  },
);
