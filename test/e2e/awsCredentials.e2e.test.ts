import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('aws-credentials-');

/**
 * A shell with no AWS credentials anywhere the SDK's default chain looks: none in the
 * environment, no shared config or credentials file, no instance metadata to ask.
 */
const noCredentials = {
  HOME: tmp.dir,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_CONFIG_FILE: tmp.path('no-config'),
  AWS_SHARED_CREDENTIALS_FILE: tmp.path('no-credentials'),
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
  AWS_WEB_IDENTITY_TOKEN_FILE: '',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const LINE =
  'matchstream: no AWS credentials found (the environment, the shared config and credentials files, SSO, a container or instance role): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then run the command again\n';

// The SDK's own words ("Could not load credentials from any providers") say neither what it
// looked for nor what to set: each --aws command says it in one line, exit 1.
describe('matchstream --aws without AWS credentials', () => {
  const feed = tmp.file(
    'feed.csv',
    'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n',
  );
  it.each([
    ['ingest', ['ingest', feed, '--aws', '--table', 'events', '--no-progress']],
    [
      'replay',
      [
        'replay',
        '--aws',
        '--table',
        'events',
        '--source',
        'scan',
        '--bucket',
        'archive',
        '--to',
        `file:${tmp.path('out.jsonl')}`,
        '--no-progress',
      ],
    ],
    ['dead-letters list', ['dead-letters', 'list', '--aws', '--stack', 'matchstream-prod']],
  ])('%s says what to set, in one line', async (_name, args) => {
    const run = await runCli(args, { env: noCredentials });

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(LINE);
  });
});

// The SDK picks no region of its own and says only "Region is missing".
describe('matchstream --aws without an AWS region', () => {
  const feed = tmp.file(
    'region-feed.csv',
    'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n',
  );
  const noRegion = {
    ...noCredentials,
    AWS_REGION: '',
    AWS_DEFAULT_REGION: '',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'example',
  };

  it.each([
    ['ingest', ['ingest', feed, '--aws', '--table', 'events', '--no-progress']],
    ['dead-letters list', ['dead-letters', 'list', '--aws', '--stack', 'matchstream-prod']],
  ])('%s says where a region is set, in one line', async (_name, args) => {
    const run = await runCli(args, { env: noRegion });

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'matchstream: no AWS region: set AWS_REGION, or the region of your profile in the shared config file (~/.aws/config, AWS_PROFILE), then run the command again\n',
    );
  });
});
