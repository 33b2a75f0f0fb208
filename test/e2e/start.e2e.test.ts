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
  saga: unknown;
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
    const run = await runCli(['start', '--games', games, '--json']);
    const direct = await runCli(['rpi', '--games', games, '--format', 'json']);

    // Assess
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    const { ingest } = summary;
    expect(summary.events_appended).toBe(ingest.events_appended + 2);
    for (const applied of Object.values(summary.events_applied))
      expect(applied).toBe(summary.events_appended);
    expect(Object.keys(summary.events_applied).sort()).toEqual(['bus-router', 'read-models']);
    // One commit per ingested event; the calculation and its publication are one commit.
    expect(summary.records_relayed).toBe(summary.events_appended - 1);
    expect(summary.published).toEqual({
      soccer: ingest.appended,
      metadata: ingest.teams_registered,
      calculation: 2,
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
    expect(second.events_appended).toBe(2);
    expect(second.rankings).toEqual(first.rankings);
  });

  it('prints the top of the rankings and a pipeline summary for people', async () => {
    const run = await runCli(['start', '--teams', '24', '--seed', '3', '--top', '5']);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^matchstream — sample season \(24 teams, seed 3\), season 2026: \d+ games, 24 teams \(ncaa-soccer-2024\)$/,
    );
    expect(lines.slice(3, 8).every((l) => / 0\.\d{4}$/.test(l))).toBe(true);
    expect(run.stdout).toMatch(
      /pipeline: \d+ events appended, \d+ change records relayed, 2 consumers/,
    );
  });
});
