import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureBreakersTable, ensureKeyValueTable } from '../../../stream/local/localTables.js';
import { deleteIfStillExpired, TimeToLive } from '../../../stream/local/TimeToLive.js';

let server: EmbeddedDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  server = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: server.endpoint });
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

/** A fixed clock: 2026-12-05T00:00:00Z, in milliseconds. */
const NOW_MS = Date.parse('2026-12-05T00:00:00Z');
const NOW = NOW_MS / 1000;
const DAY = 86_400;

let tables = 0;
async function table(): Promise<string> {
  const name = `ttl-test-${++tables}`;
  await ensureKeyValueTable(client, name, 'pk', 'sk');
  return name;
}

async function put(name: string, sk: string, extra: Record<string, AttributeValue> = {}) {
  await client.send(
    new PutItemCommand({ TableName: name, Item: { pk: { S: 'p' }, sk: { S: sk }, ...extra } }),
  );
}

async function keys(name: string, key = 'sk'): Promise<string[]> {
  const { Items } = await client.send(new ScanCommand({ TableName: name }));
  return (Items ?? []).map((i) => i[key]?.S as string).sort();
}

describe('the local time to live', () => {
  it('deletes what expired, as DynamoDB does, and nothing else', async () => {
    // Prepare: one item of each kind the Developer Guide names.
    const name = await table();
    const at = (seconds: number): Record<string, AttributeValue> => ({
      expires_at: { N: String(seconds) },
    });
    await put(name, 'expired-a-second-ago', at(NOW - 1));
    await put(name, 'expired-a-year-ago', at(NOW - 365 * DAY));
    await put(name, 'expires-now', at(NOW));
    await put(name, 'expires-tomorrow', at(NOW + DAY));
    // More than five years past: TTL ignores it.
    await put(name, 'expired-six-years-ago', at(NOW - 6 * 365 * DAY));
    // Not a number: TTL ignores it.
    await put(name, 'a-string', { expires_at: { S: String(NOW - DAY) } });
    await put(name, 'no-expiry');
    // Milliseconds are a time far in the future in seconds: kept.
    await put(name, 'milliseconds', at(NOW_MS - 1000));
    const ttl = new TimeToLive({
      client,
      tables: [{ table: name, attribute: 'expires_at' }],
      now: () => NOW_MS,
    });

    // Act
    const deleted = await ttl.sweep();

    // Assess
    expect(deleted).toEqual({ [name]: 2 });
    expect(await keys(name)).toEqual([
      'a-string',
      'expired-six-years-ago',
      'expires-now',
      'expires-tomorrow',
      'milliseconds',
      'no-expiry',
    ]);
    expect(await ttl.sweep()).toEqual({ [name]: 0 });
  });

  it('keeps an item whose expiry changed after the scan saw it', async () => {
    // Prepare: an expired item, as a scan saw it, then given a later expiry.
    const name = await table();
    await put(name, 'renewed', { expires_at: { N: String(NOW - DAY) } });
    const seen = { pk: { S: 'p' }, sk: { S: 'renewed' }, expires_at: { N: String(NOW - DAY) } };
    await put(name, 'renewed', { expires_at: { N: String(NOW + 30 * DAY) } });
    const ttl = { table: name, attribute: 'expires_at' };

    // Act
    const deleted = await deleteIfStillExpired(client, ttl, ['pk', 'sk'], seen);

    // Assess: kept; a delete of an item already gone deletes nothing either.
    expect(deleted).toBe(false);
    expect(await keys(name)).toEqual(['renewed']);
    const gone = { pk: { S: 'p' }, sk: { S: 'gone' }, expires_at: { N: String(NOW - DAY) } };
    expect(await deleteIfStillExpired(client, ttl, ['pk', 'sk'], gone)).toBe(false);
  });

  it('sweeps a table of several scan pages, and one with a partition key alone', async () => {
    // Prepare: 1,500 expired items of about 1 KB (a scan page holds at most 1 MB), 25 kept;
    // the breakers' table, keyed by `breaker` alone.
    const name = await table();
    const pad = { S: 'x'.repeat(1_000) };
    for (let start = 0; start < 1_525; start += 25) {
      const requests = Array.from({ length: 25 }, (_, j) => {
        const i = start + j;
        const expires = i < 1_500 ? NOW - DAY : NOW + DAY;
        return {
          PutRequest: {
            Item: {
              pk: { S: `p${i % 7}` },
              sk: { S: `item-${String(i).padStart(5, '0')}` },
              pad,
              expires_at: { N: String(expires) },
            },
          },
        };
      });
      await client.send(new BatchWriteItemCommand({ RequestItems: { [name]: requests } }));
    }
    const breakers = `ttl-test-breakers-${++tables}`;
    await ensureBreakersTable(client, breakers);
    for (const [breaker, expires] of [
      ['old', NOW - DAY],
      ['current', NOW + DAY],
    ] as const)
      await client.send(
        new PutItemCommand({
          TableName: breakers,
          Item: { breaker: { S: breaker }, expires_at: { N: String(expires) } },
        }),
      );
    const ttl = new TimeToLive({
      client,
      tables: [
        { table: name, attribute: 'expires_at' },
        { table: breakers, attribute: 'expires_at' },
        // Not created (yet): skipped.
        { table: 'ttl-test-absent', attribute: 'expires_at' },
      ],
      now: () => NOW_MS,
    });

    // Act
    const deleted = await ttl.sweep();

    // Assess
    expect(deleted).toEqual({ [name]: 1_500, [breakers]: 1 });
    expect(await keys(name)).toEqual(
      Array.from({ length: 25 }, (_, i) => `item-${String(1_500 + i).padStart(5, '0')}`),
    );
    expect(await keys(breakers, 'breaker')).toEqual(['current']);
  });

  it('ends a sweep under way when stopped, leaving the rest to the next', async () => {
    // Prepare: 200 expired items.
    const name = await table();
    for (let start = 0; start < 200; start += 25)
      await client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [name]: Array.from({ length: 25 }, (_, j) => ({
              PutRequest: {
                Item: {
                  pk: { S: 'p' },
                  sk: { S: `item-${start + j}` },
                  expires_at: { N: String(NOW - DAY) },
                },
              },
            })),
          },
        }),
      );
    const tables = [{ table: name, attribute: 'expires_at' }];
    const ttl = new TimeToLive({ client, tables, now: () => NOW_MS });

    // Act: stopped as the sweep begins (a command ending), then a sweep of a later run.
    const sweeping = ttl.sweep();
    await ttl.stop();
    const stopped = await sweeping;
    const later = await new TimeToLive({ client, tables, now: () => NOW_MS }).sweep();

    // Assess
    expect((stopped[name] ?? 0) + (later[name] ?? 0)).toBe(200);
    expect(later[name]).toBeGreaterThan(0);
    expect(await keys(name)).toEqual([]);
  });

  it('sweeps when started and again after each interval, until stopped', async () => {
    // Prepare: an item expiring in an hour of a clock the test moves.
    const name = await table();
    await put(name, 'later', { expires_at: { N: String(NOW + 3_600) } });
    let now = NOW_MS;
    const sweeps: Record<string, number>[] = [];
    const ttl = new TimeToLive({
      client,
      tables: [{ table: name, attribute: 'expires_at' }],
      intervalMs: 20,
      now: () => now,
      log: {
        info: (fields) => sweeps.push((fields as { deleted: Record<string, number> }).deleted),
        warn: () => {},
        error: () => {},
        debug: () => {},
      },
    });

    // Act: started, then the clock passes the expiry.
    ttl.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = await keys(name);
    now += 2 * 3_600_000;
    await expect.poll(() => keys(name), { timeout: 5_000 }).toEqual([]);
    await ttl.stop();

    // Assess: nothing before its time; a later sweep deleted it and said so once.
    expect(before).toEqual(['later']);
    expect(sweeps).toEqual([{ [name]: 1 }]);
  });
});
