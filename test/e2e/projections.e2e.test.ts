import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();
const data = tmp.path('data');

/** `matchstream ...args`, which must succeed; its standard output. */
async function ok(...args: string[]): Promise<string> {
  const run = await runCli(args);
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

beforeAll(async () => {
  // A season run on a folder, and teams rebuilt: generation 2 active, generation 1 kept.
  const games = tmp.path('season.csv');
  await ok('generate', '--team-count', '12', '--games-per-team', '4', '--out', games);
  await ok('start', games, '--data-dir', data, '--quiet');
  await ok('rebuild', '--projection', 'teams', '--data-dir', data, '--no-progress');
}, 120_000);

describe('matchstream projections on a data folder', () => {
  it('drops an old generation, and says so again when run twice, keeping the active one', async () => {
    const active = await runCli([
      'projections',
      'drop',
      'teams',
      '--generation',
      '2',
      '--data-dir',
      data,
    ]);
    const typo = await runCli([
      'projections',
      'drop',
      'team',
      '--generation',
      '1',
      '--data-dir',
      data,
    ]);
    const first = await runCli([
      'projections',
      'drop',
      'teams',
      '--generation',
      '1',
      '--data-dir',
      data,
    ]);
    const again = await runCli([
      'projections',
      'drop',
      'teams',
      '--generation',
      '1',
      '--data-dir',
      data,
    ]);
    const list = JSON.parse(await ok('projections', 'list', '--data-dir', data, '--json')) as {
      name: string;
      active: number;
      generations: { generation: number; status: string }[];
    }[];

    expect(active.code).toBe(1);
    expect(active.stderr).toBe(
      'matchstream: generation 2 of teams is the active one; activate another first\n',
    );
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^matchstream: unknown read model "team"; there are teams, .*\n$/);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(
      'teams: generation 1 dropped (table matchstream-rm-teams-v1 deleted)\n',
    );
    // Run again (as after a drop cut short before its table went), it finishes the job.
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    const teams = list.find((m) => m.name === 'teams');
    expect(teams?.active).toBe(2);
    expect(teams?.generations.map((g) => [g.generation, g.status])).toEqual([
      [1, 'dropped'],
      [2, 'live'],
    ]);
  });

  it('lists the read models as behind, not caught up, while results ingested are not relayed', async () => {
    const more = tmp.path('next-season.csv');
    await ok(
      'generate',
      '--team-count',
      '12',
      '--games-per-team',
      '4',
      '--season',
      '2027',
      '--seed',
      '9',
      '--out',
      more,
    );
    const caughtUp = await ok('projections', 'list', '--data-dir', data);
    await ok('ingest', more, '--data-dir', data, '--no-progress');

    const behind = await runCli(['projections', 'list', '--data-dir', data]);
    const json = JSON.parse(await ok('projections', 'list', '--data-dir', data, '--json')) as {
      name: string;
      unrelayed_commits: number;
    }[];

    expect(caughtUp).toMatch(/^ {2}\* {2}g1 {2}live .* {2}v2 {2}caught up$/m);
    expect(caughtUp).not.toMatch(/not relayed/);
    expect(behind.code, behind.stderr).toBe(0);
    const unrelayed = json[0]?.unrelayed_commits ?? 0;
    expect(unrelayed).toBeGreaterThan(0);
    expect(json.every((m) => m.unrelayed_commits === unrelayed)).toBe(true);
    const count = unrelayed.toLocaleString('en-US');
    expect(behind.stdout).not.toMatch(/caught up/);
    expect(behind.stdout).toMatch(
      new RegExp(
        `^ {2}\\* {2}g1 {2}live .* {2}v2 {2}${count} commits behind, not relayed yet$`,
        'm',
      ),
    );
    expect(behind.stdout.trimEnd().split('\n').at(-1)).toBe(
      `${count} commits stored are not on the change stream yet: the read models apply them when a pipeline runs on the folder (start, serve)`,
    );
  });

  it('shows in status every consumer as behind, not caught up, while results ingested are not relayed', async () => {
    const more = tmp.path('third-season.csv');
    await ok(
      'generate',
      '--team-count',
      '12',
      '--games-per-team',
      '4',
      '--season',
      '2028',
      '--seed',
      '11',
      '--out',
      more,
    );
    await ok('ingest', more, '--data-dir', data, '--no-progress');

    const text = await ok('status', '--data-dir', data, '--no-progress');
    const json = JSON.parse(await ok('status', '--data-dir', data, '--json')) as {
      unrelayed_commits: number;
      applied: { pending: number };
      consumers: { consumer: string }[];
    };

    expect(json.unrelayed_commits).toBeGreaterThan(0);
    expect(json.applied.pending).toBeGreaterThan(0);
    const count = json.unrelayed_commits.toLocaleString('en-US');
    expect(text).not.toMatch(/caught up/);
    const consumers = text.split('\n').filter((l) => l.startsWith('  consumer '));
    expect(consumers.length).toBe(json.consumers.length);
    expect(consumers.length).toBeGreaterThan(0);
    for (const line of consumers)
      expect(line).toMatch(new RegExp(`: ${count} commits behind, not relayed yet$`));
  });
});
