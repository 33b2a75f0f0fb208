import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { commitChange } from '../../stream/changes/commitChange.js';
import { InMemoryEventStore } from '../../stream/eventStore/InMemoryEventStore.js';
import { CLI, outputOf, runCli } from '../support/cli.js';
import { kinesisRecordOf } from '../support/kinesisRecords.js';
import { latestVersion, matchRecorded, registry } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

async function oneCommit() {
  const store = new InMemoryEventStore(registry);
  const v1 = registry.encode(
    'MatchRecorded',
    { match_id: 'x1', home_team: 'A', away_team: 'B', score: '4-0' },
    1,
  );
  await store.append('match:x1', 0, [
    {
      event_type: 'TeamRegistered',
      data: { team_id: 'A', name: 'A', conference: null, division: null, region: null },
    },
  ]);
  const [commit] = store.commitsOf('match:x1');
  if (!commit) throw new Error('no commit');
  // The same commit, its event written as MatchRecorded v1 long ago.
  const [event] = commit.events;
  if (!event) throw new Error('no event');
  return {
    ...commit,
    events: [
      {
        ...event,
        event_type: 'MatchRecorded',
        version: 1,
        fingerprint: v1.fingerprint,
        data: v1.bytes,
      },
    ],
  };
}

describe('matchstream inspect', () => {
  it('decodes a Lambda event, a dead letter and a change record into events at the latest version', async () => {
    // Prepare
    const commit = await oneCommit();
    const record = kinesisRecordOf(commit);
    const lambda = tmp.file('lambda.json', JSON.stringify({ Records: [record] }));
    const letters = tmp.file(
      'letters.jsonl',
      [
        JSON.stringify({
          consumer: 'router',
          record,
          error: 'boom',
          attempts: 4,
          failed_at: '2026-09-01T00:00:00Z',
        }),
        JSON.stringify(commitChange(commit, 'matchstream-events', 'us-east-1').record),
      ].join('\n'),
    );

    // Act
    const fromLambda = await runCli(['inspect', lambda]);
    const fromLetters = await runCli(['inspect', letters]);

    // Assess
    expect(fromLambda.code).toBe(0);
    const [event] = fromLambda.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(event).toMatchObject({
      event_type: 'MatchRecorded',
      aggregate_id: 'match:x1',
      version: latestVersion('MatchRecorded'),
      writer_version: 1,
      data: { home_goals: 4, away_goals: 0 },
      source: { table: 'events', change: 'INSERT' },
    });
    const lines = fromLetters.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      source: { dead_letter: { consumer: 'router', error: 'boom' } },
    });
  });

  it('reports what it cannot read with where it is, and exits 3', async () => {
    const bad = tmp.file(
      'bad.jsonl',
      '{"Records":[{"eventID":"s:1","kinesis":{"partitionKey":"p","sequenceNumber":"1","data":"bm9wZQ=="}}]}\nnot json\n',
    );

    const run = await runCli(['inspect', bad]);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${bad}:1.Records[0]: the record data is not JSON`);
    expect(run.stderr).toContain(`${bad}:2 (not JSON)`);
  });

  it('says once that a file of no JSON at all is not one to inspect, and names at most 50 bad records', async () => {
    const csv = tmp.file('games.csv', `date,home_team\n${'2026-09-01,A\n'.repeat(80)}`);
    const mixed = tmp.file('mixed.jsonl', `{"nothing":"here"}\n${'not json\n'.repeat(80)}`);

    const notJson = await runCli(['inspect', csv]);
    const many = await runCli(['inspect', mixed]);

    expect(notJson.code).toBe(3);
    expect(notJson.stderr).toBe(
      `matchstream: ${csv}: neither JSON nor JSON Lines: none of its 81 lines is JSON\n`,
    );
    expect(many.code).toBe(3);
    const lines = many.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(51);
    expect(lines.at(-1)).toBe('matchstream: 81 records could not be read (the first 50 named)');
  });

  it('refuses an unknown consumer with the names there are, as its help example does not need', async () => {
    // Prepare: a data folder (dead letters are looked for in one).
    const data = tmp.path('data');
    const feed = tmp.file(
      'games.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n',
    );
    await runCli(['ingest', feed, '--data-dir', data, '--no-progress']);

    // Act
    const unknown = await runCli([
      'inspect',
      '--dead-letters',
      '--consumer',
      'router',
      '--data-dir',
      data,
    ]);
    const known = await runCli([
      'inspect',
      '--dead-letters',
      '--consumer',
      'bus-router',
      '--data-dir',
      data,
    ]);
    const rebuild = await runCli([
      'inspect',
      '--dead-letters',
      '--consumer',
      'rebuild:teams',
      '--data-dir',
      data,
    ]);
    const help = await runCli(['inspect', '--help']);

    // Assess
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^matchstream: unknown consumer "router"; the consumers are read-models, bus-router, sagas, /,
    );
    expect([known.code, known.stdout, known.stderr]).toEqual([0, '', '']);
    expect(rebuild.code).toBe(0);
    expect(help.stdout).toContain('matchstream inspect --dead-letters --consumer bus-router');
    expect(help.stdout).not.toContain('--consumer router');
  });

  it('refuses --aws but with --failures: the deployed dead letters are not in a table of the default name', async () => {
    // Nowhere to reach: refused before any call. The stack's dead-letter table has the name
    // CloudFormation gives it (the stack output DeadLetterSources names it), not
    // matchstream-dead-letters, and its failures are in queues and a bucket too.
    const env = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    };
    const letters = await runCli(['inspect', '--dead-letters', '--aws', '--table', 'events'], {
      env,
    });
    const file = await runCli(['inspect', tmp.file('event.json', '{"Records": []}'), '--aws'], {
      env,
    });

    expect(letters).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'matchstream: inspect --dead-letters reads a data folder or an --endpoint store; the deployed stack\'s dead letters are read with "matchstream dead-letters list --aws --stack NAME" (its table, queues and on-failure bucket)\n',
    });
    expect(file).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'matchstream: --aws goes with --failures (and --bucket); a file is read as it is\n',
    });
  });

  it('reads standard input from a pipe whose writer is still writing, as replay --to file:- | inspect - is', async () => {
    // Prepare: replay-file lines, written into the pipe in two parts, the second later.
    const line = (n: number) =>
      JSON.stringify({
        event_id: `6f9619ff-8b86-4011-b42d-${String(n).padStart(12, '0')}`,
        event_type: 'MatchRecorded',
        aggregate_id: `match:p${n}`,
        sequence: 1,
        timestamp: '2026-09-01T20:10:00.000Z',
        data: matchRecorded(`p${n}`),
        version: latestVersion('MatchRecorded'),
        correlation_id: 'feed',
        causation_id: null,
      });
    const child = spawn(process.execPath, [CLI, 'inspect', '-'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const run = outputOf(child);

    // Act
    child.stdin.write(`${line(1)}\n`);
    await sleep(500);
    child.stdin.end(`${line(2)}\n`);
    const { code, stdout, stderr } = await run;

    // Assess
    expect([code, stderr]).toEqual([0, '']);
    expect(
      stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).source),
    ).toEqual([{ replay_file: 'stdin:1' }, { replay_file: 'stdin:2' }]);
  });
});
