import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readGames } from '../../feeds/readGames.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

interface SagaRun {
  id: string;
  status: string;
  compensations: string[];
  rankings: { games_counted: number; teams: number } | null;
  saga: { steps: { step_name: string; status: string }[] };
}

describe('matchstream teams and saga: the directory and RPI sagas from the command line', () => {
  it('imports a directory, rates only its Division I games, and compensates an injected failure', async () => {
    // Prepare: a season and a directory putting the first half of its teams in Division I.
    const games = tmp.path('games.csv');
    const data = tmp.path('data');
    await runCli([
      'generate',
      '--teams',
      '14',
      '--games-per-team',
      '6',
      '--seed',
      '8',
      '--out',
      games,
    ]);
    const season = (await readGames(games)).games;
    const teams = [...new Set(season.flatMap((g) => [g.homeTeam, g.awayTeam]))].sort();
    const divisionI = new Set(teams.slice(0, 7));
    const directory = tmp.file(
      'teams.csv',
      `team,conference,division,region\n${teams
        .map((t, i) => `"${t}",Conf ${i % 2},${divisionI.has(t) ? 'I' : 'II'},East`)
        .join('\n')}\n,Nowhere,I,\n`,
    );
    const store = ['--data-dir', data];

    // Act
    const imported = await runCli(['teams', 'import', directory, ...store, '--json']);
    await runCli(['ingest', games, ...store, '--json']);
    const rated = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      '--division',
      'I',
      ...store,
      '--json',
    ]);
    const moved = await runCli(['teams', 'update', teams[0] ?? '', '--division', 'II', ...store]);
    const failed = await runCli([
      'saga',
      'start',
      'rpi',
      '--season',
      '2026',
      ...store,
      '--json',
      '--inject-fault',
      'saga:calculate-rpi',
    ]);
    const run = JSON.parse(rated.stdout) as SagaRun;
    const shown = await runCli(['saga', 'show', run.id, ...store]);
    const listed = await runCli(['saga', 'list', ...store, '--json']);

    // Assess
    expect(imported.code).toBe(3);
    expect(JSON.parse(imported.stdout)).toMatchObject({ teams: 14, registered: 14, rejected: 1 });
    expect(readFileSync(`${directory}.rejects.jsonl`, 'utf8')).toContain(
      `"line":${teams.length + 2},"reason":"team is missing"`,
    );
    expect(rated.code).toBe(0);
    const inDivision = season.filter((g) => divisionI.has(g.homeTeam) && divisionI.has(g.awayTeam));
    expect(run).toMatchObject({ status: 'completed', compensations: [] });
    expect(run.rankings).toEqual({
      calculation_id: expect.any(String),
      games_counted: inDivision.length,
      teams: 7,
    });
    expect(run.saga.steps.map((s) => s.status)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
    ]);
    expect(moved.stdout).toBe(`${teams[0]}: division updated\n`);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      status: 'compensated',
      failed_step: 'calculate_rpi',
      compensations: ['rollback_calculation', 'rollback_matches'],
      rankings: null,
    });
    expect(failed.stderr).toContain('compensated after calculate-rpi failed');
    expect(shown.stdout).toMatch(/^saga [0-9a-f-]{36} \(rpi-calculation\): completed\n/);
    expect(shown.stdout).toMatch(/ {2}update-cache {5}completed +1 {2}restore-cache\n/);
    // The directory change asked for a recalculation too (a saga the pipeline started itself).
    const sagas = (JSON.parse(listed.stdout) as { sagas: { status: string }[] }).sagas;
    expect(sagas.map((s) => s.status)).toContain('compensated');
    expect(sagas.length).toBeGreaterThanOrEqual(3);
  });

  it('explains bad command lines without doing anything', async () => {
    const noChange = await runCli(['teams', 'update', 'Ash', '--memory']);
    const badType = await runCli(['saga', 'start', 'elo', '--season', '2026', '--memory']);
    const noSeason = await runCli(['saga', 'start', 'rpi', '--memory']);

    expect(noChange).toMatchObject({ code: 2 });
    expect(noChange.stderr).toContain(
      'nothing to change: give --conference, --division or --region',
    );
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('unknown saga type "elo"; there is: rpi');
    expect(noSeason.code).toBe(2);
    expect(noSeason.stderr).toContain("required option '--season <label>' not specified");
  });
});
