import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../api/createApi.js';
import { awsQueryService } from '../../../pipeline/aws/sagas.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { DynamoBreakerStateStore } from '../../../stream/breaker/BreakerStateStore.js';
import { DynamoDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureBreakersTable, ensureKeyValueTable } from '../../../stream/local/localTables.js';

/**
 * `GET /health` is public: whatever the dead-letter table holds, one request must cost the
 * same few small reads, never a scan of the letters (each up to 400 KB).
 */
describe('GET /health on AWS', () => {
  let dynamo: EmbeddedDynamo;
  let client: ReturnType<typeof dynamoClient>;
  const readModelTables = Object.fromEntries(READ_MODELS.map((p) => [p.name, `h-rm-${p.name}`]));
  const sagaTables = {
    work: 'h-work',
    directory: 'h-directory',
    cache: 'h-cache',
    notifications: 'h-notifications',
  };
  const env = {
    EVENTS_TABLE: 'h-events',
    DEAD_LETTERS_TABLE: 'h-dead-letters',
    BREAKERS_TABLE: 'h-breakers',
    READ_MODEL_TABLES: JSON.stringify(readModelTables),
    SAGA_TABLES: JSON.stringify(sagaTables),
  };
  /** The commands the API function sent, by table: `Query`, `Scan`, ... */
  const calls: { table: string; command: string }[] = [];

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    client = dynamoClient({ endpoint: dynamo.endpoint });
    await ensureEventsTable(client, env.EVENTS_TABLE);
    await ensureKeyValueTable(client, env.DEAD_LETTERS_TABLE, 'consumer', 'id');
    await ensureBreakersTable(client, env.BREAKERS_TABLE);
    for (const table of [...Object.values(readModelTables), ...Object.values(sagaTables)])
      await DynamoDocumentStore.open(client, table);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: string };
        calls.push({
          table: input.TableName ?? '',
          command: String(context.commandName).replace(/Command$/, ''),
        });
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
  });

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  /** Stores letters as the consumers and bus targets do. */
  async function giveUp(consumer: string, n: number): Promise<void> {
    const queue = new DynamoDeadLetterQueue(client, env.DEAD_LETTERS_TABLE);
    for (let i = 0; i < n; i++)
      await queue.send({
        consumer,
        event: { id: `e${i}`, detail: 'x'.repeat(10_000) },
        error: 'refused',
        attempts: 3,
        failed_at: `2026-12-01T10:00:${String(i % 60).padStart(2, '0')}.000Z`,
      });
  }

  /** One request: its answer, and the commands it sent to the dead-letter table. */
  async function health() {
    const app = createApi(awsQueryService(env, client), { gateway: 'iam' });
    calls.length = 0;
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      dead_letters: number;
      breakers: { name: string; state: string; half_open_at?: string; reason?: string }[];
    };
    return { body, calls: calls.filter((c) => c.table === env.DEAD_LETTERS_TABLE) };
  }

  it('counts the dead letters with one query of their counters, however many there are', async () => {
    // Prepare
    await giveUp('bus-router', 3);
    await giveUp('bus:matchstream-dev-soccer/match-event-handler', 2);

    // Act
    const few = await health();
    await giveUp('bus-router', 40);
    const many = await health();

    // Assess
    expect(few.body.dead_letters).toBe(5);
    expect(many.body.dead_letters).toBe(45);
    expect(few.calls).toEqual([{ table: env.DEAD_LETTERS_TABLE, command: 'Query' }]);
    expect(many.calls).toEqual(few.calls);
  });

  it('shows the breakers as their functions share them, degraded while one is open', async () => {
    // Prepare: the read-models consumer's breaker opened by one of its instances.
    const shared = new DynamoBreakerStateStore(client, env.BREAKERS_TABLE);
    const before = await health();
    const openedAt = Date.parse('2026-12-01T10:00:00Z');
    await shared.put({
      breaker: 'read-models/read-model-tables',
      state: 'open',
      opened_at: openedAt,
      half_open_at: openedAt + 5_000,
      reason: 'ProvisionedThroughputExceededException',
      policy: '{}',
      updated_at: openedAt,
      by: 'instance-1',
    });

    // Act
    const after = await health();

    // Assess
    expect(before.body.breakers).toEqual([]);
    expect(after.body.status).toBe('degraded');
    expect(after.body.breakers).toEqual([
      {
        name: 'read-models/read-model-tables',
        state: 'open',
        opened_at: '2026-12-01T10:00:00.000Z',
        half_open_at: '2026-12-01T10:00:05.000Z',
        reason: 'ProvisionedThroughputExceededException',
      },
    ]);
  });
});
