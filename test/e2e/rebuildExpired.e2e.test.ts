import { beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';
import { runCliInTerminal, terminalFrames } from '../support/terminal.js';

const tmp = tempDir();
const data = tmp.path('data');
let expired = 0;

/** `matchstream ...args`, which must succeed; its standard output. */
async function ok(...args: string[]): Promise<string> {
  const run = await runCli(args);
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

beforeAll(async () => {
  // Season 2025 closed, exported, expired from the table; then a full export without it.
  for (const [season, seed] of [
    ['2025', '5'],
    ['2026', '6'],
  ] as const) {
    const games = tmp.path(`s${season}.csv`);
    await ok(
      'generate',
      '--team-count',
      '12',
      '--games-per-team',
      '4',
      '--season',
      season,
      '--seed',
      seed,
      '-o',
      games,
    );
    await ok('ingest', games, '--data-dir', data);
  }
  await ok('archive', 'close-season', '2025', '--data-dir', data);
  await ok('archive', 'export', '--data-dir', data);
  expired = (
    JSON.parse(await ok('archive', 'expire', '--season', '2025', '--data-dir', data, '--json')) as {
      streams: number;
    }
  ).streams;
  await ok('archive', 'export', '--data-dir', data);
}, 120_000);

describe('matchstream rebuild after a season expired', () => {
  it("says how many of the expired seasons' streams it read from the archive", async () => {
    const run = await runCli(['rebuild', '--projection', 'matches', '--data-dir', data]);

    expect(run.code, run.stderr).toBe(0);
    expect(expired).toBeGreaterThan(0);
    expect(run.stdout).toContain(
      `then the ${expired} streams of expired seasons, from the archive`,
    );
    expect(run.stdout).toContain('verified: identical to the live generation');
  }, 120_000);

  it("shows a bar of the expired seasons' streams on a terminal, run here or through the server holding the folder", async () => {
    const expiredBar = (output: string) =>
      terminalFrames(output).filter((f) =>
        f.startsWith("rebuilding standings: expired seasons' streams ["),
      );

    const here = await runCliInTerminal([
      'rebuild',
      '--projection',
      'standings',
      '--data-dir',
      data,
    ]);
    const server = await startServer(['serve', '--data-dir', data, '--port', '0'], data);
    let through: Awaited<ReturnType<typeof runCliInTerminal>>;
    try {
      through = await runCliInTerminal([
        'rebuild',
        '--projection',
        'standings',
        '--data-dir',
        data,
      ]);
    } finally {
      await server.stop();
    }

    expect(here.code, here.output).toBe(0);
    expect(expiredBar(here.output).at(-1)).toContain(`${expired} streams`);
    expect(through.code, through.output).toBe(0);
    expect(through.output).toContain('verified: identical to the live generation');
    // The server sends the turn to the expired phase at once, however soon after the files.
    expect(expiredBar(through.output).at(-1)).toContain(`${expired} streams`);
  }, 120_000);
});
