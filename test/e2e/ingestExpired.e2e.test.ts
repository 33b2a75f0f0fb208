import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { runCli, serveFolder } from '../support/cli.js';
import { exportDataFolder } from '../support/folderArchive.js';
import { tempDir } from '../support/tempDir.js';

const folder = tempDir('ingest-expired-');
const data = folder.path('data');

/** The rejects file of a feed, one object a line. */
function rejectsOf(feed: string): { line: number; reason: string }[] {
  return readFileSync(`${feed}.rejects.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('matchstream ingest on a season expired from the table', () => {
  it('counts the rows it holds as unchanged and rejects a changed result, exit 3, alone, through serve and in start', async () => {
    // Prepare: season 2026 ingested, closed, exported and expired.
    const season = generateSeason({ teams: 8, gamesPerTeam: 3, seed: 26, season: '2026' });
    const rows = season.games.map(gameCsvRow);
    const feed = folder.file('season.csv', `${[GAMES_CSV_HEADER, ...rows].join('\n')}\n`);
    const ingested = await runCli(['ingest', feed, '--data-dir', data, '--json', '--no-progress']);
    expect(ingested.code, ingested.stderr).toBe(0);
    const closed = await runCli(['archive', 'close-season', '2026', '--data-dir', data]);
    expect(closed.code, closed.stderr).toBe(0);
    await exportDataFolder(data);
    const expired = await runCli(['archive', 'expire', '--season', '2026', '--data-dir', data]);
    expect(expired.code, expired.stderr).toBe(0);
    // A new score for the third match, and the first as stored.
    const [first, , third] = season.games;
    if (!first || !third) throw new Error('too few games');
    const changed = { ...third, homeScore: third.homeScore + 5 };
    const corrections = folder.file(
      'corr2.csv',
      `${[GAMES_CSV_HEADER, gameCsvRow(changed), gameCsvRow(first)].join('\n')}\n`,
    );
    const refused = {
      line: 2,
      reason: `refused: stream match:${third.matchId} was expired from the table with the closed season 2026: a closed season takes no more events`,
    };

    // Act + Assess: the corrections alone.
    const alone = await runCli(['ingest', corrections, '--data-dir', data, '--json']);
    expect(alone.stderr).toBe(`matchstream: 1 row rejected; see ${corrections}.rejects.jsonl\n`);
    expect(alone.code).toBe(3);
    expect(JSON.parse(alone.stdout)).toMatchObject({
      read: 2,
      appended: 0,
      unchanged: 1,
      corrected: 0,
      rejected: 1,
      failed: 0,
      events_appended: 0,
    });
    expect(rejectsOf(corrections)).toMatchObject([refused]);

    // The season's feed again: nothing to do.
    const again = await runCli(['ingest', feed, '--data-dir', data, '--json']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      read: rows.length,
      unchanged: rows.length,
      events_appended: 0,
    });

    // Through the server holding the folder: the same.
    const server = await serveFolder(data);
    try {
      const served = await runCli(['ingest', corrections, '--data-dir', data, '--json']);
      expect(served.code, served.stderr).toBe(3);
      expect(JSON.parse(served.stdout)).toMatchObject({
        store: expect.stringContaining('the server holding'),
        read: 2,
        unchanged: 1,
        rejected: 1,
        failed: 0,
      });
      expect(rejectsOf(corrections)).toMatchObject([refused]);
    } finally {
      expect(await server.stop()).toBe(0);
    }

    // start on the folder: the refused row is reported with its line, nothing rated.
    const started = await runCli(['start', corrections, '--data-dir', data, '--quiet']);
    expect(started.code).toBe(3);
    expect(started.stderr).toContain(`matchstream: ${corrections}:2: ${refused.reason}\n`);
    expect(started.stderr).toContain('matchstream: 1 row refused; nothing rated');
  }, 180_000);
});
