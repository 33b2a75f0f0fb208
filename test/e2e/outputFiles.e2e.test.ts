import { closeSync, existsSync, linkSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, serveFolder } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/** A games feed with one bad row (a team missing), so that a run has rows to reject. */
const GAMES =
  'match_id,season,date,home_team,away_team,home_score,away_score\n' +
  'm1,2026,2026-09-01,Alder,Birch,1,0\n' +
  'm2,2026,2026-09-02,Alder,,2,2\n';
const TEAMS = 'team,conference\nAlder,East\nBirch,West\n,North\n';

describe('files the commands write', () => {
  describe('an output that is an input', () => {
    it('ingest refuses a rejects file that is its feed, by any name, touching nothing', async () => {
      const feed = tmp.file('victim.csv', GAMES);
      symlinkSync(feed, tmp.path('link.jsonl'));
      linkSync(feed, tmp.path('hard-link.csv'));
      const data = tmp.path('victim-data');
      // `ingest - --rejects victim.csv < victim.csv`
      const input = openSync(feed, 'r');

      const runs = [
        await runCli(['ingest', feed, '--data-dir', data, '--rejects', feed]),
        await runCli(['ingest', feed, '--memory', '--rejects', tmp.path('link.jsonl')]),
        await runCli(['ingest', tmp.path('hard-link.csv'), '--memory', '--rejects', feed]),
        await runCli(['ingest', '-', '--memory', '--rejects', feed], { stdinFd: input }),
      ];
      closeSync(input);

      expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
      expect(runs[0]?.stderr).toBe(
        `matchstream: the rejects file ${feed} is the feed ${feed} itself: writing it would replace the feed; name another with --rejects\n`,
      );
      expect(runs[1]?.stderr).toMatch(/^matchstream: the rejects file .*link\.jsonl is the feed /);
      expect(readFileSync(feed, 'utf8')).toBe(GAMES);
      expect(existsSync(data)).toBe(false);
    });

    it('ingest through a running server refuses it the same', async () => {
      const feed = tmp.file('served.csv', GAMES);
      const data = tmp.path('served-data');
      await runCli(['ingest', tmp.file('first.csv', GAMES), '--data-dir', data]);
      const server = await serveFolder(data);

      try {
        const run = await runCli(['ingest', feed, '--data-dir', data, '--rejects', feed]);

        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/^matchstream: the rejects file .* is the feed .* itself/);
        expect(readFileSync(feed, 'utf8')).toBe(GAMES);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    });

    it('teams import refuses a rejects file that is its team list', async () => {
      const list = tmp.file('teams.csv', TEAMS);

      const run = await runCli(['teams', 'import', list, '--memory', '--rejects', list]);

      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        `matchstream: the rejects file ${list} is the team list ${list} itself: writing it would replace the list; name another with --rejects\n`,
      );
      expect(readFileSync(list, 'utf8')).toBe(TEAMS);
    });

    it('generate refuses one file for the games and the team list', async () => {
      const out = tmp.path('both.csv');

      const run = await runCli(['generate', '--out', out, '--teams-out', tmp.path('./both.csv')]);

      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^matchstream: --out .* and --teams-out .* are the same file/);
      expect(existsSync(out)).toBe(false);
    });

    it('replay refuses one file for the events and the unreadable ones', async () => {
      const run = await runCli(
        ['replay', '--to', 'file:unreadable-events.jsonl', '--memory', '--no-progress'],
        { cwd: tmp.dir },
      );

      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        'matchstream: --to file:unreadable-events.jsonl and --unreadable unreadable-events.jsonl (its default) are the same file: the events and the unreadable ones would overwrite each other; name another for one\n',
      );
    });
  });

  describe('an output that cannot be written', () => {
    const nowhere = (name: string) => tmp.path(`no-such-folder/${name}`);
    const cannotOpen = (path: string) =>
      `matchstream: ${path}: cannot open: no such file or directory\n`;

    it('generate says so in one line, and leaves the other file as it was', async () => {
      const kept = tmp.file('kept.csv', 'kept\n');

      const games = await runCli(['generate', '--out', nowhere('games.csv')]);
      const teams = await runCli(['generate', '--out', kept, '--teams-out', nowhere('teams.csv')]);

      expect(games).toMatchObject({ code: 1, stderr: cannotOpen(nowhere('games.csv')) });
      expect(teams).toMatchObject({ code: 1, stderr: cannotOpen(nowhere('teams.csv')) });
      expect(readFileSync(kept, 'utf8')).toBe('kept\n');
    });

    it('generate refuses an empty --out or --teams-out rather than writing elsewhere or nowhere', async () => {
      const games = await runCli(['generate', '--team-count', '12', '--out', '']);
      const teams = await runCli(['generate', '--team-count', '12', '--teams-out', '']);

      for (const [run, flag] of [
        [games, '-o, --out <file>'],
        [teams, '--teams-out <file>'],
      ] as const) {
        expect(run.code).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(
          `matchstream: option '${flag}' argument '' is invalid. expected a file ("-": standard output), not an empty path (run with --help for usage)\n`,
        );
      }
    });

    it('generate refuses a --format that contradicts the extension of --out, writing nothing', async () => {
      const csv = tmp.path('contradicted.csv');
      const jsonl = tmp.path('contradicted.jsonl');
      const other = tmp.path('games.txt');

      const asJson = await runCli([
        'generate',
        '--team-count',
        '12',
        '--format',
        'jsonl',
        '--out',
        csv,
      ]);
      const asCsv = await runCli([
        'generate',
        '--team-count',
        '12',
        '--format',
        'csv',
        '--out',
        jsonl,
      ]);
      const free = await runCli([
        'generate',
        '--team-count',
        '12',
        '--format',
        'jsonl',
        '--out',
        other,
      ]);
      const readBack = await runCli(['rpi', other, '--format', 'json']);

      expect(asJson).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `matchstream: --format jsonl and --out ${csv} disagree: a .csv file is read as CSV; drop --format, or name a .jsonl file\n`,
      });
      expect(asCsv).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `matchstream: --format csv and --out ${jsonl} disagree: a .jsonl file is read as JSON Lines; drop --format, or name a .csv file\n`,
      });
      expect(existsSync(csv)).toBe(false);
      expect(existsSync(jsonl)).toBe(false);
      // A name that says no format takes either, and reads back.
      expect(free.code, free.stderr).toBe(0);
      expect(readFileSync(other, 'utf8').startsWith('{')).toBe(true);
      expect(readBack.code, readBack.stderr).toBe(0);
    });

    it.skipIf(!existsSync('/dev/full'))(
      'generate names the file a full disk refused, in one line',
      async () => {
        const games = await runCli(['generate', '--team-count', '12', '--out', '/dev/full']);
        const teams = await runCli([
          'generate',
          '--team-count',
          '12',
          '--out',
          tmp.path('full-games.csv'),
          '--teams-out',
          '/dev/full',
        ]);

        const refused = 'matchstream: /dev/full: cannot write: no space left on device\n';
        expect(games).toMatchObject({ code: 1, stderr: refused });
        expect(teams).toMatchObject({ code: 1, stderr: refused });
      },
    );

    it.skipIf(!existsSync('/dev/full'))(
      'ingest names the rejects file a full disk refused, in one line',
      async () => {
        // m2 is rejected: no away team.
        const feed = tmp.file('full-rejects.csv', GAMES);

        const run = await runCli(['ingest', feed, '--memory', '--rejects', '/dev/full']);

        expect(run).toMatchObject({
          code: 1,
          stderr: 'matchstream: /dev/full: cannot write: no space left on device\n',
        });
      },
    );

    it('ingest and teams import fail on a rejects file they cannot open before storing anything', async () => {
      const feed = tmp.file('unwritable-rejects.csv', GAMES);
      const list = tmp.file('unwritable-rejects-teams.csv', TEAMS);
      const data = tmp.path('unwritable-rejects-data');

      const ingest = await runCli(['ingest', feed, '--data-dir', data, '--rejects', nowhere('r')]);
      const teams = await runCli([
        'teams',
        'import',
        list,
        '--data-dir',
        data,
        '--rejects',
        nowhere('t'),
      ]);

      expect(ingest).toMatchObject({ code: 1, stderr: cannotOpen(nowhere('r')) });
      expect(teams).toMatchObject({ code: 1, stderr: cannotOpen(nowhere('t')) });
      // No store was opened: not even the data folder was made.
      expect(existsSync(data)).toBe(false);
    });
  });

  describe('replay to a file', () => {
    it('makes the file, empty, when there is nothing to replay', async () => {
      const out = tmp.path('nothing.jsonl');

      const run = await runCli(['replay', '--to', `file:${out}`, '--memory', '--no-progress']);

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^replayed 0 events to file /);
      expect(readFileSync(out, 'utf8')).toBe('');
    });

    it('fails on a file it cannot open the same with events or without, scanning or through the archive', async () => {
      const out = tmp.path('no-such-folder/events.jsonl');
      const data = tmp.path('replayed-data');
      await runCli(['ingest', tmp.file('replayed.csv', GAMES), '--data-dir', data]);
      const cannotOpen = `matchstream: ${out}: cannot open: no such file or directory\n`;

      const runs = [
        await runCli(['replay', '--to', `file:${out}`, '--memory', '--no-progress']),
        await runCli(['replay', '--to', `file:${out}`, '--data-dir', data, '--no-progress']),
        await runCli([
          ...['replay', '--to', `file:${out}`, '--data-dir', data],
          ...['--source', 'scan', '--no-progress'],
        ]),
      ];

      for (const run of runs) expect(run).toMatchObject({ code: 1, stderr: cannotOpen });
    });
  });
});
