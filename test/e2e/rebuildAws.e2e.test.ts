import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { runCli } from '../support/cli.js';
import { type Moto, motoAvailable, startMoto } from '../support/moto.js';

/** A summary as the rebuild state machine outputs it (the control step's `finish`). */
const SUMMARY = {
  projection: 'standings',
  source: 'archive',
  exports: ['01234567890123-abcdefgh'],
  deferred_streams: 0,
  expired_streams: 0,
  generation: 2,
  table: 'matchstream-dev-rm-standings-v2-g2',
  previous_generation: 1,
  projection_version: 1,
  previous_version: 1,
  resumed: false,
  completed: true,
  switched: true,
  events: 1200,
  scanned: 1100,
  replay_seconds: 42,
  scanned_per_second: 26,
  seconds: 400,
  events_per_second: 29,
  unreadable: 0,
  flushes: 12,
  peak_folded_mb: 1.5,
  caught_up: 0,
  differences: 0,
  difference_samples: [],
  fault: false,
  warm_throughput: { reads: 12_000, writes: 40_000 },
};

describe('matchstream rebuild --aws: the command line', () => {
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  };

  it('needs the state machine, and refuses what only a local rebuild reads, before any call', async () => {
    const refused = async (args: string[]) => {
      const run = await runCli(['rebuild', '--projection', 'standings', ...args], { env });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      return run.stderr.trim();
    };
    expect(await refused(['--aws'])).toBe(
      'matchstream: rebuild --aws needs --state-machine <arn>: the stack output RebuildStateMachine',
    );
    expect(await refused(['--aws', '--state-machine', 'arn:x', '--segments', '8'])).toContain(
      '--segments is for a local rebuild',
    );
    expect(await refused(['--aws', '--state-machine', 'arn:x', '--source', 'scan'])).toContain(
      '--source is for a local rebuild',
    );
    expect(await refused(['--state-machine', 'arn:x'])).toBe(
      'matchstream: --state-machine is for a rebuild on AWS: add --aws',
    );
    expect(await refused(['--warm-writes', '40000'])).toBe(
      'matchstream: --warm-writes is for a rebuild on AWS: add --aws',
    );
    expect(
      await refused([
        '--aws',
        '--state-machine',
        'arn:x',
        '--redrive',
        'arn:y',
        '--warm-reads',
        '9',
      ]),
    ).toBe(
      'matchstream: --warm-writes and --warm-reads apply when a run makes its table; a redriven run goes on with its own: drop them, or start a new run',
    );
    expect(await refused(['--aws', '--state-machine', 'arn:x', '--warm-writes', '0'])).toContain(
      "option '--warm-writes <units>' argument '0' is invalid. expected a whole number from 1 to 10000000",
    );
  });
});

describe('matchstream rebuild --aws --redrive: the command line', () => {
  // Nowhere to reach (port 9): these are refused before any call to AWS.
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  };
  const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:matchstream-prod-rebuild';
  const failedRun =
    'arn:aws:states:eu-west-1:123456789012:execution:matchstream-prod-rebuild:standings-20261202T120000-ab12';
  const refused = async (args: string[]) => {
    const run = await runCli(
      ['rebuild', '--aws', '--state-machine', machine, '--no-progress', ...args],
      { env },
    );
    expect(run).toMatchObject({ code: 2, stdout: '' });
    return run.stderr;
  };

  it('refuses --verify, --no-verify and --no-switch: a redriven run goes on with the input it was started with', async () => {
    // Step Functions API reference, RedriveExecution: a redriven execution "continues the
    // failed execution from the unsuccessful step and uses the same input".
    for (const flag of ['--verify', '--no-verify', '--no-switch'])
      expect(await refused(['--projection', 'standings', '--redrive', failedRun, flag])).toBe(
        `matchstream: ${flag} applies when a run starts; a redriven run goes on with the input it was started with: drop it, or start a new run\n`,
      );
  });

  it('refuses a run of another state machine, or of another read model', async () => {
    // "Redriven executions use the same state machine definition and execution ARN as the
    // original execution attempt" (RedriveExecution): the ARN names both.
    expect(
      await refused([
        '--projection',
        'standings',
        '--redrive',
        failedRun.replace('matchstream-prod-rebuild', 'matchstream-dev-rebuild'),
      ]),
    ).toBe(
      `matchstream: --redrive ${failedRun.replace('matchstream-prod-rebuild', 'matchstream-dev-rebuild')} is not a run of the state machine ${machine}\n`,
    );
    expect(await refused(['--projection', 'matches', '--redrive', failedRun])).toBe(
      `matchstream: --redrive ${failedRun} is a rebuild run of standings, not of matches: give --projection standings\n`,
    );
  });

  it('takes the read model from the run, and needs --projection only when the run names none', async () => {
    // Act: a redrive without --projection is sent to AWS (nowhere here: refused connection).
    const sent = await runCli(
      ['rebuild', '--aws', '--state-machine', machine, '--no-progress', '--redrive', failedRun],
      { env },
    );

    // Assess
    expect(sent).toMatchObject({ code: 1, stdout: '' });
    expect(sent.stderr).toMatch(/^matchstream: connect ECONNREFUSED 127\.0\.0\.1:9/);
    const unnamed = failedRun.replace(':standings-', ':nightly-');
    expect(await refused(['--redrive', unnamed])).toBe(
      `matchstream: --redrive ${unnamed} names no read model (a rebuild run is named <read model>-<time>-<salt>): give --projection with it\n`,
    );
    const elsewhere = failedRun.replace('matchstream-prod-rebuild', 'matchstream-dev-rebuild');
    expect(await refused(['--redrive', elsewhere])).toBe(
      `matchstream: --redrive ${elsewhere} is not a run of the state machine ${machine}\n`,
    );
    expect(await refused([])).toBe(
      'matchstream: rebuild needs --projection <name>: the read model to rebuild (teams, matches, standings, rankings, sagas, pipeline-stats)\n',
    );
  });
});

