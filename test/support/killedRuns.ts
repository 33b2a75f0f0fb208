import type { Game } from '../../domain/games/Game.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import type { StoredDoc } from '../../projections/Projection.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { startEmbeddedDynamo } from '../../stream/local/embeddedDynamo.js';
import { storeDir } from '../../stream/local/openEventStore.js';

/**
 * A season with match ids, and a second feed correcting one match in four: another score,
 * and for every other one of them another day (so a match's copies move).
 */
export function seasonAndCorrections(seed: number, teams: number, gamesPerTeam: number) {
  const games: Game[] = generateSeason({ teams, gamesPerTeam, seed }).games.map((g, i) => ({
    ...g,
    matchId: `k${i}`,
  }));
  const corrections = games
    .filter((_, i) => i % 4 === 0)
    .map((g, i) => ({
      ...g,
      homeScore: g.homeScore + 1,
      ...(i % 2 === 0 ? { date: nextDay(g.date) } : {}),
    }));
  return { games, corrections };
}

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Every document of a table in a data folder no process holds, in key order. */
export async function tableDocs(dataDir: string, table: string): Promise<StoredDoc[]> {
  const server = await startEmbeddedDynamo({ dataDir: storeDir(dataDir) });
  const client = dynamoClient({ endpoint: server.endpoint });
  try {
    const docs: StoredDoc[] = [];
    for await (const page of new DynamoDocumentStore(client, table).scanAll()) docs.push(...page);
    return docs.sort((a, b) => (`${a.pk}\u0000${a.sk}` < `${b.pk}\u0000${b.sk}` ? -1 : 1));
  } finally {
    client.destroy();
    await server.stop();
  }
}
