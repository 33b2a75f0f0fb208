import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

describe('matchstream rebuild, interrupted', () => {
  it('stops at Ctrl-C while the read models catch up with a folder ingested into, before any generation', async () => {
    // Arrange: a folder only ingested into, whose read models have thousands of events to apply
    // before a rebuild begins (seconds of catch-up)
    const games = tmp.path('season.csv');
    const data = tmp.path('ingested');
    await runCli(['generate', '--teams', '600', '--games-per-team', '20', '--out', games]);
    const ingest = await runCli(['ingest', games, '--data-dir', data]);
    expect(ingest.code, ingest.stderr).toBe(0);

    // Act: Ctrl-C once the rebuild holds the folder
    const child = spawn(
      process.execPath,
      [CLI, 'rebuild', '--projection', 'standings', '--data-dir', data],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    while (!existsSync(join(data, 'dynamodb', 'matchstream.lock'))) await sleep(20);
    await sleep(1000);
    child.kill('SIGINT');
    const signalled = performance.now();
    const code = await exited;
    const seconds = (performance.now() - signalled) / 1000;
    const list = await runCli(['projections', 'list', '--data-dir', data, '--json']);

    // Assess: it ends within seconds, in its one line (no log of the stream it closed), and
    // has made no generation to go on from
    expect(code, stderr).toBe(1);
    expect(stderr).toBe('matchstream: rebuild interrupted; run it again to continue\n');
    expect(seconds).toBeLessThan(5);
    const standings = (
      JSON.parse(list.stdout) as { name: string; generations: { generation: number }[] }[]
    ).find((p) => p.name === 'standings');
    expect(standings?.generations.map((g) => g.generation)).toEqual([1]);
  });
});
