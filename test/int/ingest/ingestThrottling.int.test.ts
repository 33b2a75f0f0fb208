import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GameRow } from '../../../feeds/readGames.js';
import { ingestGames, type Reject } from '../../../ingest/ingestGames.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { game } from '../../support/games.js';
import { registry } from '../../support/registry.js';

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});

type Fault = 'none' | 'throttle' | 'lose-response';

/**
 * A DynamoDB client with a fault injected into attempt n of each PutItem (from 1): throttled
 * before reaching the server, or applied by the server and its response lost on the way back.
 */
function faultyClient(fault: (attempt: number) => Fault, maxAttempts: number) {
  const client: DynamoDBClient = dynamoClient({
    endpoint: dynamo.endpoint,
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, (attempt) => 5 * attempt),
  });
  let attempts = 0;
  const perRequest = new WeakMap<object, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutItemCommand') return next(args);
      attempts++;
      // The retry middleware sends the same input object again on each attempt.
      const attempt = (perRequest.get(args.input) ?? 0) + 1;
      perRequest.set(args.input, attempt);
      const what = fault(attempt);
      const throttled = () =>
        new ProvisionedThroughputExceededException({
          message: 'The level of configured provisioned throughput for the table was exceeded',
          $metadata: { httpStatusCode: 400 },
        });
      if (what === 'throttle') throw throttled();
      const result = await next(args);
      if (what === 'lose-response') throw throttled();
      return result;
    },
    { step: 'deserialize', name: 'faultForTest' },
  );
  return { client, attempts: () => attempts };
}

function rows(prefix: string, n: number): GameRow[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'game',
    line: i + 2,
    game: game(`${prefix}${i} 1-0 ${prefix}x${i}`, { matchId: `${prefix}-${i}` }),
    fields: {},
  }));
}

async function* once<T>(items: T[]) {
  yield items;
}

async function stored(store: DynamoEventStore) {
  const events = [];
  for await (const batch of store.readAll()) events.push(...batch);
  return events;
}

describe('ingest under DynamoDB faults', () => {
  it('retries throttled writes and stores every row once', async () => {
    // Prepare: the first two attempts of every PutItem are throttled.
    const { client, attempts } = faultyClient((n) => (n <= 2 ? 'throttle' : 'none'), 4);
    await ensureEventsTable(client, 'throttled');
    const store = new DynamoEventStore({ client, table: 'throttled', registry });

    // Act
    const summary = await ingestGames(once(rows('t', 20)), { store, concurrency: 4 });

    // Assess
    expect(summary).toMatchObject({
      read: 20,
      appended: 20,
      failed: 0,
      teams_registered: 40,
      events_appended: 60,
    });
    expect(attempts()).toBe(3 * 60);
    expect(await stored(store)).toHaveLength(60);
    client.destroy();
  });

  it('recognises its own write when the response was lost, and counts it once', async () => {
    // The server applies each PutItem, but the client sees its first attempt fail and retries.
    const { client } = faultyClient((n) => (n === 1 ? 'lose-response' : 'none'), 4);
    await ensureEventsTable(client, 'lossy');
    const store = new DynamoEventStore({ client, table: 'lossy', registry });

    const summary = await ingestGames(once(rows('l', 20)), { store, concurrency: 4 });

    expect(summary).toMatchObject({
      read: 20,
      appended: 20,
      unchanged: 0,
      failed: 0,
      teams_registered: 40,
      events_appended: 60,
    });
    const events = await stored(store);
    expect(events).toHaveLength(60);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(60);
    client.destroy();
  });

  it('rejects a row whose writes stay throttled past the retries, naming the cause', async () => {
    const { client } = faultyClient(() => 'throttle', 2);
    await ensureEventsTable(client, 'saturated');
    const store = new DynamoEventStore({ client, table: 'saturated', registry });
    const rejects: Reject[] = [];

    const summary = await ingestGames(once(rows('s', 2)), {
      store,
      onReject: (r) => rejects.push(r),
    });

    expect(summary).toMatchObject({ read: 2, appended: 0, failed: 2, teams_failed: 4 });
    expect(rejects.filter((r) => r.reason.startsWith('not stored:'))).toHaveLength(2);
    expect(rejects[0]?.reason).toMatch(/ProvisionedThroughputExceededException/);
    client.destroy();
  });
});
