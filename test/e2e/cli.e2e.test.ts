import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeRpi } from '../../domain/rpi/computeRpi.js';
import { readGames } from '../../feeds/readGames.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

describe('matchstream (built command)', () => {
  it.each([
    [[]],
    [['rpi']],
    [['generate']],
    [['start']],
    [['ingest']],
    [['schemas']],
    [['schemas', 'check']],
    [['schemas', 'list']],
    [['schemas', 'show']],
    [['schemas', 'new']],
    [['schemas', 'fixture']],
    [['inspect']],
    [['serve']],
    [['status']],
  ])('prints help for %j --help', async (command) => {
    const run = await runCli([...command, '--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: matchstream/);
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect((await runCli(['--version'])).stdout.trim()).toBe(pkg.version);
  });

  it('exits 2 on a bad command line, without a stack trace', async () => {
    const unknown = await runCli(['rpi', '--games', 'x.csv', '--frobnicate']);
    const badValue = await runCli(['rpi', '--games', 'x.csv', '--weights', '1,2']);
    const badSum = await runCli(['rpi', '--games', 'x.csv', '--weights', '0.5,0.5,0.5']);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^matchstream: unknown option '--frobnicate'\n/);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/expected 3 comma-separated numbers/);
    expect(badSum.code).toBe(2);
    expect(badSum.stderr).toBe('matchstream: weights must sum to 1, got 0.5 + 0.5 + 0.5 = 1.5\n');
  });

  it('generates the same season for the same seed', async () => {
    const a = tmp.path('a.csv');
    const b = tmp.path('b.csv');
    const args = ['generate', '--teams', '40', '--games-per-team', '10', '--seed', '11'];

    const first = await runCli([...args, '--out', a, '--json']);
    await runCli([...args, '--out', b]);
    const toStdout = await runCli(args);

    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ teams: 40, seed: 11, out: a, format: 'csv' });
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    expect(toStdout.stdout).toBe(readFileSync(a, 'utf8'));
    expect(readFileSync(a, 'utf8').split('\n')[0]).toBe(
      'match_id,season,date,home_team,away_team,home_score,away_score,neutral,decided_by,venue',
    );
  });

  describe('rpi', () => {
    const games = tmp.path('season.csv');
    const teams = tmp.path('teams.csv');
    const jsonl = tmp.path('season.jsonl');

    it('prints CSV with the exact header, full precision, equal to the engine', async () => {
      // Prepare
      await runCli([
        'generate',
        '--teams',
        '60',
        '--games-per-team',
        '12',
        '--seed',
        '5',
        '--out',
        games,
        '--teams-out',
        teams,
      ]);

      // Act
      const run = await runCli(['rpi', '--games', games, '--format', 'csv']);

      // Assess
      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('rank,team,wp,owp,oowp,rpi');
      expect(lines).toHaveLength(61);
      const expected = computeRpi((await readGames(games)).games);
      const top = expected.ratings[0];
      expect(lines[1]).toBe(
        [
          top?.rank,
          top?.team.includes(',') ? `"${top?.team}"` : top?.team,
          top?.wp,
          top?.owp,
          top?.oowp,
          top?.rpi,
        ].join(','),
      );
    });

    it('reads JSON Lines, a team list and an as-of date the same way', async () => {
      await runCli([
        'generate',
        '--teams',
        '60',
        '--games-per-team',
        '12',
        '--seed',
        '5',
        '--out',
        jsonl,
      ]);

      const fromCsv = await runCli([
        'rpi',
        '--games',
        games,
        '--teams',
        teams,
        '--as-of',
        '2026-10-01',
        '--format',
        'json',
      ]);
      const fromJsonl = await runCli([
        'rpi',
        '--games',
        jsonl,
        '--teams',
        teams,
        '--as-of',
        '2026-10-01',
        '--format',
        'json',
      ]);

      expect(fromCsv.code).toBe(0);
      const doc = JSON.parse(fromCsv.stdout);
      expect(JSON.parse(fromJsonl.stdout)).toEqual(doc);
      expect(doc.as_of).toBe('2026-10-01');
      expect(doc.games.after_as_of).toBeGreaterThan(0);
      expect(doc.profile.name).toBe('ncaa-soccer-2024');
      expect(doc.rankings[0]).toHaveProperty('rpi');
    });

    it('prints an aligned table and honours --top and the profile flags', async () => {
      const run = await runCli(['rpi', '--games', games, '--top', '5', '--tie-value', '1/2']);

      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        /^RPI — ncaa-soccer-2024\+custom · \d+ games counted · top 5 of 60 teams$/,
      );
      expect(lines[2]).toMatch(/^Rank\s+Team\s+W-L-T\s+WP\s+OWP\s+OOWP\s+RPI$/);
      expect(lines.slice(3)).toHaveLength(5);
      for (const line of lines.slice(3)) expect(line).toMatch(/ 0\.\d{4}$/);
    });

    it('reports invalid rows by line, computes nothing and exits 3; --skip-invalid computes', async () => {
      const bad = tmp.file(
        'bad.csv',
        [
          'date,home_team,away_team,home_score,away_score',
          '2024-09-01,"Saint Mary\'s, CA",B,2,1',
          '2024-09-02,B,C,x,1',
          '2024-13-01,C,A,1,1',
          '2024-09-03,C,C,1,0',
          '2024-09-04,C,"Saint Mary\'s, CA",0,0',
        ].join('\n'),
      );

      const strict = await runCli(['rpi', '--games', bad]);
      const lenient = await runCli(['rpi', '--games', bad, '--skip-invalid', '--format', 'csv']);

      expect(strict.code).toBe(3);
      expect(strict.stdout).toBe('');
      expect(strict.stderr).toBe(
        [
          `matchstream: ${bad}:3: home_score "x" is not a whole number from 0 to 999`,
          `matchstream: ${bad}:4: date "2024-13-01" is not a YYYY-MM-DD date`,
          `matchstream: ${bad}:5: team "C" cannot play itself`,
          'matchstream: 3 invalid rows; no rankings computed (use --skip-invalid to compute from the valid rows)',
          '',
        ].join('\n'),
      );
      expect(lenient.code).toBe(0);
      expect(lenient.stderr).toContain(`${bad}:3:`);
      // From the two valid games: C (OWP 1) ahead of Saint Mary's, then B.
      expect(lenient.stdout.split('\n').slice(1, 4)).toEqual([
        expect.stringMatching(/^1,C,/),
        expect.stringMatching(/^2,"Saint Mary's, CA",/),
        expect.stringMatching(/^3,B,/),
      ]);
    });

    it('reads standard input', async () => {
      const run = await runCli(['rpi', '--games', '-', '--format', 'csv'], {
        input: 'date,home_team,away_team,home_score,away_score\n2024-09-01,A,B,1,0\n',
      });

      expect(run.stdout).toBe('rank,team,wp,owp,oowp,rpi\n1,A,1,0,0,0.25\n2,B,0,0,0,0\n');
    });

    it('says which file is missing, with a stack trace only under --debug', async () => {
      const plain = await runCli(['rpi', '--games', tmp.path('nope.csv')]);
      const debug = await runCli(['--debug', 'rpi', '--games', tmp.path('nope.csv')]);

      expect(plain.code).toBe(1);
      expect(plain.stderr).toBe(
        `matchstream: ${tmp.path('nope.csv')}: cannot read: no such file\n`,
      );
      expect(debug.stderr).toMatch(/\n\s+at /);
    });
  });
});
