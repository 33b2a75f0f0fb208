import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
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
      '--team-count',
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
    const statusText = await runCli(['status', '--data-dir', data, '--no-progress']);
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
    // The saga metrics in words: the counts, the three rates and the mean duration.
    expect(statusText.stdout).toMatch(
      /\n {2}sagas {8}1 saga \(1 completed, 0 compensated, 0 failed, 0 running; completion rate 1, compensation rate 0, failure rate 0, mean \d+ ms\)\n/,
    );
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

  it('rebuilds through the server holding the folder while it keeps answering; commands that change the folder are told who holds it', async () => {
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
      const activate = await runCli([
        'projections',
        'activate',
        'standings',
        '--generation',
        '1',
        '--data-dir',
        data,
      ]);

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
      expect(activate.code).toBe(1);
      expect(activate.stderr).toMatch(
        /the data folder .* is in use by another matchstream process \(pid \d+: "matchstream serve --data-dir/,
      );
      // One line: the holder is named, nothing more to look for under --debug.
      expect(activate.stderr.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it('goes on with a rebuild through the server run again at once after Ctrl-C, while the server finishes the interrupted one', async () => {
    // Prepare: a season of thousands of results ingested, served (the server relays them).
    const data = tmp.path('served-interrupted');
    const games = tmp.path('large.csv');
    await runCli(['generate', '--teams', '600', '--games-per-team', '20', '--out', games]);
    expect((await runCli(['ingest', games, '--data-dir', data, '--no-progress'])).code).toBe(0);
    const { child, url } = await serve(data);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await (await fetch(`${url}/health`)).text();

      // Act: Ctrl-C while the server rebuilds, then the same rebuild at once.
      const first = spawn(
        process.execPath,
        [CLI, 'rebuild', '--projection', 'matches', '--data-dir', data, '--no-progress'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let firstErr = '';
      first.stderr.setEncoding('utf8').on('data', (d: string) => {
        firstErr += d;
      });
      const firstExit = new Promise<number | null>((resolve) => first.once('close', resolve));
      await delay(2500);
      first.kill('SIGINT');
      const firstCode = await firstExit;
      const again = await runCli([
        'rebuild',
        '--projection',
        'matches',
        '--data-dir',
        data,
        '--no-progress',
        '--json',
      ]);

      // Assess: the first ended interrupted; the second waited for it and went on from it.
      expect(firstCode, firstErr).toBe(1);
      expect(firstErr).toBe('matchstream: rebuild interrupted; run it again to continue\n');
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        projection: 'matches',
        generation: 2,
        resumed: true,
        completed: true,
        switched: true,
      });
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  }, 120_000);

  it('ingests a feed into the folder a server holds, through the server, whose rankings follow', async () => {
    // Prepare: a season run on disk, served, with its live stream open.
    const data = tmp.path('fed');
    const season = generateSeason({ teams: 8, gamesPerTeam: 3, seed: 11 });
    const first = tmp.file(
      'fed.csv',
      `${[GAMES_CSV_HEADER, ...season.games.map(gameCsvRow)].join('\n')}\n`,
    );
    const started = JSON.parse(
      (await runCli(['start', '--games', first, '--data-dir', data, '--json'])).stdout,
    );
    const { child, url } = await serve(data);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const live = await fetch(`${url}/live`);
      const reader = (live.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const until = async (part: string) => {
        while (!text.includes(part)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the stream ended before "${part}": ${text}`);
          text += new TextDecoder().decode(value);
        }
      };
      await until('event: ready');
      const [home, away] = season.teams.map((t) => t.team);
      const later = tmp.file(
        'later.csv',
        `${[
          GAMES_CSV_HEADER,
          gameCsvRow({
            matchId: 'late-1',
            season: '2026',
            date: '2026-12-20',
            homeTeam: home ?? '',
            awayTeam: away ?? '',
            homeScore: 3,
            awayScore: 0,
            neutral: false,
            decidedBy: 'regulation',
          }),
          'not,a,game',
        ].join('\n')}\n`,
      );

      // Act: the same command as on a folder nobody holds.
      const ingest = await runCli(['ingest', later, '--data-dir', data, '--json', '--no-progress']);
      await until('event: calculation');
      await reader.cancel();
      const matches = (await (
        await fetch(`${url}/teams/${encodeURIComponent(home ?? '')}/matches?season=2026`)
      ).json()) as { matches: { match_id: string }[] };
      const rankings = (await (await fetch(`${url}/rankings?season=2026`)).json()) as {
        calculation_id: string;
        games_counted: number;
      };

      // Assess: the row went in through the server, the bad row was kept with its reason.
      expect(ingest.code).toBe(3);
      expect(JSON.parse(ingest.stdout)).toMatchObject({
        read: 2,
        appended: 1,
        rejected: 1,
        store: expect.stringContaining('the server holding'),
      });
      const rejects = readFileSync(`${later}.rejects.jsonl`, 'utf8').trim().split('\n');
      expect(rejects).toHaveLength(1);
      expect(JSON.parse(rejects[0] ?? '{}')).toMatchObject({ file: later, line: 3 });
      expect(matches.matches.map((m) => m.match_id)).toContain('late-1');
      expect(rankings.calculation_id).not.toBe(started.calculation_id);
      expect(rankings.games_counted).toBe(season.games.length + 1);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it('start --serve answers from the start, while its season goes in, and keeps serving after', async () => {
    // Prepare
    const data = tmp.path('watched');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'start',
        '--team-count',
        '60',
        '--games-per-team',
        '10',
        '--data-dir',
        data,
        '--serve',
        '--port',
        '0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const look = () => {
          const found = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (found?.[1]) resolve(found[1]);
        };
        child.stderr.on('data', look);
        void exited.then((code) => reject(new Error(`start exited ${code}: ${stderr}`)));
      });

      // Act: asked at once, then once the run is done.
      const early = await fetch(`${url}/health`);
      const doneWhenAsked = stderr.includes('serving until Ctrl-C');
      const page = await fetch(`${url}/`);
      while (!stderr.includes('serving until Ctrl-C')) await new Promise((r) => setTimeout(r, 100));
      const rankings = await fetch(`${url}/rankings?season=2026`);

      // Assess
      expect(early.status).toBe(200);
      expect(doneWhenAsked).toBe(false);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/^<!doctype html>/i);
      expect(rankings.status).toBe(200);
      expect(stderr.indexOf('query API on')).toBeLessThan(stderr.indexOf('ingest'));
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it.each([
    { command: 'serve', args: ['serve'] },
    {
      command: 'start --serve',
      args: ['start', '--teams', '8', '--games-per-team', '3', '--quiet', '--serve'],
    },
  ])(
    '$command stops at once on Ctrl-C while a console holds GET /live open',
    async ({ command, args }) => {
      // Prepare: the server, done with any season, and a live stream open on it (as the console's).
      const data = tmp.path(`live-${args[0]}`);
      const child = spawn(process.execPath, [CLI, ...args, '--data-dir', data, '--port', '0'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          const found = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (found?.[1] && stderr.includes('serving until Ctrl-C')) resolve(found[1]);
        });
        void exited.then((code) => reject(new Error(`${command} exited ${code}: ${stderr}`)));
      });
      const reader = ((await fetch(`${url}/live`)).body as ReadableStream<Uint8Array>).getReader();
      const first = new TextDecoder().decode((await reader.read()).value);

      // Act
      const asked = performance.now();
      child.kill('SIGINT');
      const code = await exited;
      const seconds = (performance.now() - asked) / 1000;
      const ended = await reader.read().then(
        ({ done }) => done,
        () => true,
      );

      // Assess: the stream was closed, and nothing waited for its next keep-alive (15 s).
      expect(first).toContain('event: ready');
      expect(code).toBe(0);
      expect(ended).toBe(true);
      expect(seconds).toBeLessThan(5);
    },
  );

  it('stops at once on SIGTERM after a HEAD /live (curl -I)', async () => {
    // Prepare: a server on an empty folder, serving.
    const { child, url, output } = await serve(tmp.path('head-live'));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    while (!output().includes('serving until Ctrl-C')) await delay(50);
    const head = await fetch(`${url}/live`, { method: 'HEAD' });

    // Act
    const asked = performance.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, delay(10_000, 'still running')]);
    const seconds = (performance.now() - asked) / 1000;
    if (code === 'still running') child.kill('SIGKILL');

    // Assess: the stream's headers, and nothing of it left to hold the process.
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(5);
  });

  it('stops cleanly on SIGTERM while it boots, exit 0, leaving the folder to the next command', async () => {
    // Prepare: a folder with a season in it, so that the boot takes a moment
    const data = tmp.path('term-at-boot');
    const made = await runCli([
      'start',
      '--teams',
      '16',
      '--games-per-team',
      '4',
      '--data-dir',
      data,
      '--quiet',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', data, '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );

    // Act: SIGTERM once it holds the folder, before it serves
    while (!existsSync(join(data, 'dynamodb', 'matchstream.lock'))) await delay(10);
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    const status = await runCli(['status', '--data-dir', data, '--json']);

    // Assess: stopped as it stops when serving, its lock released, nothing served
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    expect(stderr).not.toContain('serving until');
    expect(existsSync(join(data, 'dynamodb', 'matchstream.lock'))).toBe(false);
    expect(status.code, status.stderr).toBe(0);
  });

  it('reports what the store holds in a folder only ingested into, and what the read models have not applied yet', async () => {
    // Prepare: a feed ingested, no pipeline ever run on the folder.
    const data = tmp.path('ingested');
    const season = generateSeason({ teams: 6, gamesPerTeam: 2, seed: 3 });
    const games = tmp.file(
      'ingested.csv',
      `${[GAMES_CSV_HEADER, ...season.games.map(gameCsvRow)].join('\n')}\n`,
    );
    const ingest = JSON.parse(
      (await runCli(['ingest', games, '--data-dir', data, '--json', '--no-progress'])).stdout,
    );

    // Act
    const json = await runCli(['status', '--data-dir', data, '--json']);
    const text = await runCli(['status', '--data-dir', data]);

    // Assess
    expect(ingest.events_appended).toBeGreaterThan(0);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout);
    expect(status.events.total).toBe(ingest.events_appended);
    expect(status.events.by_type.MatchRecorded).toBe(ingest.appended);
    expect(status.events.by_type.TeamRegistered).toBe(ingest.teams_registered);
    expect(status.applied).toEqual({
      total: 0,
      pending: ingest.events_appended,
      dead_lettered: 0,
    });
    expect(status.consumers).toEqual([]);
    expect(text.stdout).toContain(`events       ${ingest.events_appended} stored (`);
    expect(text.stdout).toContain(`0 applied, ${ingest.events_appended} pending`);
    // Looking created nothing: no change stream, no read-model tables.
    expect(existsSync(join(data, 'kinesis'))).toBe(false);
  });

  it('lists the consumers of a server holding a new folder as caught up, not as never run', async () => {
    // Prepare: a new folder, served before anything was ingested.
    const data = tmp.path('new-served');
    const { child } = await serve(data);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let json: Awaited<ReturnType<typeof runCli>>;
    let text: Awaited<ReturnType<typeof runCli>>;
    try {
      // Act
      json = await runCli(['status', '--data-dir', data, '--json']);
      text = await runCli(['status', '--data-dir', data, '--no-progress']);
    } finally {
      child.kill('SIGINT');
    }

    // Assess: the server's consumers run, with nothing to read yet.
    expect(await exited).toBe(0);
    expect([json.code, json.stderr, text.code, text.stderr]).toEqual([0, '', 0, '']);
    expect(JSON.parse(json.stdout).consumers).toEqual(
      ['bus-router', 'read-models', 'sagas'].map((consumer) => ({
        consumer,
        lag_ms: 0,
        shards_behind: 0,
      })),
    );
    expect(text.stdout).not.toContain('none has run');
    expect(text.stdout).toContain(
      '  consumer     bus-router: caught up\n  consumer     read-models: caught up\n  consumer     sagas: caught up\n',
    );
  });

  it('answers status, projections list, saga list and saga show through the server holding the folder, as without it', async () => {
    // Prepare: a pipeline run on disk, then each look taken on the folder itself.
    const data = tmp.path('looked-at');
    const started = JSON.parse(
      (
        await runCli([
          'start',
          '--teams',
          '8',
          '--games-per-team',
          '3',
          '--data-dir',
          data,
          '--json',
        ])
      ).stdout,
    );
    const looks = [
      ['status', '--data-dir', data],
      ['status', '--data-dir', data, '--json'],
      ['projections', 'list', '--data-dir', data],
      ['projections', 'list', '--data-dir', data, '--json'],
      ['saga', 'list', '--data-dir', data, '--json'],
      ['saga', 'show', started.saga.id, '--data-dir', data, '--json'],
      ['inspect', '--dead-letters', '--data-dir', data],
    ];
    const alone = [];
    for (const look of looks) alone.push(await runCli(look));

    // Act: the same looks while serve holds the folder.
    const { child, url } = await serve(data);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const served = [];
    let anonymous: number | undefined;
    try {
      for (const look of looks) served.push(await runCli(look));
      anonymous = (await fetch(`${url}/admin/folder/dead-letters`, { method: 'POST' })).status;
    } finally {
      child.kill('SIGINT');
    }

    // Assess
    expect(await exited).toBe(0);
    // The folder's internals are for the token's holder only.
    expect(anonymous).toBe(401);
    for (const [i, look] of looks.entries()) {
      expect({ look, code: served[i]?.code, stderr: served[i]?.stderr }).toEqual({
        look,
        code: 0,
        stderr: '',
      });
      expect(served[i]?.stdout).toBe(alone[i]?.stdout);
    }
    expect(JSON.parse(served[1]?.stdout ?? '{}')).toMatchObject({
      events: { total: started.events_appended },
      last_saga: { saga_id: started.saga.id },
    });
    // Fifteen commands, each a process of its own.
  }, 180_000);

  it('never creates a data folder to look at it: exit 1 naming the path', async () => {
    const missing = tmp.path('no/such/dir');
    const looks = [
      ['status', '--data-dir', missing],
      ['status', '--data-dir', missing, '--json'],
      ['projections', 'list', '--data-dir', missing],
      ['saga', 'list', '--data-dir', missing],
      ['saga', 'show', 'x', '--data-dir', missing],
      ['inspect', '--dead-letters', '--data-dir', missing],
    ];

    const runs = [];
    for (const look of looks) runs.push(await runCli(look));

    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        new RegExp(`^matchstream: there is no data folder ${missing}: [^\\n]*\\n$`),
      );
    }
    expect(existsSync(tmp.path('no'))).toBe(false);
  });

  it('says in one line that the port is in use, and removes the token of an in-memory server when it stops', async () => {
    // Prepare: a port taken by another listener.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;

    // Act
    const refused = await runCli(['serve', '--memory', '--port', String(port)]);
    taken.close();
    const child = spawn(process.execPath, [CLI, 'serve', '--memory', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const tokenFile = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const found = /token in (\S+);/.exec(stderr);
        if (found?.[1]) resolve(found[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    const whileServing = existsSync(tokenFile);
    // The exit code, or the signal that killed it: SIGTERM sent on reading the line must find
    // the server already waiting for it.
    const exited = new Promise<number | string | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    child.kill('SIGTERM');

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `matchstream: port ${port} on 127.0.0.1 is in use (another matchstream serve?): choose another with --port, or --port 0 for a free one\n`,
    );
    expect(whileServing).toBe(true);
    expect(await exited).toBe(0);
    expect(existsSync(tokenFile)).toBe(false);
  });
});