// Step Functions itself, as moto_server runs state machines (its parser, which executes the
// definition): a stand-in for the deployed rebuild machine that outputs a summary, and one
// that fails as a rebuild run fails.
describe.runIf(motoAvailable())(
  'matchstream rebuild --aws against Step Functions on moto_server',
  () => {
    let moto: Moto;
    let sfn: SFNClient;
    let env: Record<string, string>;

    /**
     * The two machines on a moto_server reset first: its parser runs one execution per server
     * reliably, so each run of the command gets fresh ones.
     */
    const machines = async (execute = true) => {
      for (const [path, body] of [
        ['reset', ''],
        ['config', JSON.stringify({ stepfunctions: { execute_state_machine: execute } })],
      ] as const) {
        const response = await fetch(`${moto.endpoint}/moto-api/${path}`, { method: 'POST', body });
        expect(response.ok).toBe(true);
      }
      const machine = async (name: string, definition: object) =>
        (
          await sfn.send(
            new CreateStateMachineCommand({
              name,
              roleArn: 'arn:aws:iam::123456789012:role/rebuild',
              definition: JSON.stringify(definition),
            }),
          )
        ).stateMachineArn ?? '';
      return {
        succeeding: await machine('rebuild-ok', {
          StartAt: 'Switch',
          States: { Switch: { Type: 'Pass', Result: SUMMARY, End: true } },
        }),
        failing: await machine('rebuild-failing', {
          StartAt: 'Prepare',
          States: {
            Prepare: {
              Type: 'Fail',
              Error: 'Error',
              Cause: 'the archive s3://archive/events holds no full export to rebuild from',
            },
          },
        }),
      };
    };

    beforeAll(async () => {
      moto = await startMoto();
      sfn = new SFNClient(clientConfig({ endpoint: moto.endpoint }));
      env = {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL: moto.endpoint,
      };
    }, 60_000);

    afterAll(async () => {
      sfn?.destroy();
      await moto?.stop();
    });

    it('starts a run with the request, follows it, and prints its summary with the local keys', async () => {
      // Act
      const json = await runCli(
        [
          'rebuild',
          '--aws',
          '--state-machine',
          (await machines()).succeeding,
          '--projection',
          'standings',
          '--json',
        ],
        { env },
      );
      const succeedingArn = (await machines()).succeeding;
      const words = await runCli(
        [
          'rebuild',
          '--aws',
          '--state-machine',
          succeedingArn,
          '--projection',
          'standings',
          '--no-progress',
          '--warm-writes',
          '40000',
        ],
        { env },
      );

      // Assess
      const [started] =
        (await sfn.send(new ListExecutionsCommand({ stateMachineArn: succeedingArn })))
          .executions ?? [];
      const { input } = await sfn.send(
        new DescribeExecutionCommand({ executionArn: started?.executionArn }),
      );
      expect(JSON.parse(input ?? '')).toEqual({
        projection: 'standings',
        warm: { writes: 40_000 },
      });
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(SUMMARY);
      expect(json.stderr).toMatch(
        /^rebuild run arn:aws:states:us-east-1:123456789012:execution:rebuild-ok:standings-\d{8}T\d{6}-\w{4} started$/m,
      );
      expect(words.code).toBe(0);
      expect(words.stderr).toBe('');
      expect(words.stdout).toContain(
        'standings: generation 2 (matchstream-dev-rm-standings-v2-g2) built from 1,200 events',
      );
      expect(words.stdout).toContain(
        "active generation: 2 (was 1, which stays fed: the stack's own table)",
      );
      expect(words.stdout).toContain(
        "its table's warm throughput: 12,000 reads and 40,000 writes a second",
      );
    }, 60_000);

    it('refuses to start a second run of a read model while one is under way', async () => {
      // Prepare: a run under way (moto without its parser leaves executions running).
      const { succeeding } = await machines(false);
      const running = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: succeeding,
          name: 'standings-20261202T120000-ab12',
          input: '{"projection":"standings"}',
        }),
      );

      // Act
      const run = await runCli(
        ['rebuild', '--aws', '--state-machine', succeeding, '--projection', 'standings'],
        { env },
      );

      // Assess: refused, in one line, exit 1.
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `matchstream: a rebuild run of this read model is under way (${running.executionArn}): wait for it (aws stepfunctions describe-execution --execution-arn ${running.executionArn}), or stop it first\n`,
      );
    }, 60_000);

    it('says why a run failed, that nothing was switched, and how to go on, exiting 1', async () => {
      // Act
      const run = await runCli(
        [
          'rebuild',
          '--aws',
          '--state-machine',
          (await machines()).failing,
          '--projection',
          'standings',
          '--no-progress',
        ],
        { env },
      );

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^matchstream: the rebuild run arn:aws:states:us-east-1:123456789012:execution:rebuild-failing:\S+ ended FAILED: Error: the archive s3:\/\/archive\/events holds no full export to rebuild from; nothing was switched\. Go on from where it failed with "matchstream rebuild --aws --state-machine \S+ --projection standings --redrive \S+", or start a new run$/,
      );
    }, 60_000);
  },
);
