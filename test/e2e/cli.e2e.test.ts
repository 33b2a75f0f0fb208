import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/program.js';
import { computeRpi } from '../../domain/rpi/computeRpi.js';
import { readGames } from '../../feeds/readGames.js';
import { CLI, CLI_MODULES, type CliRun, outputOf, runCli, serveFolder } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();
/** Preloaded, it lists the modules the command loads (test/support/moduleLog.mjs). */
const MODULE_LOG = fileURLToPath(new URL('../support/moduleLog.mjs', import.meta.url));

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

  it.each([[['--version']], [['--help']], [['status', '--help']], [['rpi', '--frobnicate']]])(
    'loads none of what the commands do for %j (one module a file)',
    async (args) => {
      const log = tmp.path(`modules-${args.join('')}.txt`);
      await runCli(args, {
        entry: CLI_MODULES,
        env: { NODE_OPTIONS: `--import ${MODULE_LOG}`, MATCHSTREAM_MODULE_LOG: log },
      });

      const loaded = readFileSync(log, 'utf8').trim().split('\n');
      const packages = loaded.flatMap(
        (url) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? [],
      );
      expect(new Set(packages)).toEqual(new Set(['commander']));
      expect(loaded.filter((url) => url.includes('/cli/actions/'))).toEqual([]);
    },
  );

  it.each([[['--version']], [['--help']], [['status', '--help']], [['rpi', '--frobnicate']]])(
    'loads a small part of the bundle for %j',
    async (args) => {
      const log = tmp.path(`bundle-${args.join('')}.txt`);
      await runCli(args, {
        env: { NODE_OPTIONS: `--import ${MODULE_LOG}`, MATCHSTREAM_MODULE_LOG: log },
      });

      const loaded = new Set(readFileSync(log, 'utf8').trim().split('\n'));
      const bundleDir = dirname(CLI);
      const bundle = readdirSync(bundleDir)
        .filter((name) => name === 'matchstream.js' || name.startsWith('matchstream-'))
        .map((name) => join(bundleDir, name));
      const bytes = (files: readonly string[]) =>
        files.reduce((sum, file) => sum + statSync(file).size, 0);
      // The bundle and nothing else: every package the commands use is in the bundle's chunks,
      // and those of the commands (the SDK, avsc, the servers) are loaded only when run.
      expect([...loaded].filter((url) => !url.includes('/dist/cli/matchstream'))).toEqual([]);
      const read = bundle.filter((file) => loaded.has(`file://${file}`));
      expect(read).toContain(CLI);
      expect(bytes(read)).toBeLessThan(bytes(bundle) / 10);
    },
  );

  it('exits 2 on a bad command line, without a stack trace', async () => {
    const unknown = await runCli(['rpi', '--games', 'x.csv', '--frobnicate']);
    const badValue = await runCli(['rpi', '--games', 'x.csv', '--weights', '1,2']);
    const badSum = await runCli(['rpi', '--games', 'x.csv', '--weights', '0.5,0.5,0.5']);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "matchstream: unknown option '--frobnicate' (run with --help for usage)\n",
    );
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/expected 3 comma-separated numbers/);
    expect(badSum.code).toBe(2);
    expect(badSum.stderr).toBe('matchstream: weights must sum to 1, got 0.5 + 0.5 + 0.5 = 1.5\n');
  });

  it.each([[[]], [['saga']], [['teams']], [['help', 'nope']]])(
    'exits 2 for %j, a command missing or unknown, with the usage on standard error',
    async (args) => {
      // Act
      const run = await runCli(args);

      // Assess: nothing was done, and a script sees it failed.
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^Usage: matchstream/);
    },
  );

  it.each([
    ['dead-letters', 'list, show or redrive'],
    ['saga', 'start, resume, show or list'],
    ['teams', 'import or update'],
    ['projections', 'list, activate or drop'],
    ['archive', 'export, close-season, expire or list'],
    ['schemas', 'check, list, show, new or fixture'],
  ])(
    'exits 2 for %s given an option and no command, saying a command is missing',
    async (group, names) => {
      // Act
      const run = await runCli([group, '--data-dir', 'folder']);

      // Assess
      expect(run).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `matchstream: ${group} needs a command (${names}) before '--data-dir' (run with --help for usage)\n`,
      });
    },
  );

  it.each([[['help']], [['help', 'saga']]])('exits 0 for %j, help asked for', async (args) => {
    // Act
    const run = await runCli(args);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: matchstream/);
  });

  /** Every command that takes --data-dir, as the program declares them. */
  const withDataDir = (command: Command, path: string[] = []): string[][] => [
    ...(command.options.some((o) => o.long === '--data-dir') ? [path] : []),
    ...command.commands.flatMap((sub) => withDataDir(sub, [...path, sub.name()])),
  ];

  it('refuses an empty --data-dir in every command that takes one, storing nothing in the current folder', async () => {
    const cwd = tmp.path('empty-data-dir');
    mkdirSync(cwd);
    const feed = tmp.file(
      'empty-data-dir.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n',
    );
    const commands = withDataDir(buildProgram());
    expect(commands).toEqual(
      expect.arrayContaining([['ingest'], ['status'], ['start'], ['serve']]),
    );

    // What a user ran first: the feed went into ./dynamodb. Then every command, as declared.
    for (const args of [['ingest', feed], ...commands]) {
      const run = await runCli([...args, '--data-dir', ''], { cwd });

      expect({ args, code: run.code, stderr: run.stderr.split('\n')[0] }).toEqual({
        args,
        code: 2,
        stderr:
          "matchstream: option '--data-dir <dir>' argument '' is invalid. expected a folder, not an empty path (run with --help for usage)",
      });
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses a file as --data-dir, or a path under one, in every command that takes one, naming the file', async () => {
    const file = tmp.file('not-a-folder', 'x\n');
    const feed = tmp.file(
      'file-data-dir.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n',
    );
    const commands = withDataDir(buildProgram());
    for (const args of [['ingest', feed], ...commands]) {
      const onFile = await runCli([...args, '--data-dir', file]);
      const under = await runCli([...args, '--data-dir', join(file, 'store')]);

      expect({ args, code: onFile.code, stderr: onFile.stderr }).toEqual({
        args,
        code: 2,
        stderr: `matchstream: option '--data-dir <dir>' argument '${file}' is invalid. ${file} is a file, not a folder (run with --help for usage)\n`,
      });
      expect({ args, code: under.code, stderr: under.stderr.split('\n')[0] }).toEqual({
        args,
        code: 2,
        stderr: `matchstream: option '--data-dir <dir>' argument '${join(file, 'store')}' is invalid. ${join(file, 'store')} cannot be a folder: ${file} is a file (run with --help for usage)`,
      });
    }
    expect(readFileSync(file, 'utf8')).toBe('x\n');
  });

  it('refuses an empty season label in every command that takes --season', async () => {
    const withSeason = (command: Command, path: string[] = []): string[][] => [
      ...(command.options.some((o) => o.long === '--season') ? [path] : []),
      ...command.commands.flatMap((sub) => withSeason(sub, [...path, sub.name()])),
    ];
    const commands = withSeason(buildProgram());
    expect(commands).toEqual(
      expect.arrayContaining([['generate'], ['rpi'], ['start'], ['saga', 'start']]),
    );

    for (const args of commands) {
      const run = await runCli([...args, '--season', '', '--memory']);

      expect({ args, code: run.code, stderr: run.stderr.split('\n')[0] }).toEqual({
        args,
        code: 2,
        stderr: expect.stringMatching(
          /^matchstream: option '--season <\w+>' argument '' is invalid\. expected a season label such as 2025 \(1 to 200 characters\) \(run with --help for usage\)$/,
        ),
      });
    }
  });

  it.skipIf(!existsSync('/dev/full'))(
    'says in one line that standard output cannot be written (a full disk), whatever the command',
    async () => {
      const season = tmp.path('to-full.csv');
      await runCli(['generate', '--team-count', '20', '--games-per-team', '4', '--out', season]);
      const bad = tmp.file(
        'to-full-bad.csv',
        'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n2026-09-02,A,,1,0\n',
      );
      const full = openSync('/dev/full', 'w');

      try {
        for (const args of [
          ['rpi', season, '--format', 'csv'],
          ['rpi', season, '--format', 'json'],
          ['generate'],
          ['ingest', season, '--memory', '--json'],
          ['schemas', 'list'],
        ]) {
          const run = await runCli(args, { stdoutFd: full });

          expect({ args, code: run.code, stderr: run.stderr }).toEqual({
            args,
            code: 1,
            stderr: 'matchstream: cannot write to standard output: no space left on device\n',
          });
        }
        // The rejected rows went nowhere: it says so (exit 1), not that rows were rejected (3).
        const rejects = await runCli(['ingest', bad, '--memory', '--rejects', '-'], {
          stdoutFd: full,
        });
        expect(rejects.code).toBe(1);
        expect(rejects.stderr).toMatch(
          /\nmatchstream: cannot write to standard output: no space left on device\n$/,
        );
      } finally {
        closeSync(full);
      }
    },
  );

  it('stops quietly when the reader of its standard output goes away (| head)', async () => {
    const child = spawn(process.execPath, [CLI, 'generate', '--team-count', '3000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // The first chunk read, the reader goes: the command's next writes meet a closed pipe.
    child.stdout.once('data', () => child.stdout.destroy());

    const code = await new Promise((resolve) => child.on('close', resolve));

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
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
      // Rows kept aside, the rest done: exit 3, as ingest gives, with the rankings printed.
      expect(lenient.code).toBe(3);
      expect(lenient.stderr).toContain(`${bad}:3:`);
      expect(lenient.stderr).toMatch(
        /^matchstream: 3 invalid rows skipped; the rankings are of the valid rows\n$/m,
      );
      // From the two valid games: C (OWP 1) ahead of Saint Mary's, then B.
      expect(lenient.stdout.split('\n').slice(1, 4)).toEqual([
        expect.stringMatching(/^1,C,/),
        expect.stringMatching(/^2,"Saint Mary's, CA",/),
        expect.stringMatching(/^3,B,/),
      ]);
    });

    it("names the feed's seasons: a warning for several ranked together, an error for one it has no game of", async () => {
      const two = tmp.file(
        'two-seasons.csv',
        'date,home_team,away_team,home_score,away_score,season\n2025-09-01,A,B,1,0,2025\n2026-09-01,A,B,0,1,2026\n',
      );

      const together = await runCli(['rpi', '--games', two, '--format', 'csv']);
      const one = await runCli(['rpi', '--games', two, '--season', '2026', '--format', 'csv']);
      const none = await runCli(['rpi', '--games', two, '--season', '1999']);

      expect(together.code).toBe(0);
      expect(together.stderr).toBe(
        `matchstream: warning: ${two} holds games of 2 seasons ("2025", "2026"), ranked together: --season LABEL ranks one\n`,
      );
      expect(one.code).toBe(0);
      expect(one.stderr).toBe('');
      expect(one.stdout).toBe('rank,team,wp,owp,oowp,rpi\n1,B,1,0,0,0.25\n2,A,0,0,0,0\n');
      expect(none.code).toBe(1);
      expect(none.stdout).toBe('');
      expect(none.stderr).toBe(
        `matchstream: ${two} has no game of season "1999": its seasons are "2025", "2026"\n`,
      );
    });

    it('refuses an --as-of before the first game, naming its day, instead of an empty table', async () => {
      const two = tmp.file(
        'as-of.csv',
        'date,home_team,away_team,home_score,away_score,season\n2025-09-01,A,B,1,0,2025\n2026-09-05,A,B,0,1,2026\n',
      );

      const one = tmp.file(
        'as-of-one.csv',
        'date,home_team,away_team,home_score,away_score\n2025-09-01,A,B,1,0\n',
      );

      const before = await runCli(['rpi', '--games', one, '--as-of', '2025-08-01']);
      const ofSeason = await runCli(['rpi', two, '--season', '2026', '--as-of', '2026-09-01']);
      const onTheDay = await runCli(['rpi', two, '--season', '2026', '--as-of', '2026-09-05']);

      expect(before.code).toBe(1);
      expect(before.stdout).toBe('');
      expect(before.stderr).toBe(
        `matchstream: ${one} has no game played on or before 2025-08-01: the first was on 2025-09-01\n`,
      );
      expect(ofSeason.code).toBe(1);
      expect(ofSeason.stderr).toBe(
        `matchstream: ${two} has no game of season "2026" played on or before 2026-09-01: the first was on 2026-09-05\n`,
      );
      expect(onTheDay.code).toBe(0);
      expect(onTheDay.stdout).toMatch(/^Rank/m);
    });

    it('reads standard input', async () => {
      const run = await runCli(['rpi', '--games', '-', '--format', 'csv'], {
        input: 'date,home_team,away_team,home_score,away_score\n2024-09-01,A,B,1,0\n',
      });

      expect(run.stdout).toBe('rank,team,wp,owp,oowp,rpi\n1,A,1,0,0,0.25\n2,B,0,0,0,0\n');
    });

    it('refuses N and Y in the neutral column unless --neutral-true/--neutral-false map them', async () => {
      const sites = tmp.file(
        'sites.csv',
        'date,home_team,away_team,home_score,away_score,neutral\n2024-09-01,A,B,1,0,N\n2024-09-02,B,C,2,2,H\n',
      );

      const unmapped = await runCli(['rpi', sites]);
      const mapped = await runCli([
        'rpi',
        sites,
        '--neutral-true',
        'N',
        '--neutral-false',
        'H,A',
        '--format',
        'csv',
      ]);
      const both = await runCli(['rpi', sites, '--neutral-true', 'N', '--neutral-false', 'n']);

      expect(unmapped.code).toBe(3);
      expect(unmapped.stderr).toContain(
        `matchstream: ${sites}:2: neutral "N" is ambiguous (feeds write N for "neutral site" as well as for "no")`,
      );
      expect(mapped.code).toBe(0);
      expect(mapped.stdout.split('\n')).toHaveLength(5);
      expect(both.code).toBe(2);
      expect(both.stderr).toBe(
        'matchstream: "N" is given to both --neutral-true and --neutral-false: it can mean only one\n',
      );
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

    it('refuses an empty path for a file to read as a usage error (rpi, ingest, start, teams import)', async () => {
      const games = tmp.file('empty-path.csv', 'date,home_team,away_team,home_score,away_score\n');
      const argument = (name: string) =>
        `matchstream: command-argument value '' is invalid for argument '${name}'. expected a file ("-": standard input), not an empty path (run with --help for usage)\n`;
      const option = (flag: string) =>
        `matchstream: option '${flag}' argument '' is invalid. expected a file ("-": standard input), not an empty path (run with --help for usage)\n`;

      const runs = [
        [await runCli(['rpi', '']), argument('file')],
        [await runCli(['rpi', '--games', '']), option('--games <file>')],
        [await runCli(['rpi', games, '--teams-file', '']), option('--teams-file <file>')],
        [await runCli(['ingest', '', '--memory']), argument('file')],
        [await runCli(['start', '', '--memory', '--quiet']), argument('games')],
        [await runCli(['teams', 'import', '', '--memory']), argument('file')],
      ] as const;

      for (const [run, said] of runs) {
        expect(run.code, run.stderr).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(said);
      }
    });

    it('fails on a feed it cannot read before making a data folder for it (start, ingest)', async () => {
      const missing = tmp.path('typo.csv');
      const folder = tmp.path('typo');
      mkdirSync(tmp.path('a-folder'), { recursive: true });

      const started = await runCli(['start', missing, '--data-dir', folder, '--quiet']);
      const ingested = await runCli(['ingest', missing, '--data-dir', folder]);
      const directory = await runCli(['ingest', tmp.path('a-folder'), '--data-dir', folder]);

      for (const run of [started, ingested]) {
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(`matchstream: ${missing}: cannot read: no such file\n`);
      }
      expect(directory.code).toBe(1);
      expect(directory.stderr).toBe(
        `matchstream: ${tmp.path('a-folder')}: cannot read: a folder, not a file\n`,
      );
      expect(existsSync(folder)).toBe(false);
    });
  });

  /** The command run by bash with `<(cat FILE)` where `{}` stands in its arguments. */
  function withSubstitution(args: readonly string[], file: string, cwd: string): Promise<CliRun> {
    const line = args.map((a) => (a === '{}' ? '<(cat "$2")' : `'${a}'`)).join(' ');
    return outputOf(
      spawn('bash', ['-c', `exec "$0" "$1" ${line}`, process.execPath, CLI, file], {
        cwd,
        env: { ...process.env, NO_COLOR: '1' },
      }),
    );
  }

  it('rpi takes --json as every command that prints for scripts does, and refuses it with another --format', async () => {
    const feed = tmp.file(
      'rpi-json.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n2026-09-02,B,C,2,2\n',
    );
    const json = await runCli(['rpi', feed, '--json']);
    const format = await runCli(['rpi', feed, '--format', 'json']);
    const both = await runCli(['rpi', feed, '--json', '--format', 'csv']);

    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(json.stdout).toBe(format.stdout);
    expect(both).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: 'matchstream: --json and --format csv ask for two formats: give one\n',
    });
  });

  it('reads a feed from a pipe (<(zcat feed.gz) and the like) once, as standard input: start, ingest, rpi, teams import', async () => {
    const cwd = tmp.path('piped');
    mkdirSync(cwd);
    const feed = tmp.file(
      'piped.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n2026-09-02,B,C,2,2\n2026-09-03,C,A,0,3\n',
    );
    const bad = tmp.file(
      'piped-bad.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n2026-09-02,B,C,x,2\n',
    );
    const teams = tmp.file('piped-teams.csv', 'team,conference\nA,East\nB,East\n');

    const started = await withSubstitution(['start', '--games', '{}', '--json'], feed, cwd);
    const ingested = await withSubstitution(['ingest', '{}', '--memory', '--json'], bad, cwd);
    const rated = await withSubstitution(['rpi', '--games', '{}', '--json'], feed, cwd);
    const imported = await withSubstitution(['teams', 'import', '{}', '--memory'], teams, cwd);

    // Rated without a check before the ingest: a pipe is read once.
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toMatch(/^ingest: 3 rows stored: 3 new/m);
    expect(started.stderr).not.toMatch(/^check:/m);
    expect(JSON.parse(started.stdout)).toMatchObject({ games_counted: 3 });
    expect(JSON.parse(started.stdout).rankings).toHaveLength(3);
    // The bad row rejected, the good one stored; the rejects in the current folder, since
    // nothing can be written beside a pipe.
    expect(ingested.code, ingested.stderr).toBe(3);
    expect(JSON.parse(ingested.stdout)).toMatchObject({ appended: 1, rejected: 1 });
    expect(readFileSync(join(cwd, 'rejects.jsonl'), 'utf8')).toMatch(/"line":3/);
    expect(rated).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(rated.stdout).rankings).toHaveLength(3);
    expect(imported).toMatchObject({ code: 0, stderr: '' });
    expect(imported.stdout).toMatch(/: 2 teams registered, 0 updated, 0 unchanged/);
  });

  it('teams import and teams update go through the server holding the folder, whose pipeline takes the changes in', async () => {
    const data = tmp.path('teams-served');
    const feed = tmp.file(
      'teams-served.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n',
    );
    const list = tmp.file('teams-served-list.csv', 'team,conference\nA,East\nB,West\nC,North\n');
    await runCli(['ingest', feed, '--data-dir', data]);
    const server = await serveFolder(data);
    /** The team as the server's read model has it, once it has `conference`. */
    const team = async (name: string, conference: string) => {
      for (let tries = 0; tries < 100; tries++) {
        const found = (await (await fetch(`${server.url}/teams/${name}`)).json()) as {
          conference?: string;
        };
        if (found.conference === conference) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    };

    try {
      const imported = await runCli(['teams', 'import', list, '--data-dir', data, '--json']);
      const updated = await runCli([
        'teams',
        'update',
        'A',
        '--conference',
        'South',
        '--data-dir',
        data,
        '--json',
      ]);

      expect(imported).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(imported.stdout)).toMatchObject({
        store: `the server holding ${data} (${server.url})`,
        registered: 1,
        updated: 2,
        unchanged: 0,
        failed: 0,
      });
      expect(updated).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(updated.stdout)).toEqual({
        team: 'A',
        outcome: 'updated',
        changed: ['conference'],
      });
      expect(await team('A', 'South')).toMatchObject({ team_id: 'A', version: 3 });
      expect(await team('C', 'North')).toMatchObject({ team_id: 'C', version: 1 });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('serve on a data folder that does not exist says it makes a new one, before it serves', async () => {
    const data = tmp.path('typo');

    const served = await serveFolder(data);
    await served.stop();

    expect(served.stderr.split('\n')[0]).toBe(`new data folder ${data}: it holds nothing yet`);
  });

  describe('consistency across commands', () => {
    const season = tmp.path('consistent.csv');
    const list = tmp.path('consistent-teams.csv');

    it('takes the games file of rpi as an argument (--games still works) and the team list as --teams-file (--teams still works)', async () => {
      // Prepare
      await runCli([
        'generate',
        '--team-count',
        '12',
        '--games-per-team',
        '4',
        '--out',
        season,
        '--teams-out',
        list,
      ]);

      // Act
      const byArgument = await runCli(['rpi', season, '--teams-file', list, '--format', 'csv']);
      const byOption = await runCli(['rpi', '--games', season, '--teams', list, '--format', 'csv']);
      const both = await runCli(['rpi', season, '--games', list]);
      const none = await runCli(['rpi']);
      const twoStdins = await runCli(['rpi', '-', '--teams-file', '-']);
      const help = await runCli(['rpi', '--help']);

      // Assess
      expect(byArgument.code).toBe(0);
      expect(byArgument.stdout.split('\n')).toHaveLength(12 + 2);
      expect(byOption.stdout).toBe(byArgument.stdout);
      expect([both.code, none.code, twoStdins.code]).toEqual([2, 2, 2]);
      expect(both.stderr).toMatch(/^matchstream: two games files given/);
      expect(none.stderr).toMatch(/^matchstream: give the games file: matchstream rpi FILE/);
      // A user who ingested into a data folder is told how to rate what it holds.
      expect(none.stderr).toContain('"matchstream saga start rpi --season S"');
      expect(none.stderr.trim().split('\n')).toHaveLength(1);
      expect(twoStdins.stderr).toMatch(
        /^matchstream: the games and the team list cannot both come from standard input/,
      );
      expect(help.stdout).toMatch(/Usage: matchstream rpi \[options\] \[file\]/);
      expect(help.stdout).toContain('--teams-file <file>');
      expect(help.stdout).not.toMatch(/--teams <|--games </);
    });

    it('writes a team list named .jsonl as JSON Lines, which teams import and rpi --teams-file read', async () => {
      // Arrange
      const games = tmp.path('listed.csv');
      const csvList = tmp.path('listed-teams.csv');
      const jsonList = tmp.path('listed-teams.jsonl');
      const generate = (teams: string) =>
        runCli([
          'generate',
          '--team-count',
          '12',
          '--games-per-team',
          '4',
          '--out',
          games,
          '--teams-out',
          teams,
        ]);
      await generate(csvList);
      await generate(jsonList);

      // Act
      const imported = await runCli(['teams', 'import', jsonList, '--memory', '--json']);
      const byJson = await runCli(['rpi', games, '--teams-file', jsonList, '--format', 'csv']);
      const byCsv = await runCli(['rpi', games, '--teams-file', csvList, '--format', 'csv']);

      // Assess
      const lines = readFileSync(jsonList, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(12);
      expect(JSON.parse(lines[0] ?? '')).toEqual({
        team: expect.any(String),
        conference: expect.any(String),
      });
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ teams: 12, registered: 12, rejected: 0 });
      expect(byJson.code).toBe(0);
      expect(byJson.stdout).toBe(byCsv.stdout);
    });

    it('names the team count of generate --team-count (--teams still works) and writes "-" to standard output', async () => {
      const byName = await runCli([
        'generate',
        '--team-count',
        '10',
        '--games-per-team',
        '3',
        '--seed',
        '4',
      ]);
      const byOldName = await runCli([
        'generate',
        '--teams',
        '10',
        '--games-per-team',
        '3',
        '--seed',
        '4',
      ]);
      const dash = await runCli([
        'generate',
        '--team-count',
        '10',
        '--games-per-team',
        '3',
        '--seed',
        '4',
        '--out',
        '-',
      ]);
      const teamsOnStdout = await runCli([
        'generate',
        '--team-count',
        '10',
        '--games-per-team',
        '3',
        '--seed',
        '4',
        '--out',
        tmp.path('g.csv'),
        '--teams-out',
        '-',
      ]);
      const clash = await runCli(['generate', '--team-count', '10', '--teams-out', '-']);
      const summaryAndTeams = await runCli([
        'generate',
        '--team-count',
        '10',
        '--out',
        tmp.path('g2.csv'),
        '--teams-out',
        '-',
        '--json',
      ]);
      const help = await runCli(['generate', '--help']);

      expect(byName.code).toBe(0);
      expect(byOldName.stdout).toBe(byName.stdout);
      expect(dash.stdout).toBe(byName.stdout);
      expect(existsSync(join(process.cwd(), '-'))).toBe(false);
      expect(teamsOnStdout.stdout.split('\n')[0]).toBe('team,conference');
      expect(teamsOnStdout.stdout.trimEnd().split('\n')).toHaveLength(11);
      expect(clash.code).toBe(2);
      // The team list and the JSON summary on one standard output would be neither CSV nor JSON.
      expect(summaryAndTeams.code).toBe(2);
      expect(summaryAndTeams.stdout).toBe('');
      expect(summaryAndTeams.stderr).toMatch(/^matchstream: --json .*--teams-out -/);
      expect(existsSync(tmp.path('g2.csv'))).toBe(false);
      expect(help.stdout).toContain('--team-count <n>');
      // The team list takes the format of its name's extension, as the games do.
      expect(help.stdout.replace(/\s+/g, ' ')).toContain(
        '--teams-out <file> also write the team list (team,conference): CSV, or JSON Lines for .jsonl',
      );
      expect(help.stdout).not.toMatch(/--teams </);
    });

    it('says "1 invalid row" and "1 row rejected", not "1 rows"', async () => {
      const bad = tmp.file(
        'one-bad.csv',
        'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n2026-09-02,A,B,x,0\n',
      );
      const teams = tmp.file('one-bad-teams.csv', 'team\nA\n\u0001bad\n');

      const rpi = await runCli(['rpi', bad]);
      const imported = await runCli(['teams', 'import', teams, '--memory', '--no-progress']);

      expect(rpi.stderr).toContain('matchstream: 1 invalid row; no rankings computed');
      expect(imported.code).toBe(3);
      expect(imported.stdout).toMatch(
        /: 1 team registered, 0 updated, 0 unchanged, 1 row rejected/,
      );
      expect(imported.stderr).toMatch(/matchstream: 1 row rejected; see /);
    });

    it('refuses a --type that names no event type, before it reads the store', async () => {
      // Act
      const typo = await runCli(
        [
          'replay',
          '--to',
          'file:-',
          '--memory',
          '--type',
          'MatchRecorded',
          '--type',
          'matchrecorded',
        ],
        { cwd: tmp.dir },
      );
      const unknown = await runCli(
        ['replay', '--to', 'file:-', '--data-dir', tmp.path('no-such-folder'), '--type', 'Goal'],
        { cwd: tmp.dir },
      );

      // Assess
      expect(typo.code).toBe(2);
      expect(typo.stdout).toBe('');
      expect(typo.stderr).toMatch(
        /^matchstream: --type matchrecorded is no event type: did you mean MatchRecorded\? "matchstream schemas list" names the \d+ there are\n$/,
      );
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(
        /^matchstream: --type Goal is no event type: "matchstream schemas list"/,
      );
    });

    it('replays to standard output with --to file:-, never to a file named "-"', async () => {
      // Prepare: a store with a few events.
      const data = tmp.path('replayed');
      await runCli(['ingest', season, '--data-dir', data, '--no-progress']);

      // Act
      const run = await runCli(['replay', '--to', 'file:-', '--data-dir', data, '--no-progress'], {
        cwd: tmp.dir,
      });
      const again = await runCli(
        ['replay', '--to', 'file:-', '--data-dir', data, '--no-progress'],
        { cwd: tmp.dir },
      );
      const json = await runCli(['replay', '--to', 'file:-', '--data-dir', data, '--json'], {
        cwd: tmp.dir,
      });

      // Assess
      expect(run.code).toBe(0);
      const events = run.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.length).toBeGreaterThan(12);
      expect(events[0]).toHaveProperty('event_type');
      expect(run.stderr).toMatch(/^replayed \d+ events to standard output/);
      expect(existsSync(join(tmp.dir, '-'))).toBe(false);
      // A pipe cannot be resumed: each run writes every event.
      expect(again.stdout.trimEnd().split('\n')).toHaveLength(events.length);
      expect(json.code).toBe(2);
    });
  });
});
