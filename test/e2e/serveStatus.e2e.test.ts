import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

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
    const rankings = (await (await fetch(`${url}/rankings?season=2026`)).json()) as {
      calculation_id: string;
    };
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
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
    expect(await exited).toBe(0);
  });
});
