import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

interface Summary {
  season: string;
  events_appended: number;
  records_relayed: number;
  events_applied: Record<string, number>;
  published: Record<string, number>;
  dead_letters: number;
  saga: {
    id: string;
    status: string;
    failed_step: string | null;
    compensations: string[];
    automatic_sagas: number;
  };
  rankings_unchanged: boolean;
  ingest: { appended: number; teams_registered: number; events_appended: number };
  rankings: { team: string; rank: number | null; rpi: number | null }[];
}

describe('matchstream start: the whole pipeline on the embedded default', () => {
  it('applies every event once in every consumer, and ranks exactly as "rpi" does', async () => {
    // Prepare
    const games = tmp.path('season.csv');
    await runCli([
      'generate',
      '--teams',
      '40',
      '--games-per-team',
      '8',
      '--seed',
      '12',
      '--out',
      games,
    ]);

    // Act
    const run = await runCli(['start', games, '--json']);
    const direct = await runCli(['rpi', '--games', games, '--format', 'json']);

    // Assess
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    const { ingest } = summary;
    for (const applied of Object.values(summary.events_applied))
      expect(applied).toBe(summary.events_appended);
    expect(Object.keys(summary.events_applied).sort()).toEqual([
      'bus-router',
      'read-models',
      'sagas',
    ]);
    // One commit per event: ingest appends one per row, sagas and calculations one per move.
    expect(summary.records_relayed).toBe(summary.events_appended);
    expect(summary.saga).toMatchObject({ status: 'completed', compensations: [] });
    expect(summary.saga.automatic_sagas).toBeGreaterThanOrEqual(1);
    // Every automatic saga completed: each calculated, published and cached once.
    expect(summary.published).toMatchObject({
      soccer: ingest.appended,
      metadata: ingest.teams_registered,
      calculation: 3 * summary.saga.automatic_sagas,
    });
    expect(summary.dead_letters).toBe(0);
    const expected = (
      JSON.parse(direct.stdout) as { rankings: { team: string; rank: number; rpi: number }[] }
    ).rankings;
    expect(summary.rankings.map((r) => [r.team, r.rank, r.rpi])).toEqual(
      expected.map((r) => [r.team, r.rank, r.rpi]),
    );
  });

  it('keeps its state in a data folder: a second run ingests nothing new', async () => {
    const games = tmp.path('small.csv');
    const data = tmp.path('data');
    await runCli([
      'generate',
      '--teams',
      '12',
      '--games-per-team',
      '4',
      '--seed',
      '3',
      '--out',
      games,
    ]);

    const first = JSON.parse(
      (await runCli(['start', '--games', games, '--data-dir', data, '--json'])).stdout,
    ) as Summary;
    const second = JSON.parse(
      (await runCli(['start', '--games', games, '--data-dir', data, '--json'])).stdout,
    ) as Summary;

    expect(first.ingest.events_appended).toBeGreaterThan(0);
    expect(second.ingest.events_appended).toBe(0);
    // Nothing changed, so nothing was recalculated: the first run's saga stands.
    expect(second.events_appended).toBe(0);
    expect(second.saga.id).toBe(first.saga.id);
    expect(second.rankings).toEqual(first.rankings);
  });

  it('prints the top of the rankings and a pipeline summary for people', async () => {
    const run = await runCli(['start', '--team-count', '24', '--seed', '3', '--top', '5']);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^matchstream — sample season \(24 teams, seed 3\), season 2026: \d+ games, 24 teams \(ncaa-soccer-2024\)$/,
    );
    expect(lines.slice(3, 8).every((l) => / 0\.\d{4}$/.test(l))).toBe(true);
    expect(run.stdout).toMatch(
      /pipeline: [\d,]+ events appended, [\d,]+ change records relayed, 3 consumers \([\d,]+ events applied each\)/,
    );
    expect(run.stdout).toMatch(
      /saga: [0-9a-f-]{36} completed in [\d.]+ s \([\d,]+ sagas? started /,
    );
  });

  it('keeps --teams working as the former name of --team-count, out of the help', async () => {
    const run = await runCli(['start', '--teams', '6', '--games-per-team', '3', '--json']);
    const help = await runCli(['start', '--help']);
    const both = await runCli(['start', '--teams', '6', '--team-count', '6']);
    const twoFeeds = await runCli(['start', 'a.csv', '--games', 'b.csv']);

    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { source: string }).source).toBe(
      'sample season (6 teams, seed 2026)',
    );
    expect(help.stdout).toContain('--team-count <n>');
    expect(help.stdout).not.toContain('--teams');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--teams is the former name of --team-count: give one');
    expect(twoFeeds.code).toBe(2);
    expect(twoFeeds.stderr).toContain('two games feeds: "a.csv" and --games "b.csv"; give one');
  });

  it('counts in the singular where there is one: "1 invalid row"', async () => {
    const games = tmp.file(
      'one-bad.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,Ash,Birch,2,1\n2026-09-02,Ash,Birch,x,1\n',
    );

    const run = await runCli(['start', games]);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('1 invalid row; nothing rated');
  });

  it.each([
    ['error', 'publish-results', ['retract-results', 'retract-calculation', 'release-snapshot']],
    [
      'timeout',
      'update-cache',
      ['restore-cache', 'retract-results', 'retract-calculation', 'release-snapshot'],
    ],
  ])(
    'with an injected %s in %s, compensates in reverse and leaves the rankings as they were',
    async (mode, step, compensations) => {
      const data = tmp.path(`fault-${mode}`);
      const base = [
        'start',
        '--teams',
        '16',
        '--games-per-team',
        '5',
        '--data-dir',
        data,
        '--json',
      ];
      const before = JSON.parse((await runCli([...base, '--seed', '1'])).stdout) as Summary;

      // New results (another seed), and the saga they start fails.
      const run = await runCli([...base, '--seed', '2', '--inject-fault', `saga:${step}:${mode}`]);

      // The season was not rated: exit 1, with the summary complete all the same.
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`was compensated after ${step} failed`);
      const summary = JSON.parse(run.stdout) as Summary;
      expect(summary.saga).toMatchObject({
        status: 'compensated',
        failed_step: step,
        compensations,
      });
      expect(summary.rankings_unchanged).toBe(true);
      expect(summary.rankings).toEqual(before.rankings);
    },
  );

  it('exits 1 when the season could not be rated, after printing what happened', async () => {
    const run = await runCli([
      'start',
      '--team-count',
      '8',
      '--games-per-team',
      '3',
      '--inject-fault',
      'saga:publish-results',
    ]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('no rankings for season 2026');
    expect(run.stdout).toMatch(/\nsaga: [0-9a-f-]{36} compensated in [\d.]+ s/);
    expect(run.stderr).toMatch(
      /^matchstream: saga [0-9a-f-]{36} was compensated after publish[-_]results failed: /m,
    );
  });

  it('refuses an unknown saga step in --inject-fault', async () => {
    const run = await runCli(['start', '--inject-fault', 'saga:nowhere']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'unknown step "nowhere"; the RPI saga\'s steps are collect-matches, calculate-rpi, publish-results, update-cache',
    );
  });
});
