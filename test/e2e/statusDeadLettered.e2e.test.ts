import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../../feeds/writeGames.js';
import { toItem } from '../../stream/eventStore/commitItem.js';
import { EVENTS_TABLE, RELAY_MARKER } from '../../stream/eventStore/eventsTable.js';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { runCli, serveFolder } from '../support/cli.js';
import { corruptCommit } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('status-dead-lettered-e2e-');

describe('matchstream status after the read models dead-lettered an event', () => {
  it('says it apart from what is pending, once a pipeline has run', async () => {
    // Prepare: a season run on a folder, then a commit of corrupt Avro, then a pipeline again.
    const data = tmp.path('data');
    const season = generateSeason({ teams: 6, gamesPerTeam: 2, seed: 5 });
    const feed = tmp.file(
      'games.csv',
      `${[GAMES_CSV_HEADER, ...season.games.map((g, i) => gameCsvRow({ ...g, matchId: `u${i}` }))].join('\n')}\n`,
    );
    expect((await runCli(['start', feed, '--data-dir', data, '--quiet'])).code).toBe(0);
    const opened = await openEventStore({ dataDir: data });
    try {
      await opened.client.send(
        new PutItemCommand({
          TableName: EVENTS_TABLE,
          Item: {
            ...toItem(corruptCommit('match:corrupt', 1, 'MatchRecorded', 'e-corrupt')),
            ...RELAY_MARKER,
          },
        }),
      );
    } finally {
      await opened.close();
    }
    // The pipeline reads the corrupt event and the read models give up on it.
    expect((await runCli(['start', feed, '--data-dir', data, '--quiet'])).code).toBe(0);

    // Act: status alone, then while a server holds the folder.
    const text = await runCli(['status', '--data-dir', data, '--no-progress']);
    const json = await runCli(['status', '--data-dir', data, '--json']);
    const served = await serveFolder(data);
    let servedText: Awaited<ReturnType<typeof runCli>>;
    let servedJson: Awaited<ReturnType<typeof runCli>>;
    let counted: { total: number }[];
    try {
      servedText = await runCli(['status', '--data-dir', data, '--no-progress']);
      servedJson = await runCli(['status', '--data-dir', data, '--json']);
      counted = await Promise.all(
        ['/store', '/health'].map(
          async (route) =>
            ((await (await fetch(`${served.url}${route}`)).json()) as { events: { total: number } })
              .events,
        ),
      );
    } finally {
      expect(await served.stop()).toBe(0);
    }

    // Assess: nothing pending, the corrupt event said apart; the same through the server.
    expect([text.code, text.stderr]).toEqual([0, '']);
    const report = JSON.parse(json.stdout) as {
      events: { total: number };
      applied: { total: number; pending: number; dead_lettered: number };
    };
    expect(report.applied).toEqual({
      total: report.events.total - 1,
      pending: 0,
      dead_lettered: 1,
    });
    expect(text.stdout).toContain(
      `  read models  ${report.events.total - 1} applied, 1 dead-lettered (see "matchstream dead-letters list")\n`,
    );
    expect(text.stdout).not.toContain('pending');
    expect(servedText.stdout).toBe(text.stdout);
    expect(JSON.parse(servedJson.stdout).applied).toEqual(report.applied);
    // The API's event counts are the read models' (as documented): the corrupt event is not one.
    expect(counted.map((events) => events.total)).toEqual([
      report.applied.total,
      report.applied.total,
    ]);
  });
});
