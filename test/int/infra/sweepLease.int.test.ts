import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sagaSweepHandler } from '../../../pipeline/aws/sagas.js';
import { SWEEP_LEASE_KEY, SweepLease } from '../../../pipeline/aws/sweepLease.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureBreakersTable } from '../../../stream/local/localTables.js';

describe('the saga sweep runs one at a time through a lease in the work table (no reserved concurrency)', () => {
  let dynamo: EmbeddedDynamo;
  let client: ReturnType<typeof dynamoClient>;
  const readModelTables = Object.fromEntries(READ_MODELS.map((p) => [p.name, `l-rm-${p.name}`]));
  const sagaTables = {
    work: 'l-work',
    directory: 'l-directory',
    cache: 'l-cache',
    notifications: 'l-notifications',
  };
  const env = {
    EVENTS_TABLE: 'l-events',
    DEAD_LETTERS_TABLE: 'l-dead-letters',
    BREAKERS_TABLE: 'l-breakers',
    READ_MODEL_TABLES: JSON.stringify(readModelTables),
    SAGA_TABLES: JSON.stringify(sagaTables),
  };
  /** The lease's clock, moved by hand. */
  const clock = { at: Date.parse('2026-12-01T12:00:00.000Z') };
  const now = () => clock.at;
  const lease = (durationMs = 60_000) =>
    new SweepLease(client, sagaTables.work, { durationMs, now });
  const leaseItem = async () =>
    (
      await client.send(
        new GetItemCommand({
          TableName: sagaTables.work,
          Key: { ...SWEEP_LEASE_KEY },
          ConsistentRead: true,
        }),
      )
    ).Item;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    client = dynamoClient({ endpoint: dynamo.endpoint });
    await ensureEventsTable(client, env.EVENTS_TABLE);
    await ensureBreakersTable(client, env.BREAKERS_TABLE);
    for (const table of [...Object.values(readModelTables), ...Object.values(sagaTables)])
      await DynamoDocumentStore.open(client, table);
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  it('gives the lease to exactly one of two sweeps taking it at once', async () => {
    const [a, b] = await Promise.all([lease().acquire(), lease().acquire()]);
    expect([a, b].filter((l) => l !== null)).toHaveLength(1);
    await (a ?? b)?.release();
    expect(await leaseItem()).toBeUndefined();
  });

  it('two sweeps at once: the one holding the lease drives, the other returns without driving', async () => {
    // The first sweep is held at its first read of the sagas read model (after taking the
    // lease) until the second has finished.
    const first = dynamoClient({ endpoint: dynamo.endpoint });
    let reached: () => void = () => {};
    const driving = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    first.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TableName?: string };
        if (input.TableName === readModelTables.sagas) {
          reached();
          await gate;
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const a = sagaSweepHandler(env, first, { now, remainingMs: () => 300_000 })();
    await driving;
    const b = await sagaSweepHandler(env, client, { now, remainingMs: () => 300_000 })();
    open();
    expect(b).toEqual({ driven: 0, skipped: 'lease-held' });
    expect(await a).toEqual({ driven: 0 });
    expect(await leaseItem()).toBeUndefined();
    first.destroy();
  });

  it('a sweep that finds the lease held returns without driving; once released, the next one drives', async () => {
    const held = await lease().acquire();
    expect(held).not.toBeNull();
    const sweep = sagaSweepHandler(env, client, { now, remainingMs: () => 300_000 });
    expect(await sweep()).toEqual({ driven: 0, skipped: 'lease-held' });
    // The held lease is untouched by the sweep that skipped.
    expect((await leaseItem())?.owner?.S).toBe(held?.owner);
    await held?.release();
    expect(await sweep()).toEqual({ driven: 0 });
    // The sweep gave its lease back at the end.
    expect(await leaseItem()).toBeUndefined();
  });

  it('takes over an expired lease; the old holder releasing afterwards leaves the new lease alone', async () => {
    const old = await lease(1000).acquire();
    expect(old).not.toBeNull();
    clock.at += 1000;
    // Not yet expired: the condition is lease_until < now.
    expect(await lease().acquire()).toBeNull();
    clock.at += 1;
    const next = await lease().acquire();
    expect(next).not.toBeNull();
    expect((await leaseItem())?.lease_until?.N).toBe(String(clock.at + 60_000));
    // The work table's TTL removes a lease nobody released, a second after it ran out at most.
    expect((await leaseItem())?.expires_at?.N).toBe(String(Math.ceil((clock.at + 60_000) / 1000)));
    await old?.release();
    expect((await leaseItem())?.owner?.S).toBe(next?.owner);
    expect(await lease().acquire()).toBeNull();
    await next?.release();
    expect(await leaseItem()).toBeUndefined();
  });

  it('holds the lease as long as the invocation may run', async () => {
    const sweep = sagaSweepHandler(env, client, { now, remainingMs: () => 299_000 });
    const other = sagaSweepHandler(env, client, { now, remainingMs: () => 299_000 });
    // A sweep that died mid-way leaves its lease: the next is skipped until it runs out.
    const dead = await lease(299_000).acquire();
    expect(dead).not.toBeNull();
    expect(await other()).toEqual({ driven: 0, skipped: 'lease-held' });
    clock.at += 299_001;
    expect(await sweep()).toEqual({ driven: 0 });
  });
});
