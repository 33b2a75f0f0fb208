import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EmbeddedPipeline,
  EXPIRING_TABLES,
  startPipeline,
} from '../../../pipeline/embeddedPipeline.js';
import { BREAKERS_TABLE } from '../../../stream/breaker/BreakerStateStore.js';
import { DEAD_LETTERS_TABLE } from '../../../stream/consumer/DeadLetterQueue.js';

let pipeline: EmbeddedPipeline | undefined;

afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

describe('the embedded pipeline', () => {
  it('deletes expired items from every table that expires them, and keeps the rest', async () => {
    // Prepare: in each expiring table, an item expired a day ago and one expiring tomorrow.
    pipeline = await startPipeline({ memory: true, ttlSweepMs: 50 });
    const now = Math.floor(Date.now() / 1000);
    const keyed = (table: string, which: string) =>
      table === BREAKERS_TABLE
        ? { breaker: `ttl-test-${which}` }
        : table === DEAD_LETTERS_TABLE
          ? { consumer: 'ttl-test', id: which }
          : { pk: 'ttl-test', sk: which };
    const dynamo = pipeline.runtime.dynamo;
    for (const { table } of EXPIRING_TABLES)
      for (const [which, expires] of [
        ['expired', now - 86_400],
        ['current', now + 86_400],
      ] as const)
        await dynamo.send(
          new PutItemCommand({
            TableName: table,
            Item: marshall({ ...keyed(table, which), expires_at: expires }),
          }),
        );
    const present = async (table: string, which: string) =>
      (
        await dynamo.send(
          new GetItemCommand({ TableName: table, Key: marshall(keyed(table, which)) }),
        )
      ).Item !== undefined;

    // Act: the sweeps that follow.
    await expect
      .poll(
        async () =>
          (await Promise.all(EXPIRING_TABLES.map(({ table }) => present(table, 'expired')))).some(
            Boolean,
          ),
        { timeout: 10_000 },
      )
      .toBe(false);

    // Assess
    for (const { table } of EXPIRING_TABLES) expect(await present(table, 'current')).toBe(true);
  });
});
