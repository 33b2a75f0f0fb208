import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('unknown-columns-');

describe('a games feed with columns its format does not know', () => {
  it('is read as before by rpi, ingest and start, each naming the columns and the ones they probably meant', async () => {
    // Prepare: match_id and neutral misspelt, and a column of the feed's own.
    const feed = tmp.file(
      'season.csv',
      [
        'matchid,date,home_team,away_team,home_score,away_score,nuetral,attendance',
        'm1,2026-09-01,Alpha,Beta,2,1,true,900',
        'm2,2026-09-03,Beta,Gamma,0,0,false,450',
        'm3,2026-09-05,Gamma,Alpha,1,3,false,300',
        'm1,2026-09-01,Alpha,Beta,2,2,true,900',
      ].join('\n'),
    );
    const warnings = [
      `matchstream: warning: ${feed}: unknown column "matchid" (did you mean "match_id"?): ignored`,
      `matchstream: warning: ${feed}: unknown column "nuetral" (did you mean "neutral"?): ignored`,
      `matchstream: warning: ${feed}: unknown column "attendance": ignored`,
    ];

    // Act
    const rpi = await runCli(['rpi', feed, '--format', 'json']);
    const ingest = await runCli(['ingest', feed, '--memory', '--json']);
    const start = await runCli(['start', feed, '--memory', '--quiet', '--json']);

    // Assess: warnings on standard error, the results as without them (the correction of m1
    // is a game of its own, match_id unseen).
    expect(rpi.stderr).toBe(`${warnings.join('\n')}\n`);
    expect(rpi.code).toBe(0);
    expect(JSON.parse(rpi.stdout)).toMatchObject({
      games: { rows: 4, superseded: 0, counted: 4 },
    });
    expect(ingest.stderr).toBe(`${warnings.join('\n')}\n`);
    expect(ingest.code).toBe(0);
    expect(JSON.parse(ingest.stdout)).toMatchObject({ read: 4, appended: 4, corrected: 0 });
    expect(start.stderr).toBe(`${warnings.join('\n')}\n`);
    expect(start.code).toBe(0);
    expect(JSON.parse(start.stdout)).toMatchObject({ games_counted: 4 });
  }, 120_000);
});
