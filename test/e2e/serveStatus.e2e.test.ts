import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { reach } from '../support/loopback.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/** `matchstream serve` on a data folder and a free port, once it says where it listens. */
async function serve(data: string) {
  const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', data, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const found = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (found?.[1]) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  return { child, url, output: () => stderr };
}

describe('matchstream serve and status on a data folder', () => {
  it('reports the pipeline state, then serves the API on 127.0.0.1 until interrupted', async () => {
    // Prepare: a season through the pipeline, kept on disk.
    const data = tmp.path('data');
    const games = tmp.path('games.csv');
    await runCli([
      'generate',
      '--teams',
      '12',
      '--games-per-team',
      '4',
      '--seed',
      '8',
      '--out',
      games,
    ]);
    const started = JSON.parse(
      (await runCli(['start', '--games', games, '--data-dir', data, '--json'])).stdout,
    );

    // Act: status, then serve.
    const status = await runCli(['status', '--data-dir', data, '--json']);
    const { child, url, output } = await serve(data);
    const rankings = (await (await fetch(`${url}/rankings?season=2026`)).json()) as {
      calculation_id: string;
    };
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
    const tokenFile = join(data, 'api-token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/sagas`, { method: 'POST', body: '{"season": "2026"}', headers });
    const anonymous = await post({});
    const wrong = await post({ authorization: 'Bearer guessed' });
    const allowed = await post({ authorization: `Bearer ${token}` });
    const found = await reach(url);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');

    // Assess
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      events: { total: started.events_appended },
      consumers: [
        { consumer: 'bus-router', lag_ms: 0, shards_behind: 0 },
        { consumer: 'read-models', lag_ms: 0, shards_behind: 0 },
        { consumer: 'sagas', lag_ms: 0, shards_behind: 0 },
      ],
      dead_letters: { total: 0 },
      last_saga: { saga_id: started.saga.id, status: 'completed' },
      sagas: { running: 0, failed: 0, completion_rate: 1 },
    });
    expect(rankings.calculation_id).toBe(started.calculation_id);
    expect(health.status).toBe('ok');
    // Writes need the server's token, kept in the data folder for this user only.
    expect([anonymous.status, wrong.status, allowed.status]).toEqual([401, 403, 202]);
    expect(statSync(tokenFile).mode & 0o077).toBe(0);
    expect(token.length).toBeGreaterThanOrEqual(32);
    // The server says where the token is, never the token, whatever it logs meanwhile.
    expect(output()).toContain(tokenFile);
    expect(output()).not.toContain(token);
    expect(found).toMatchObject({ host: '127.0.0.1', loopback: true });
    if (found.other !== undefined) expect(found.elsewhere).toBe(false);
    expect(await exited).toBe(0);
  });

  it('rebuilds through the server holding the folder while it keeps answering; other commands are told who holds it', async () => {
    // Prepare: a pipeline on disk, served.
    const data = tmp.path('served');
    await runCli(['start', '--teams', '12', '--games-per-team', '4', '--data-dir', data]);
    const { child, url } = await serve(data);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const before = await (await fetch(`${url}/standings?season=2026`)).json();

      // Act: a rebuild while it serves, queries during it, and a command that needs the folder.
      const rebuilding = runCli([
        'rebuild',
        '--projection',
        'standings',
        '--verify',
        '--data-dir',
        data,
        '--json',
      ]);
      let done = false;
      void rebuilding.finally(() => {
        done = true;
      });
      const during: number[] = [];
      while (!done) during.push((await fetch(`${url}/standings?season=2026`)).status);
      const rebuild = await rebuilding;
      const after = await (await fetch(`${url}/standings?season=2026`)).json();
      const list = await runCli(['projections', 'list', '--data-dir', data]);

      // Assess
      expect(rebuild.code).toBe(0);
      expect(JSON.parse(rebuild.stdout)).toMatchObject({
        projection: 'standings',
        generation: 2,
        completed: true,
        switched: true,
        differences: 0,
      });
      expect(during.length).toBeGreaterThan(1);
      expect(during.every((status) => status === 200)).toBe(true);
      expect(after).toEqual(before);
      expect(list.code).toBe(1);
      expect(list.stderr).toMatch(
        /the data folder .* is in use by another matchstream process \(pid \d+: "matchstream serve --data-dir/,
      );
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
