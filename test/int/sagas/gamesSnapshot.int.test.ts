import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import {
  deleteGamesSnapshot,
  GAMES_PER_PART,
  readGamesSnapshot,
  writeGamesSnapshot,
} from '../../../sagas/rpi/gamesSnapshot.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let work: DynamoDocumentStore;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
  work = await DynamoDocumentStore.open(client, 'saga-work');
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

const expiresAt = Math.ceil(Date.now() / 1000) + 86_400;

describe("a saga's snapshot of the games", () => {
  it('holds a season whose games would not fit in one item, in parts, and gives it back whole', async () => {
    // 3,000 teams playing 20 games: 30,900 games, about 575 KB gzipped in one item.
    const { games } = generateSeason({ teams: 3000, gamesPerTeam: 20, seed: 7 });
    const conferences = { 'team-1': 'East', 'team-2': 'West' };
    await expect(
      work.write([{ pk: 'saga#whole', sk: 'games', doc: { games }, expires_at: expiresAt }], []),
    ).rejects.toThrow(/takes \d+ bytes gzipped; the limit is 399360/);

    await writeGamesSnapshot(work, 'big', { games, conferences }, expiresAt);

    const parts = await work.query('saga#big', { prefix: 'games#' });
    expect(parts).toHaveLength(Math.ceil(games.length / GAMES_PER_PART));
    expect(await readGamesSnapshot(work, 'big')).toEqual({ games, conferences });
  });

  it('is gone when its head or any part is: never a part of the games', async () => {
    const { games } = generateSeason({ teams: 1200, gamesPerTeam: 20, seed: 8 });
    await writeGamesSnapshot(work, 'partial', { games }, expiresAt);
    expect((await readGamesSnapshot(work, 'partial'))?.games).toHaveLength(games.length);

    await work.write([], [{ pk: 'saga#partial', sk: 'games#00001' }]);

    expect(await readGamesSnapshot(work, 'partial')).toBeUndefined();
    expect(await readGamesSnapshot(work, 'never-written')).toBeUndefined();
  });

  it('reads the one-item snapshot that earlier releases wrote', async () => {
    const { games } = generateSeason({ teams: 40, gamesPerTeam: 10, seed: 9 });
    await work.write(
      [{ pk: 'saga#earlier', sk: 'games', doc: { games }, expires_at: expiresAt }],
      [],
    );

    expect(await readGamesSnapshot(work, 'earlier')).toEqual({ games });
  });

  it('is deleted whole, parts and head', async () => {
    const { games } = generateSeason({ teams: 1200, gamesPerTeam: 20, seed: 10 });
    await writeGamesSnapshot(work, 'released', { games }, expiresAt);

    await deleteGamesSnapshot(work, 'released');

    expect(await work.query('saga#released')).toEqual([]);
    expect(await readGamesSnapshot(work, 'released')).toBeUndefined();
  });
});
