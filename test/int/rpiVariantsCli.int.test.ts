import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

// `matchstream rpi --variant` as users run it (the built command; `npm test` builds it first).
const tmp = tempDir('matchstream-rpi-variants-');
// A and B play in C1, C and D in C2; A-B and C-D are conference games.
const games = tmp.file(
  'games.csv',
  [
    'date,home_team,away_team,home_score,away_score,neutral',
    '2024-09-01,A,B,1,0,false',
    '2024-09-02,A,C,2,0,false',
    '2024-09-03,C,D,1,1,false',
    '2024-09-04,B,D,0,1,false',
    '2024-09-05,C,B,1,0,true',
    '',
  ].join('\n'),
);
const teams = tmp.file('teams.csv', 'team,conference\nA,C1\nB,C1\nC,C2\nD,C2\n');
const sites = (home: number, neutral: number, away: number) => ({ home, neutral, away });
const adjustments = tmp.file(
  'tiers.json',
  JSON.stringify({
    games: 'non-conference',
    tiers: {
      'bonus-1': { first: 1, last: 1, win: sites(0.002, 0.0022, 0.0024), tie: sites(0, 0, 0) },
      'bonus-2': { first: 2, last: 2, win: sites(0.0016, 0.0018, 0.002), tie: sites(0, 0, 0) },
      'bonus-3': { first: 3, last: 3, win: sites(0.001, 0.0011, 0.0012), tie: sites(0, 0, 0) },
      'penalty-1': { first: 2, last: 2, tie: sites(0, 0, 0), loss: sites(0.002, 0.0017, 0.0015) },
      'penalty-2': { first: 1, last: 1, tie: sites(0, 0, 0), loss: sites(0.0026, 0.0024, 0.0022) },
    },
  }),
);

describe('matchstream rpi --variant', () => {
  it('prints the non-conference RPI with the unadjusted RPI and rank beside it', async () => {
    // Act
    const table = await runCli([
      'rpi',
      games,
      '--teams-file',
      teams,
      '--variant',
      'non-conference',
    ]);
    const json = await runCli([
      'rpi',
      games,
      '--teams-file',
      teams,
      '--variant',
      'non-conference',
      '--format',
      'json',
    ]);

    // Assess: A's one non-conference game is its win over C (README "The RPI"; unit tests by hand).
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /ncaa-soccer-2024 · non-conference · 5 games counted · 3 non-conference/,
    );
    expect(table.stdout).toMatch(/Rank +Team +W-L-T +WP +OWP +OOWP +NC RPI +Unadj RPI +Unadj rank/);
    expect(table.stdout).toMatch(/1 +A +1-0-0 +1\.0000 +0\.7500 +0\.6667 +0\.7917 +0\.5938 +1/);
    const doc = JSON.parse(json.stdout);
    expect(doc.variant).toBe('non-conference');
    expect(doc.games).toMatchObject({ non_conference: 3, unknown_conference: 0 });
    expect(doc.rankings[0]).toMatchObject({ rank: 1, team: 'A', unadjusted_rank: 1, games: 1 });
    expect(doc.rankings[0].rpi).toBeCloseTo(0.25 + 0.5 * 0.75 + 0.25 * (2 / 3), 12);
    expect(doc.rankings[0].unadjusted_rpi).toBeCloseTo(0.59375, 12);
  });

  it('prints the adjusted RPI from an adjustments file, with the adjustment and the unadjusted RPI', async () => {
    // Act
    const run = await runCli([
      'rpi',
      games,
      '--teams-file',
      teams,
      '--variant',
      'adjusted',
      '--adjustments',
      adjustments,
      '--format',
      'csv',
    ]);

    // Assess: A beat #2 C at home (bonus-2 win, home); B lost at home to #3 D, second from the bottom.
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const [header, ...rows] = run.stdout.trim().split('\n');
    expect(header).toBe('rank,team,wp,owp,oowp,rpi,unadjusted_rank,unadjusted_rpi,adjustment');
    expect(rows[0]).toMatch(/^1,A,.*,1,0\.59375,0\.0016$/);
    expect(rows[3]).toMatch(/^4,B,.*,4,0\.39930555555555\d*,-0\.002$/);
  });

  it('reads the adjustments from standard input given "-", when the games and teams come from files', async () => {
    // Act
    const args = ['rpi', games, '--teams-file', teams, '--variant', 'adjusted', '--format', 'csv'];
    const fromFile = await runCli([...args, '--adjustments', adjustments]);
    const fromStdin = await runCli([...args, '--adjustments', '-'], {
      input: readFileSync(adjustments, 'utf8'),
    });
    const twice = await runCli(['rpi', '-', '--variant', 'adjusted', '--adjustments', '-'], {
      input: readFileSync(games, 'utf8'),
    });

    // Assess
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stderr).toBe('');
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(
      'matchstream: the games and the adjustments cannot both come from standard input\n',
    );
  });

  it('refuses a bad variant, an adjusted RPI without a table, and missing conferences in one line each', async () => {
    // Act
    const bad = await runCli(['rpi', games, '--variant', 'adjustd']);
    const hockey = await runCli([
      'rpi',
      games,
      '--profile',
      'ncaa-hockey-2013',
      '--variant',
      'adjusted',
    ]);
    const incomplete = await runCli(['rpi', games, '--teams-file', teams, '--variant', 'adjusted']);
    const noConferences = await runCli(['rpi', games, '--variant', 'non-conference']);

    // Assess
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "matchstream: option '--variant <variant>' argument 'adjustd' is invalid. Allowed choices are unadjusted, adjusted, non-conference. (run with --help for usage)\n",
    );
    expect(hockey.code).toBe(2);
    expect(hockey.stderr).toBe(
      'matchstream: profile "ncaa-hockey-2013" has no bonus and penalty table, so it has no adjusted RPI (use --variant unadjusted)\n',
    );
    expect(incomplete.code).toBe(2);
    expect(incomplete.stderr).toMatch(
      /^matchstream: the adjusted RPI of profile "ncaa-soccer-2024" needs values no published source gave: tiers\.bonus-1\.\*, .*\n$/,
    );
    expect(noConferences.code).toBe(2);
    expect(noConferences.stderr).toMatch(
      /needs each team's conference: give the conferences \(CLI: a "conference" column in --teams-file\)\n$/,
    );
  });

  it('keeps the default output as it was and shows the quality-win bonus under ncaa-hockey-2013', async () => {
    const plain = await runCli(['rpi', games, '--format', 'csv']);
    const hockey = await runCli(['rpi', games, '--profile', 'ncaa-hockey-2013']);

    expect(plain.stdout.split('\n')[0]).toBe('rank,team,wp,owp,oowp,rpi');
    expect(hockey.code).toBe(0);
    expect(hockey.stdout).toMatch(/Rank +Team +W-L-T +WP +OWP +OOWP +RPI +Bonus/);
  });
});
