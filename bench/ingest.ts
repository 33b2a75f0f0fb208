/**
 * Ingest throughput into the embedded store (matches/s) next to dynalite's raw conditional
 * PutItem rate at the same concurrency, both measured in this process on the same kind of
 * in-memory dynalite, so the ratio holds on a noisy machine.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { generateSeason } from '../domain/season/generateSeason.js';
import type { GameRow } from '../feeds/readGames.js';
import { ingestGames } from '../ingest/ingestGames.js';
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { dynamoClient } from '../stream/aws/dynamoClient.js';
import { DynamoEventStore } from '../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../stream/eventStore/eventsTable.js';
import { startEmbeddedDynamo } from '../stream/local/embeddedDynamo.js';

export interface IngestScenario {
  readonly name: string;
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly concurrency: number;
  /** Conditional PutItems of each baseline run. @default 3,000 */
  readonly rawPuts?: number;
  /** Rounds counted, each the raw rate then the ingest, after one of each not counted. @default 5 */
  readonly rounds?: number;
}

export const INGEST_SCENARIOS: readonly IngestScenario[] = [
  { name: 'ingest-330-teams', teams: 330, gamesPerTeam: 18, concurrency: 16 },
  { name: 'ingest-1000-teams', teams: 1000, gamesPerTeam: 30, concurrency: 16, rounds: 3 },
];

/** Conditional PutItems of items shaped like a one-event commit, `concurrency` in flight. */
async function rawPutItemRate(count: number, concurrency: number): Promise<number> {
  const dynamo = await startEmbeddedDynamo();
  const client = dynamoClient({ endpoint: dynamo.endpoint, maxSockets: concurrency * 2 });
  await ensureEventsTable(client, 'raw');
  const data = Buffer.alloc(90, 7);
  const fingerprint = Buffer.alloc(32, 3);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await client.send(
          new PutItemCommand({
            TableName: 'raw',
            Item: {
              aggregate_id: { S: `match:2026-${String(i).padStart(6, '0')}` },
              sequence: { N: '1' },
              last_sequence: { N: '1' },
              committed_at: { S: new Date().toISOString() },
              events: {
                L: [
                  {
                    M: {
                      event_id: { S: randomUUID() },
                      event_type: { S: 'MatchRecorded' },
                      version: { N: '2' },
                      fingerprint: { B: fingerprint },
                      data: { B: data },
                      timestamp: { S: new Date().toISOString() },
                      correlation_id: { S: 'bench' },
                      causation_id: { NULL: true },
                    },
                  },
                ],
              },
            },
            ConditionExpression: 'attribute_not_exists(aggregate_id)',
          }),
        );
      }
    }),
  );
  const rate = count / ((performance.now() - started) / 1000);
  client.destroy();
  await dynamo.stop();
  return rate;
}

async function ingestRate(scenario: IngestScenario) {
  const season = generateSeason({
    teams: scenario.teams,
    gamesPerTeam: scenario.gamesPerTeam,
    seed: 9,
  });
  const rows: GameRow[] = season.games.map((game, i) => ({
    kind: 'game',
    line: i + 2,
    game,
    fields: {},
  }));
  async function* batches() {
    for (let i = 0; i < rows.length; i += 1000) yield rows.slice(i, i + 1000);
  }
  const dynamo = await startEmbeddedDynamo();
  const client = dynamoClient({ endpoint: dynamo.endpoint, maxSockets: scenario.concurrency * 2 });
  await ensureEventsTable(client, 'events');
  const store = new DynamoEventStore({
    client,
    table: 'events',
    registry: SchemaRegistry.fromDirectory(),
  });
  const started = performance.now();
  const summary = await ingestGames(batches(), { store, concurrency: scenario.concurrency });
  const seconds = (performance.now() - started) / 1000;
  client.destroy();
  await dynamo.stop();
  if (summary.appended !== rows.length)
    throw new Error(`ingested ${summary.appended} of ${rows.length}`);
  return { matches: rows.length, events: summary.events_appended, seconds };
}

/** The middle value (the mean of the two middle ones for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * One scenario: a round of the raw PutItem rate and of the ingest not counted (both warm up),
 * then `rounds` rounds of the two in turn, each on a fresh store; value and baseline are the
 * medians of the counted rounds. (Run once before and once after, the first raw run came in
 * cold: the baseline moved by a third between runs of the same build.)
 */
export async function measure(scenario: IngestScenario) {
  const puts = scenario.rawPuts ?? 3000;
  const rounds = Math.max(1, scenario.rounds ?? 5);
  const raw: number[] = [];
  const rates: number[] = [];
  let ingest = await ingestRate(scenario);
  await rawPutItemRate(puts, scenario.concurrency);
  for (let round = 0; round < rounds; round++) {
    raw.push(await rawPutItemRate(puts, scenario.concurrency));
    ingest = await ingestRate(scenario);
    rates.push(ingest.matches / ingest.seconds);
  }
  const baseline = median(raw);
  const value = median(rates);
  return {
    scenario: scenario.name,
    matches: ingest.matches,
    events: ingest.events,
    concurrency: scenario.concurrency,
    rounds,
    value: Math.round(value),
    unit: 'matches/s',
    baseline: Math.round(baseline),
    baseline_unit: 'conditional PutItem/s (dynalite in memory, same concurrency)',
    ratio: Number((value / baseline).toFixed(3)),
    events_per_second: Math.round((value * ingest.events) / ingest.matches),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  const scenario = INGEST_SCENARIOS.find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(
      `unknown scenario ${name}; known: ${INGEST_SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure(scenario))}\n`);
}
