import { describe, expect, it } from 'vitest';
import { runCli, serveFolder } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/**
 * The rows the one error line says were stored, from a line that names the tables' store as
 * stopped by its disk (here a file size limit: LevelDB's log write fails with EFBIG, as it does
 * with ENOSPC on a full disk), with no stack trace and nothing of dynalite.
 */
function storedBeforeStop(stderr: string, feed: string): number {
  const lines = stderr.trimEnd().split('\n');
  // The log's own lines besides the error: each store said stopped once at most, and a
  // circuit breaker opening; not a line per row or per record.
  expect(lines.length, stderr).toBeLessThanOrEqual(5);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain('dynalite');
  const escaped = feed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(
    `^matchstream: the tables' store stopped: IO error: \\S+/dynamodb/\\d+\\.log: File too large; ([\\d,]+) rows of ${escaped} stored before it did, the rest not tried \\(run the command again once what stopped it is mended: a row stored already is not appended twice\\)$`,
  ).exec(lines.at(-1) ?? '');
  expect(match, stderr).not.toBeNull();
  return Number((match?.[1] ?? '').replaceAll(',', ''));
}

/**
 * The rows stored by an ingest that stopped, from its `--json` summary so far, whose `stopped`
 * is the command's error line (without its `matchstream: `).
 */
function stoppedSummary(stdout: string, stderr: string): number {
  const summary = JSON.parse(stdout) as {
    read: number;
    appended: number;
    unchanged: number;
    corrected: number;
    failed: number;
    stopped: string;
  };
  expect(`matchstream: ${summary.stopped}`).toBe(stderr.trimEnd().split('\n').at(-1));
  expect(summary.failed).toBe(0);
  expect(summary.read).toBeGreaterThanOrEqual(summary.appended + summary.unchanged);
  return summary.appended + summary.unchanged + summary.corrected;
}

/** A generated season of 100 teams, 20 games each: a store's log outgrows 1 MiB with it. */
async function season(name: string, seed: number): Promise<string> {
  const games = tmp.path(name);
  const size = ['--team-count', '100', '--games-per-team', '20'];
  const generated = await runCli(['generate', ...size, '--seed', String(seed), '--out', games]);
  expect(generated.code, generated.stderr).toBe(0);
  return games;
}

describe('a store whose disk refuses its writes', () => {
  it('stops start and ingest at once, in one line saying how many rows were stored; the next run stores the rest', async () => {
    // Prepare: a file size limit of 1 MiB (2,048 blocks of 512 bytes) for the commands.
    const games = await season('games.csv', 7);
    const started = tmp.path('started');
    const ingested = tmp.path('ingested');

    // Act
    const start = await runCli(['start', games, '--data-dir', started, '--quiet'], {
      fileSizeBlocks: 2048,
    });
    const startAgain = await runCli(['start', games, '--data-dir', started, '--json', '--quiet']);
    const ingest = await runCli(['ingest', games, '--data-dir', ingested, '--json'], {
      fileSizeBlocks: 2048,
    });
    const ingestAgain = await runCli(['ingest', games, '--data-dir', ingested, '--json']);

    // Assess: each stopped with exit 1 once the store stopped, part of the feed stored...
    expect(start.signal).toBeNull();
    expect(start.code).toBe(1);
    const startStored = storedBeforeStop(start.stderr, games);
    expect(ingest.code).toBe(1);
    const ingestStored = storedBeforeStop(ingest.stderr, games);
    // ...with --json, after the summary so far, which says the same.
    expect(stoppedSummary(ingest.stdout, ingest.stderr)).toBe(ingestStored);
    // ...and the next run took the rest: the rows stored count as unchanged (a row whose
    // write the store took as it stopped may count there too: at most one per append under way).
    expect(startAgain.code, startAgain.stderr).toBe(0);
    const again = JSON.parse(startAgain.stdout) as {
      ingest: { read: number; unchanged: number; failed: number };
      games_counted: number;
      saga: { status: string };
    };
    expect(startStored).toBeGreaterThan(0);
    expect(again.ingest.unchanged).toBeGreaterThanOrEqual(startStored);
    expect(again.ingest.unchanged).toBeLessThanOrEqual(startStored + 16);
    expect(again.ingest.failed).toBe(0);
    expect(again.saga.status).toBe('completed');
    expect(again.games_counted).toBe(again.ingest.read);
    expect(ingestAgain.code, ingestAgain.stderr).toBe(0);
    const ingestSummary = JSON.parse(ingestAgain.stdout) as {
      read: number;
      appended: number;
      unchanged: number;
      rejects_file: string | null;
    };
    expect(ingestStored).toBeGreaterThan(0);
    expect(ingestSummary.unchanged).toBeGreaterThanOrEqual(ingestStored);
    expect(ingestSummary.unchanged).toBeLessThanOrEqual(ingestStored + 16);
    expect(ingestSummary.appended + ingestSummary.unchanged).toBe(ingestSummary.read);
    expect(ingestSummary.rejects_file).toBeNull();
  }, 120_000);

  it('ends serve in one line when its store stops, and the ingest sent through it says how many rows were stored', async () => {
    // Prepare
    const games = await season('served.csv', 8);
    const folder = tmp.path('served');
    const server = await serveFolder(folder, { fileSizeBlocks: 2048 });

    // Act: the feed sent through the server, which stores it until its disk refuses.
    const ingest = await runCli(['ingest', games, '--data-dir', folder, '--json']);
    const served = await server.ended();

    // Assess: the ingest says what the server said of it; the server ended by itself, exit 1,
    // its last line the store that stopped and what to do.
    expect(ingest.code).toBe(1);
    const stored = stoppedSummary(ingest.stdout, ingest.stderr);
    expect(ingest.stderr).toContain(` ${stored.toLocaleString('en-US')} rows of the feed stored`);
    expect(ingest.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^matchstream: the ingest failed in the server at http:\/\/127\.0\.0\.1:\d+: the tables' store stopped: IO error: \S+: File too large; [\d,]+ rows of the feed stored before it did, the rest not tried \(run the command again once what stopped it is mended: a row stored already is not appended twice\)$/,
    );
    expect(served.code).toBe(1);
    expect(served.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^matchstream: the tables' store stopped: IO error: \S+\/dynamodb\/\d+\.log: File too large \(run the command again once what stopped it is mended\)$/,
    );
    expect(served.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});
