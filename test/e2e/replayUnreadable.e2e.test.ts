import { readFileSync } from 'node:fs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { toItem } from '../../stream/eventStore/commitItem.js';
import { EVENTS_TABLE } from '../../stream/eventStore/eventsTable.js';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { runCli } from '../support/cli.js';
import { corruptCommit } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

describe('matchstream replay and rebuild past an unreadable stored event', () => {
  it('keeps it aside with why, delivers the rest, and exits 3 (replay) or dead-letters it (rebuild)', async () => {
    // Prepare: a small season ingested into a data folder, then a commit of corrupt Avro.
    const data = tmp.path('data');
    const season = generateSeason({ teams: 6, gamesPerTeam: 2, seed: 5 });
    const feed = tmp.file(
      'games.csv',
      `${[GAMES_CSV_HEADER, ...season.games.map((g, i) => gameCsvRow({ ...g, matchId: `u${i}` }))].join('\n')}\n`,
    );
    const ingest = await runCli(['ingest', feed, '--data-dir', data, '--json', '--no-progress']);
    expect(ingest.code).toBe(0);
    const opened = await openEventStore({ dataDir: data });
    try {
      await opened.client.send(
        new PutItemCommand({
          TableName: EVENTS_TABLE,
          Item: toItem(
            corruptCommit(
              'team:Corrupt',
              1,
              'TeamRegistered',
              '77777777-7777-4777-8777-777777777777',
            ),
          ),
        }),
      );
    } finally {
      await opened.close();
    }
    const out = tmp.path('events.jsonl');
    const unreadable = tmp.path('unreadable.jsonl');

    // Act
    const replayed = await runCli([
      'replay',
      '--to',
      `file:${out}`,
      '--unreadable',
      unreadable,
      '--data-dir',
      data,
      '--json',
      '--no-progress',
    ]);
    const rebuilt = await runCli([
      'rebuild',
      '--projection',
      'teams',
      '--data-dir',
      data,
      '--json',
      '--no-progress',
    ]);
    const inspectedEvents = await runCli(['inspect', out]);
    const inspectedUnreadable = await runCli(['inspect', unreadable]);
    const letters = await runCli([
      'inspect',
      '--dead-letters',
      '--consumer',
      'rebuild:teams',
      '--data-dir',
      data,
    ]);

    // Assess: every good event in the file; the bad one aside with its reason; exit 3.
    expect(replayed.code).toBe(3);
    expect(replayed.stderr).toContain(
      `matchstream: 1 stored event could not be read (or follows one that cannot in its stream); they are in ${unreadable}`,
    );
    expect(JSON.parse(replayed.stdout)).toMatchObject({ completed: true, unreadable: 1 });
    const written = readFileSync(out, 'utf8').trim().split('\n');
    expect(written).toHaveLength(season.games.length + season.teams.length);
    const kept = readFileSync(unreadable, 'utf8').trim().split('\n');
    expect(kept).toHaveLength(1);
    expect(JSON.parse(kept[0] ?? '{}')).toMatchObject({
      aggregate_id: 'team:Corrupt',
      sequence: 1,
      event_id: '77777777-7777-4777-8777-777777777777',
      held_back: false,
      error: expect.stringMatching(/cannot decode the stored bytes/),
    });
    // inspect reads both files replay wrote: the events, and what could not be read.
    expect(inspectedEvents.code).toBe(0);
    const inspected = inspectedEvents.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(inspected).toHaveLength(written.length);
    expect(inspected[0]).toMatchObject({
      ...JSON.parse(written[0] ?? '{}'),
      writer_version: JSON.parse(written[0] ?? '{}').version,
      source: { replay_file: `${out}:1` },
    });
    expect(inspectedUnreadable.code).toBe(3);
    expect(inspectedUnreadable.stdout).toBe('');
    expect(inspectedUnreadable.stderr).toMatch(
      new RegExp(
        `^matchstream: ${unreadable}:1: team:Corrupt sequence 1 \\(event 77777777-7777-4777-8777-777777777777\\): cannot decode the stored bytes`,
      ),
    );
    // The rebuild goes on past it and dead-letters it; inspect shows where and why.
    expect(rebuilt.code).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ completed: true, unreadable: 1 });
    expect(letters.stderr).toContain('team:Corrupt sequence 1');
    expect(letters.stderr).toContain('cannot decode the stored bytes');
  }, 60_000);
});
