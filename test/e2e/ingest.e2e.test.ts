import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';
import { runCliInTerminal, terminalFrames } from '../support/terminal.js';

const tmp = tempDir();

describe('matchstream ingest', () => {
  it('stores a season on disk; again appends nothing; a changed score appends a correction', async () => {
    // Prepare
    const season = tmp.path('season.csv');
    const data = tmp.path('data');
    await runCli([
      'generate',
      '--teams',
      '40',
      '--games-per-team',
      '8',
      '--seed',
      '4',
      '--out',
      season,
    ]);
    const rows = readFileSync(season, 'utf8').trimEnd().split('\n').length - 1;

    // Act
    const first = await runCli(['ingest', season, '--data-dir', data, '--json']);
    const second = await runCli(['ingest', season, '--data-dir', data, '--json']);
    const lines = readFileSync(season, 'utf8').split('\n');
    const cells = (lines[5] ?? '').split(',');
    cells[5] = String(Number(cells[5]) + 3);
    lines[5] = cells.join(',');
    const changed = tmp.file('changed.csv', lines.join('\n'));
    const third = await runCli(['ingest', changed, '--data-dir', data, '--json']);

    // Assess
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      read: rows,
      appended: rows,
      unchanged: 0,
      corrected: 0,
      rejected: 0,
      teams_registered: 40,
      events_appended: rows + 40,
      rejects_file: null,
    });
    expect(JSON.parse(second.stdout)).toMatchObject({
      read: rows,
      appended: 0,
      unchanged: rows,
      events_appended: 0,
    });
    expect(JSON.parse(third.stdout)).toMatchObject({
      read: rows,
      corrected: 1,
      unchanged: rows - 1,
      events_appended: 1,
    });
  });

  it('registers a name written composed and decomposed (NFC, NFD) as one team, which teams update finds however typed', async () => {
    // Prepare: "Université Laval" with é as one code point, then as e and a combining accent.
    const composed = 'Universit\u00E9 Laval';
    const decomposed = 'Universite\u0301 Laval';
    const feed = tmp.file(
      'unicode.csv',
      `date,home_team,away_team,home_score,away_score\n2025-09-01,${composed},B,1,0\n2025-09-08,B,${decomposed},2,0\n`,
    );
    const data = tmp.path('unicode-data');

    // Act
    const ingested = await runCli(['ingest', feed, '--data-dir', data, '--json', '--no-progress']);
    const updated = await runCli([
      'teams',
      'update',
      decomposed,
      '--region',
      'Qu\u0065\u0301bec',
      '--data-dir',
      data,
      '--json',
    ]);

    // Assess
    expect(ingested.code, ingested.stderr).toBe(0);
    expect(JSON.parse(ingested.stdout)).toMatchObject({ appended: 2, teams_registered: 2 });
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ team: composed, outcome: 'updated' });
  });

  it('keeps the good rows, puts each bad row in the rejects file and exits 3', async () => {
    const feed = tmp.file(
      'bad.csv',
      [
        'match_id,date,home_team,away_team,home_score,away_score',
        'a1,2026-09-01,A,B,2,1',
        'a2,2026-09-01,B,C,two,1',
        'a3,2026-09-31,C,A,1,1',
        'a4,2026-09-02,"C, Campus",A,0,0',
      ].join('\n'),
    );

    const run = await runCli(['ingest', feed, '--memory']);

    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      /read +4\n {2}appended +2\n {2}unchanged +0\n {2}corrected +0\n {2}rejected +2\n {2}teams registered +3\n {2}events appended +5\n/,
    );
    expect(run.stderr).toBe(`matchstream: 2 rows rejected; see ${feed}.rejects.jsonl\n`);
    const rejects = readFileSync(`${feed}.rejects.jsonl`, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects).toEqual([
      {
        file: feed,
        line: 3,
        reason: 'home_score "two" is not a whole number from 0 to 999',
        fields: {
          match_id: 'a2',
          date: '2026-09-01',
          home_team: 'B',
          away_team: 'C',
          home_score: 'two',
          away_score: '1',
        },
      },
      expect.objectContaining({ line: 4, reason: 'date "2026-09-31" is not a YYYY-MM-DD date' }),
    ]);
  });

  it('counts the rows and the team registrations that could not be stored apart (exit 1)', async () => {
    // A season index of the folder's archive that does not read: every append, a team's
    // registration as a match's, fails on it.
    const data = tmp.path('damaged-index');
    mkdirSync(join(data, 'archive/seasons/2025'), { recursive: true });
    writeFileSync(join(data, 'archive/seasons/2025/index.json'), 'garbage');
    const feed = tmp.file(
      'two-rows.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n2026-09-02,B,C,2,2\n',
    );

    const run = await runCli(['ingest', feed, '--data-dir', data, '--no-progress']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      '\n  failed           2\n  teams registered 0\n  teams not stored 3\n',
    );
    expect(run.stderr).toBe(
      `matchstream: 2 rows could not be stored, nor 3 teams registered; see ${feed}.rejects.jsonl\n`,
    );
    expect(readFileSync(`${feed}.rejects.jsonl`, 'utf8').trimEnd().split('\n')).toHaveLength(5);
  });

  it('writes the rejected rows to standard output for --rejects -, the summary beside the errors', async () => {
    const feed = tmp.file(
      'one-bad.csv',
      [
        'date,home_team,away_team,home_score,away_score',
        '2026-09-01,A,B,2,1',
        '2026-09-01,B,C,x,1',
      ].join('\n'),
    );

    const run = await runCli(['ingest', feed, '--memory', '--rejects', '-']);
    const withJson = await runCli(['ingest', feed, '--memory', '--rejects', '-', '--json']);

    expect(run.code).toBe(3);
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([expect.objectContaining({ file: feed, line: 3 })]);
    expect(run.stderr).toMatch(/ {2}rejected +1\n/);
    expect(run.stderr).toMatch(/matchstream: 1 row rejected; see standard output\n$/);
    expect(existsSync('-')).toBe(false);
    expect(withJson.code).toBe(2);
  });

  it('reads JSON Lines from stdin into memory and writes rejects where asked', async () => {
    const rejects = tmp.path('my-rejects.jsonl');
    writeFileSync(rejects, 'stale\n');
    const input = [
      JSON.stringify({
        date: '2026-09-01',
        home_team: 'A',
        away_team: 'B',
        home_score: 1,
        away_score: 0,
      }),
      JSON.stringify({
        date: '2026-09-01',
        home_team: 'A',
        away_team: 'B',
        home_score: 0,
        away_score: 0,
      }),
    ].join('\n');

    const run = await runCli(['ingest', '-', '--memory', '--json', '--rejects', rejects], {
      input,
    });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      read: 2,
      appended: 2,
      store: 'embedded dynalite (in memory)',
    });
    // The rejects file speaks of this run only: a clean run leaves none.
    expect(() => readFileSync(rejects)).toThrow();
  });

  it('stops on Ctrl-C with the rows under way stored, says how far it got, and the next run goes on', async () => {
    const games = tmp.path('interrupted.csv');
    await runCli(['generate', '--team-count', '3000', '--seed', '3', '--out', games]);
    const data = tmp.path('interrupted');

    // Signalled once the store is open and rows go in (27,900 rows take seconds).
    const child = spawn(process.execPath, [CLI, 'ingest', games, '--data-dir', data, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    while (!existsSync(join(data, 'dynamodb'))) await sleep(20);
    await sleep(800);
    child.kill('SIGINT');
    const code = await exited;
    const again = await runCli(['ingest', games, '--data-dir', data, '--json']);

    expect(code, stderr).toBe(1);
    expect(stderr).toBe(
      'interrupted: stopping (Ctrl-C again to stop at once)\nmatchstream: ingest interrupted; run it again to continue: the rows stored stay, and count as unchanged then\n',
    );
    const rows = readFileSync(games, 'utf8').trimEnd().split('\n').length - 1;
    const first = JSON.parse(stdout) as { read: number; appended: number };
    expect(first.read).toBeLessThan(rows);
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as {
      read: number;
      appended: number;
      unchanged: number;
    };
    expect(second.read).toBe(rows);
    expect(second.unchanged).toBe(first.appended);
    expect(second.appended + second.unchanged).toBe(rows);
  });

  it('refuses a bad endpoint on the command line', async () => {
    const run = await runCli(['ingest', 'x.csv', '--endpoint', 'not a url']);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/expected an http\(s\) URL/);
  });

  it('refuses flags that name two stores (--aws, --endpoint, --memory, a --data-dir typed), before anything is read or written', async () => {
    const feed = tmp.file(
      'two-stores.csv',
      'date,home_team,away_team,home_score,away_score\n2026-09-01,A,B,1,0\n',
    );
    const nowhere = 'http://127.0.0.1:9';
    const named = tmp.path('named-folder');
    const runs = [
      ['ingest', feed, '--no-progress', '--memory', '--data-dir', named],
      ['ingest', feed, '--no-progress', '--data-dir', named, '--aws'],
      ['inspect', '--dead-letters', '--endpoint', nowhere, '--data-dir', named],
      ['teams', 'import', feed, '--no-progress', '--memory', '--data-dir', named],
      ['replay', '--to', `file:${tmp.path('two-stores.jsonl')}`, '--aws', '--data-dir', named],
      ['ingest', feed, '--no-progress', '--memory', '--aws'],
      ['ingest', feed, '--no-progress', '--memory', '--endpoint', nowhere],
      ['ingest', feed, '--no-progress', '--aws', '--endpoint', nowhere],
      ['teams', 'update', 'A', '--division', 'II', '--memory', '--aws'],
      [
        'replay',
        '--to',
        `file:${tmp.path('two-stores.jsonl')}`,
        '--no-progress',
        '--memory',
        '--aws',
      ],
    ];

    for (const args of runs) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(
        /^matchstream: --(aws|memory|endpoint) and --(aws|memory|endpoint|data-dir) name different stores: give one \(--aws the deployed table, --endpoint URL another DynamoDB, --memory one that keeps nothing; --data-dir DIR or none, the data folder\)\n$/,
      );
    }
    expect(existsSync(named)).toBe(false);
    expect(existsSync(`${feed}.rejects.jsonl`)).toBe(false);
    expect(existsSync(tmp.path('two-stores.jsonl'))).toBe(false);
  });

  it('on a terminal, draws its bar in rows stored, not in bytes read ahead of them', async () => {
    // Prepare
    const season = tmp.path('bar.csv');
    await runCli(['generate', '--teams', '80', '--games-per-team', '10', '--out', season]);
    const rows = readFileSync(season, 'utf8').trimEnd().split('\n').length - 1;

    // Act
    const run = await runCliInTerminal(['ingest', season, '--memory']);

    // Assess: every frame's share is the share of rows stored (the reader reads the whole
    // file at once, so a bar of bytes said 100% from the first frame).
    expect(run.code).toBe(0);
    const frames = terminalFrames(run.output)
      .map((f) => /(\d+)% \| ([\d,]+)(?: of ~?[\d,]+)? rows/.exec(f))
      .filter((m) => m !== null)
      .map((m) => ({ percent: Number(m[1]), stored: Number((m[2] ?? '').replaceAll(',', '')) }));
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames)
      expect(Math.abs(frame.percent - (100 * frame.stored) / rows)).toBeLessThanOrEqual(2);
    expect(run.output).toMatch(new RegExp(`read +${rows.toLocaleString('en-US')}\\b`));
  });
});
