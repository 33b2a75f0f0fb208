import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRpiVariant } from '../../../domain/rpi/computeRpiVariant.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { Projector } from '../../../projections/Projector.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { currentRankings, rankingsProjection } from '../../../projections/readModels/rankings.js';
import {
  type CachedRankings,
  deleteCache,
  readCache,
  writeCache,
} from '../../../sagas/rpi/rankingsCache.js';
import { rpiCalculated } from '../../../sagas/rpi/rpiCalculation.js';
import { calculationOf, rpiSaga, rpiSagaData } from '../../../sagas/rpi/rpiSaga.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { uuidFromName } from '../../../stream/uuid.js';
import { envelope, recordedGame } from '../../support/envelopes.js';
import { registry } from '../../support/registry.js';

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

/** A season's calculation as the saga records it. */
function calculation(teams: number) {
  const season = generateSeason({ teams, gamesPerTeam: 20, seed: 2026 });
  const result = computeRpiVariant(season.games, { season: '2026' });
  const id = uuidFromName(`large-rankings-${teams}`);
  return rpiCalculated(result, id, new Date('2026-11-20T12:00:00Z'), {
    division: null,
    games: season.games,
  }).data;
}

const cacheDocument = (c: ReturnType<typeof calculation>): CachedRankings => ({
  season: c.season,
  calculation_id: c.calculation_id,
  as_of: null,
  profile: c.profile,
  division: null,
  variant: 'unadjusted',
  games_counted: c.games_counted,
  computed_at: c.computed_at,
  published_at: '2026-11-20T12:00:01.000Z',
  rankings: c.rankings,
  previous_calculation_id: null,
  saga_id: null,
  collected_at: '2026-11-20T12:00:00.000Z',
});

describe('the rankings of a 10,000-team season on DynamoDB', () => {
  // 10,000 teams playing 20 games: their rankings take about 500 KB gzipped, over an item.
  const large = calculation(10_000);

  it('are kept in the rankings cache in parts, read back whole, and leave nothing when replaced', async () => {
    // Prepare
    const cache = await DynamoDocumentStore.open(client, 'rankings-cache');
    const document = cacheDocument(large);
    await expect(
      cache.write([{ pk: 'season#whole', sk: 'current', doc: document }], []),
    ).rejects.toThrow(/takes \d+ bytes gzipped; the limit is 399360/);

    // Act
    await writeCache(cache, document);

    // Assess
    expect(await readCache(cache, '2026')).toEqual(document);
    const items = await cache.query('season#2026');
    expect(items.length).toBeGreaterThanOrEqual(11);

    // Replaced by a small season's rankings: the parts go.
    const small = cacheDocument(calculation(40));
    await writeCache(cache, small);
    expect(await readCache(cache, '2026')).toEqual(small);
    expect((await cache.query('season#2026')).map((d) => d.sk)).toEqual(['current']);

    // Replaced again by the large one, then deleted: nothing left.
    await writeCache(cache, document);
    await deleteCache(cache, '2026');
    expect(await readCache(cache, '2026')).toBeUndefined();
    expect(await cache.query('season#2026')).toEqual([]);
  });

  it('are kept by the rankings read model in parts, and served whole once published', async () => {
    // Prepare
    const store = await DynamoDocumentStore.open(client, 'rm-rankings');
    const stream = `rpi:${large.calculation_id}`;

    // Act
    await new Projector(rankingsProjection, store).apply([
      envelope('RpiCalculated', stream, 1, large),
      envelope('RpiResultsPublished', stream, 2, {
        calculation_id: large.calculation_id,
        season: '2026',
        as_of: null,
        published_at: '2026-11-20T12:00:01.000Z',
      }),
    ]);

    // Assess
    const served = await currentRankings(store, {
      season: '2026',
      profile: large.profile,
      division: null,
    });
    expect(served?.status).toBe('published');
    expect(served?.rankings).toEqual(large.rankings);
  });

  it('are kept by the saga that replaces them, and put back whole by its compensation', async () => {
    // Prepare: the season's current rankings are the large ones; the saga rates a small season.
    const cache = await DynamoDocumentStore.open(client, 'saga-cache');
    const snapshots = await DynamoDocumentStore.open(client, 'saga-work');
    const prior = cacheDocument(large);
    await writeCache(cache, prior);
    const matches = new InMemoryDocumentStore();
    const { games } = generateSeason({ teams: 12, gamesPerTeam: 5, seed: 4 });
    await new Projector(matchesProjection, matches).apply(
      games.map((g, i) => recordedGame(g, `m${i}`)),
    );
    const saga = rpiSaga({
      store: new InMemoryEventStore(registry),
      matches,
      teams: new InMemoryDocumentStore(),
      snapshots,
      cache,
      current: { profile: 'ncaa-soccer-2024', division: null },
    });
    const data = rpiSagaData(
      {
        season: '2026',
        as_of: null,
        profile: 'ncaa-soccer-2024',
        division: null,
        not_before: null,
      },
      new Date('2026-11-21T12:00:00Z'),
    );
    const signal = new AbortController().signal;
    const outputs: Record<string, unknown> = {};

    // Act: every step, in order.
    for (const step of saga.steps)
      outputs[step.name] = await step.action({ sagaId: 'big', data, outputs, attempt: 1, signal });

    // Assess: ours in place; the replaced rankings' parts gone from the cache, kept by the saga.
    expect((await readCache(cache, '2026'))?.calculation_id).toBe(calculationOf('big'));
    expect((await cache.query('season#2026')).filter((d) => d.sk.includes('#part#'))).toEqual([]);
    const kept = (await snapshots.query('saga#big')).filter((d) => d.sk.includes('#part#'));
    expect(kept.length).toBeGreaterThanOrEqual(10);

    // Act: undo the cache update, then release the saga's snapshots, as compensating does.
    const [collect, , , update] = saga.steps;
    await update?.compensation?.run({ sagaId: 'big', data, output: undefined, attempt: 1, signal });
    await collect?.compensation?.run({
      sagaId: 'big',
      data,
      output: undefined,
      attempt: 1,
      signal,
    });

    // Assess
    expect(await readCache(cache, '2026')).toEqual(prior);
    expect(await snapshots.query('saga#big')).toEqual([]);
  });
});
