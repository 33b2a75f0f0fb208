import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { runCli } from '../support/cli.js';
import { exportDataFolder } from '../support/folderArchive.js';
import { tempDir } from '../support/tempDir.js';

const folder = tempDir('archive-expire-');
const data = folder.path('data');

/** The events of a replay to a file (by a scan of the table, or through the archive), in a stable order. */
async function replayed(name: string, source: 'scan' | 'archive' = 'scan'): Promise<string[]> {
  const path = folder.path(`${name}.jsonl`);
  const run = await runCli([
    'replay',
    '--to',
    `file:${path}`,
    '--source',
    source,
    '--data-dir',
    data,
    '--json',
  ]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

describe('matchstream archive close-season and expire', () => {
  it('closes a season, refuses to expire without a covering export, then expires it', async () => {
    // Prepare: two seasons in a data folder.
    for (const season of ['2024', '2025']) {
      const file = folder.path(`${season}.csv`);
      const generated = await runCli([
        'generate',
        '--team-count',
        '8',
        '--games-per-team',
        '3',
        '--season',
        season,
        '--seed',
        season,
        '--out',
        file,
      ]);
      expect(generated.code).toBe(0);
      const ingested = await runCli([
        'ingest',
        file,
        '--data-dir',
        data,
        '--json',
        '--no-progress',
      ]);
      expect(ingested.code).toBe(0);
    }
    const before = await replayed('before');

    // Act + Assess: the default is that nothing expires, and the help says so.
    const help = await runCli(['archive', 'expire', '--help']);
    expect(help.stdout).toContain('By default nothing expires');
    const notClosed = await runCli(['archive', 'expire', '--season', '2024', '--data-dir', data]);
    expect(notClosed).toMatchObject({
      code: 1,
      stderr:
        'matchstream: archive expire: season 2024 is not closed: run "matchstream archive close-season 2024" first\n',
    });
    // A season the folder holds no event of is not closed.
    const unknown = await runCli(['archive', 'close-season', '1999', '--data-dir', data]);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(
      /^matchstream: archive close-season: season 1999 has no events in embedded dynalite \(.*\): nothing closed; ingest its games first, or check the season label\n$/,
    );
    const closed = await runCli(['archive', 'close-season', '2024', '--data-dir', data, '--json']);
    expect(closed.code).toBe(0);
    expect(JSON.parse(closed.stdout)).toMatchObject({ season: '2024', already_closed: false });
    const noExport = await runCli(['archive', 'expire', '--season', '2024', '--data-dir', data]);
    expect(noExport.code).toBe(1);
    expect(noExport.stderr.trim().split('\n')).toHaveLength(1);
    expect(noExport.stderr).toContain('holds no export');

    // An export of everything stored so far (dated as if taken two minutes on).
    await exportDataFolder(data);
    const expired = await runCli([
      'archive',
      'expire',
      '--season',
      '2024',
      '--data-dir',
      data,
      '--json',
    ]);
    expect(expired.stderr).toBe('');
    expect(expired.code).toBe(0);
    const summary = JSON.parse(expired.stdout);
    expect(summary).toMatchObject({ season: '2024', completed: true, remaining: 0, kept: [] });
    expect(summary.deleted).toBe(summary.commits);
    expect(summary.streams).toBeGreaterThan(0);

    // Readers see the same store; the table no longer holds the season.
    const after = await replayed('after');
    expect(after.filter((l) => !l.includes('"aggregate_id":"season:2024"'))).toEqual(before);
    expect(await replayed('after-archive', 'archive')).toEqual(after);
    // A full export taken after the expiry holds none of the season: the replay through the
    // archive reads it through the season's index.
    const exported = await runCli(['archive', 'export', '--data-dir', data, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(await replayed('after-export', 'archive')).toEqual(after);
    expect(after.filter((l) => l.includes('"event_type":"SeasonClosed"'))).toHaveLength(1);
    const check = await openEventStore({ dataDir: data, readOnly: true });
    try {
      const stream = JSON.parse(before.find((l) => l.includes('"season":"2024"')) ?? '{}');
      expect(await check.store.firstSequence(stream.aggregate_id)).toBeUndefined();
      expect((await check.store.read(stream.aggregate_id)).length).toBeGreaterThan(0);
    } finally {
      await check.close();
    }
    // `status` counts the table's events and those only the archive holds: the store's.
    const status = await runCli(['status', '--data-dir', data, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const { events } = JSON.parse(status.stdout);
    expect(events.archived).toEqual({
      events: expect.any(Number),
      streams: summary.streams,
      by_season: { '2024': events.archived.events },
    });
    expect(events.total + events.archived.events).toBe(after.length);
    expect(events.total).toBeLessThan(after.length);
    // Run again: nothing left to do.
    const again = await runCli([
      'archive',
      'expire',
      '--season',
      '2024',
      '--data-dir',
      data,
      '--json',
    ]);
    expect(JSON.parse(again.stdout)).toMatchObject({
      index_created: false,
      deleted: 0,
      completed: true,
    });
  }, 180_000);
});
