import { join } from 'node:path';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { Game } from '../../domain/games/Game.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import type { StoredDoc } from '../../projections/Projection.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { kinesisClient } from '../../stream/aws/kinesisClient.js';
import { itemFromJson } from '../../stream/changes/attributeJson.js';
import { parseChangeRecord } from '../../stream/changes/ChangeRecord.js';
import { DynamoPositionStore } from '../../stream/consumer/DynamoPositionStore.js';
import { EVENTS_TABLE } from '../../stream/eventStore/eventsTable.js';
import { CHANGES_STREAM } from '../../stream/local/EmbeddedRuntime.js';
import { startEmbeddedDynamo } from '../../stream/local/embeddedDynamo.js';
import { startEmbeddedKinesis } from '../../stream/local/embeddedKinesis.js';
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

/** What a data folder holds, read without starting anything that would change it. */
export interface FolderState {
  /** Stored commits, `aggregate#sequence`, with their last sequence. */
  readonly stored: Map<string, number>;
  /** Change records on the stream, by commit (`aggregate#sequence`): how many times each. */
  readonly streamed: Map<string, number>;
  /** Every document of each table asked for, in key order. */
  readonly tables: Record<string, StoredDoc[]>;
  /** The last sequence a consumer applied, per stream. */
  readonly positions: Map<string, number>;
}

/** Reads a data folder no process holds: the events table, the stream, tables, positions. */
export async function folderState(
  dataDir: string,
  tables: readonly string[],
  consumer: string,
): Promise<FolderState> {
  const dynamo = await startEmbeddedDynamo({ dataDir: storeDir(dataDir) });
  const kinesis = await startEmbeddedKinesis({ dataDir: join(dataDir, 'kinesis') });
  const ddb = dynamoClient({ endpoint: dynamo.endpoint });
  const kin = kinesisClient({ endpoint: kinesis.endpoint });
  try {
    const stored = new Map<string, number>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await ddb.send(
        new ScanCommand({
          TableName: EVENTS_TABLE,
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? [])
        stored.set(
          `${item.aggregate_id?.S}#${item.sequence?.N}`,
          Number(item.last_sequence?.N ?? item.sequence?.N),
        );
      start = page.LastEvaluatedKey;
    } while (start);

    const streamed = new Map<string, number>();
    const { Shards } = await kin.send(new ListShardsCommand({ StreamName: CHANGES_STREAM }));
    for (const shard of Shards ?? []) {
      let iterator = (
        await kin.send(
          new GetShardIteratorCommand({
            StreamName: CHANGES_STREAM,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (iterator) {
        const page = await kin.send(new GetRecordsCommand({ ShardIterator: iterator }));
        for (const record of page.Records ?? []) {
          const keys = itemFromJson(
            parseChangeRecord(record.Data ?? new Uint8Array()).dynamodb.Keys,
          );
          const key = `${keys.aggregate_id?.S}#${keys.sequence?.N}`;
          streamed.set(key, (streamed.get(key) ?? 0) + 1);
        }
        iterator = (page.Records ?? []).length > 0 ? page.NextShardIterator : undefined;
      }
    }

    const docs: Record<string, StoredDoc[]> = {};
    for (const table of tables) {
      const all: StoredDoc[] = [];
      for await (const page of new DynamoDocumentStore(ddb, table).scanAll()) all.push(...page);
      docs[table] = all.sort((a, b) => (`${a.pk}\u0000${a.sk}` < `${b.pk}\u0000${b.sk}` ? -1 : 1));
    }
    const streams = [...new Set([...stored.keys()].map((k) => k.slice(0, k.lastIndexOf('#'))))];
    const positions = await new DynamoPositionStore(ddb, consumer).positions(streams);
    return { stored, streamed, tables: docs, positions };
  } finally {
    ddb.destroy();
    kin.destroy();
    await kinesis.stop();
    await dynamo.stop();
  }
}
