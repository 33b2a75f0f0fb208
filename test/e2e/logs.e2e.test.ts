import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readGames } from '../../feeds/readGames.js';
import { CLI, runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/** Secrets planted in the environment: none may reach a log. */
const SECRETS = {
  MATCHSTREAM_API_TOKEN: 'tok-4f1d9c0e7b2a48e6a1c3d5f7b9e0a2c4',
  AWS_ACCESS_KEY_ID: 'AKIAPLANTEDKEYID0001',
  AWS_SECRET_ACCESS_KEY: 'planted/secret+access+key/0123456789abcdef',
};

/** The JSON records among standard error's lines. */
function records(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the local runtime logs', () => {
  it('serve logs a line per request (method, path, status, duration), never a token, payload or credential', async () => {
    // Prepare
    const data = tmp.path('served');
    await runCli([
      'start',
      '--team-count',
      '12',
      '--games-per-team',
      '4',
      '--data-dir',
      data,
      '--quiet',
    ]);
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--data-dir', data, '--port', '0', '--log-format', 'json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...SECRETS } },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const found = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (found?.[1]) resolve(found[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });

    // Act
    const answers = [
      await fetch(`${url}/rankings?season=2026`),
      await fetch(`${url}/teams/${encodeURIComponent('No Such Team')}`),
      await fetch(`${url}/sagas`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRETS.MATCHSTREAM_API_TOKEN}` },
        body: '{"season": "2026"}',
      }),
      await fetch(`${url}/sagas`, {
        method: 'POST',
        headers: { authorization: 'Bearer planted-wrong-token' },
        body: '{"season": "planted-payload"}',
      }),
    ];
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    // Assess
    const requests = records(stderr).filter((r) => r.msg === 'request');
    expect(requests.map(({ method, path, status }) => [method, path, status])).toEqual([
      ['GET', '/rankings', answers[0]?.status],
      ['GET', '/teams/No%20Such%20Team', 404],
      ['POST', '/sagas', 202],
      ['POST', '/sagas', 403],
    ]);
    for (const r of requests) {
      expect(r).toMatchObject({ level: 'info', time: expect.any(String) });
      expect(r.duration_ms).toBeGreaterThanOrEqual(0);
    }
    for (const secret of [
      ...Object.values(SECRETS),
      'planted-wrong-token',
      'planted-payload',
      'Bearer',
    ])
      expect(stderr).not.toContain(secret);
  });

  it('start logs saga step failures and compensations as warnings, by name, never the data', async () => {
    // Prepare
    const games = tmp.path('games.csv');
    await runCli(['generate', '--teams', '8', '--games-per-team', '3', '--out', games]);
    const teams = [
      ...new Set((await readGames(games)).games.flatMap((g) => [g.homeTeam, g.awayTeam])),
    ];

    // Act
    const run = await runCli(
      [
        'start',
        games,
        '--inject-fault',
        'saga:publish-results',
        '--quiet',
        '--log-level',
        'debug',
        '--log-format',
        'json',
      ],
      { env: SECRETS },
    );
    const early = await runCli([
      '--log-level',
      'debug',
      'start',
      '--team-count',
      '4',
      '--games-per-team',
      '2',
      '--quiet',
      '--json',
    ]);
    const clean = await runCli(['start', '--team-count', '4', '--games-per-team', '2', '--quiet']);
    const bad = await runCli(['start', '--log-level', 'loud']);

    // Assess
    expect(run.code).toBe(1);
    const logged = records(run.stderr);
    // A slow machine may see a second automatic saga (a result arriving after the first one
    // started): each saga, by id, fails three times and compensates once.
    const failures = logged.filter((r) => r.msg === 'saga step failed');
    const sagas = [...new Set(failures.map((r) => r.saga_id))];
    expect(sagas.length).toBeGreaterThanOrEqual(1);
    for (const saga of sagas) {
      const own = (msg: string) => logged.filter((r) => r.msg === msg && r.saga_id === saga);
      expect(own('saga step failed').map((r) => [r.level, r.attempt, r.will_retry])).toEqual([
        ['warn', 1, true],
        ['warn', 2, true],
        ['warn', 3, false],
      ]);
      expect(own('saga step compensated')).toHaveLength(3);
      expect(own('saga compensated')).toMatchObject([{ level: 'warn' }]);
    }
    expect(failures[0]).toMatchObject({
      step: expect.stringMatching(/^publish[-_]results$/),
      error: expect.any(String),
    });
    expect(logged.filter((r) => r.msg === 'saga compensated')).toHaveLength(sagas.length);
    // Debug records say which consumer handled how many records.
    expect(logged.some((r) => r.msg === 'batch handled' && r.consumer === 'read-models')).toBe(
      true,
    );
    // The season's teams are the events' data: none is in the log.
    expect(teams.length).toBe(8);
    for (const text of [...teams, ...Object.values(SECRETS)])
      expect(run.stderr).not.toContain(text);
    // The global options go before the command too.
    expect(records(early.stderr).some((r) => r.level === 'debug')).toBe(true);
    // By default a run that went well logs nothing.
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe('');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'loud' is invalid");
  });
});
