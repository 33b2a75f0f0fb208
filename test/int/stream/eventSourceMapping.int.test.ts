import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { putRecordsReliably } from '../../../stream/aws/putRecordsReliably.js';
import { changesOfStreamsStartingWith } from '../../../stream/changes/ChangeRecord.js';
import { InMemoryCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import type { KinesisStreamRecord } from '../../../stream/consumer/kinesisEvent.js';
import {
  EventSourceMapping,
  type EventSourceMappingOptions,
} from '../../../stream/local/EventSourceMapping.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';

let kinesis: EmbeddedKinesis;
let client: KinesisClient;
let streams = 0;

beforeAll(async () => {
  kinesis = await startEmbeddedKinesis();
  client = kinesisClient({ endpoint: kinesis.endpoint });
});

afterAll(async () => {
  client?.destroy();
  await kinesis?.stop();
});

/** A fresh stream with `count` records "key-i:n" (n counting per key). */
async function streamWith(count: number, keys = 5, shards = 1): Promise<string> {
  const name = `esm-${++streams}`;
  await ensureStream(client, name, shards);
  const seen = new Map<number, number>();
  const records = Array.from({ length: count }, (_, i) => {
    const key = i % keys;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return { data: Buffer.from(`key-${key}:${n}`), partitionKey: `key-${key}` };
  });
  const result = await putRecordsReliably(client, name, records);
  if (result.failed.length > 0) throw new Error('put failed');
  return name;
}

/** The sequence numbers of every record in a shard, oldest first. */
async function readAll(streamName: string, shardId: string): Promise<string[]> {
  let { ShardIterator: iterator } = await client.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const sequences: string[] = [];
  while (iterator) {
    const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    const records = page.Records ?? [];
    sequences.push(...records.map((r) => r.SequenceNumber as string));
    if (records.length === 0) break;
    iterator = page.NextShardIterator;
  }
  return sequences;
}

const text = (r: KinesisStreamRecord) => Buffer.from(r.kinesis.data, 'base64').toString();

function mapping(
  streamName: string,
  overrides: Partial<EventSourceMappingOptions> & Pick<EventSourceMappingOptions, 'handler'>,
) {
  return new EventSourceMapping({
    consumer: 'test',
    kinesis: client,
    streamName,
    checkpoints: new InMemoryCheckpointStore(),
    deadLetters: new InMemoryDeadLetterQueue(),
    pollIntervalMs: 20,
    retryDelayMs: 1,
    ...overrides,
  });
}

describe('local event source mapping', () => {
  it('waits for idle as long as records are being handled, and fails in a line once none is', async () => {
    // Prepare: handling takes longer in all than the stall window, each record far less.
    const stream = await streamWith(12, 3);
    const handled: string[] = [];
    const slow = mapping(stream, {
      batchSize: 1,
      handler: async (event) => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        handled.push(...event.Records.map(text));
        return { batchItemFailures: [] };
      },
    });
    let release = () => {};
    const hung = mapping(await streamWith(2, 1), {
      handler: () => new Promise((resolve) => (release = () => resolve(undefined))),
    });

    // Act
    const started = Date.now();
    await slow.start();
    await slow.waitUntilIdle(1000);
    const took = Date.now() - started;
    await slow.stop();
    await hung.start();
    const stalled = await hung.waitUntilIdle(1000).then(
      () => 'idle',
      (error: Error) => error.message,
    );
    release();
    await hung.stop();

    // Assess
    expect(took).toBeGreaterThan(1000);
    expect(handled).toHaveLength(12);
    expect(stalled).toBe('consumer test not idle, and nothing moved for 1000 ms');
  });

  it('isolates a poison record by bisecting when the function throws, and dead-letters only it', async () => {
    // Prepare
    const stream = await streamWith(40);
    const processed: string[] = [];
    const deadLetters = new InMemoryDeadLetterQueue();
    const esm = mapping(stream, {
      batchSize: 40,
      maximumRetryAttempts: 1,
      deadLetters,
      handler: async (event) => {
        if (event.Records.some((r) => text(r) === 'key-2:3'))
          throw new Error('cannot handle key-2:3');
        processed.push(...event.Records.map(text));
        return { batchItemFailures: [] };
      },
    });

    // Act
    await esm.start();
    await esm.waitUntilIdle();
    await esm.stop();

    // Assess
    expect(deadLetters.letters.map((l) => [l.record && text(l.record), l.error])).toEqual([
      ['key-2:3', 'cannot handle key-2:3'],
    ]);
    expect(new Set(processed).size).toBe(39);
    expect(esm.stats).toMatchObject({ deadLettered: 1, processed: 39 });
  });

  it('checkpoints before a reported failure, retries from it, and dead-letters it after the retries', async () => {
    const stream = await streamWith(10, 1);
    const calls: string[][] = [];
    const deadLetters = new InMemoryDeadLetterQueue();
    const esm = mapping(stream, {
      batchSize: 10,
      maximumRetryAttempts: 2,
      deadLetters,
      handler: async (event) => {
        calls.push(event.Records.map(text));
        const bad = event.Records.find((r) => text(r) === 'key-0:4');
        return { batchItemFailures: bad ? [{ itemIdentifier: bad.kinesis.sequenceNumber }] : [] };
      },
    });

    await esm.start();
    await esm.waitUntilIdle();
    await esm.stop();

    // First call: all ten, failing at the fourth; two retries from it; then the rest.
    expect(calls[0]).toHaveLength(10);
    expect(calls.slice(1, 3).map((c) => c[0])).toEqual(['key-0:4', 'key-0:4']);
    expect(calls[3]?.[0]).toBe('key-0:5');
    expect(calls).toHaveLength(4);
    expect(deadLetters.letters).toHaveLength(1);
    expect(deadLetters.letters[0]).toMatchObject({
      attempts: 3,
      error: 'reported as failed by the handler',
    });
  });

  it('resumes after a restart from its checkpoint, not from the start', async () => {
    const stream = await streamWith(30, 3);
    const checkpoints = new InMemoryCheckpointStore();
    const first: string[] = [];
    const firstRun = mapping(stream, {
      batchSize: 10,
      checkpoints,
      handler: async (event) => {
        first.push(...event.Records.map(text));
        return { batchItemFailures: [] };
      },
    });
    await firstRun.start();
    await firstRun.waitUntilIdle();
    await firstRun.stop();
    await putRecordsReliably(client, stream, [
      { data: Buffer.from('late'), partitionKey: 'key-9' },
    ]);

    const second: string[] = [];
    const secondRun = mapping(stream, {
      checkpoints,
      handler: async (event) => {
        second.push(...event.Records.map(text));
        return { batchItemFailures: [] };
      },
    });
    await secondRun.start();
    await secondRun.waitUntilIdle();
    await secondRun.stop();

    expect(first).toHaveLength(30);
    expect(second).toEqual(['late']);
  });

  it('hands over only the records its filters let through, and checkpoints past the others', async () => {
    const name = `esm-${++streams}`;
    await ensureStream(client, name, 1);
    const change = (stream: string, n: number) =>
      Buffer.from(
        JSON.stringify({
          eventName: 'INSERT',
          dynamodb: { Keys: { aggregate_id: { S: stream }, sequence: { N: String(n) } } },
        }),
      );
    // Saga records between others; the stream ends with records the filter holds back.
    const streamsPut = ['saga:a', 'match:1', 'match:2', 'saga:a', 'saga:b', 'match:3'];
    const records = [
      ...streamsPut.map((stream, i) => ({ data: change(stream, i + 1), partitionKey: stream })),
      { data: Buffer.from('not json'), partitionKey: 'x' },
      { data: change('team:1', 1), partitionKey: 'team:1' },
    ];
    expect((await putRecordsReliably(client, name, records)).failed).toHaveLength(0);
    const checkpoints = new InMemoryCheckpointStore();
    const handed: string[] = [];
    const heldBack: unknown[] = [];
    const run = () =>
      mapping(name, {
        batchSize: 3,
        checkpoints,
        filters: [changesOfStreamsStartingWith('saga:')],
        onFiltered: (data) => heldBack.push(...data),
        handler: async (event) => {
          for (const r of event.Records)
            handed.push(JSON.parse(text(r)).dynamodb.Keys.aggregate_id.S);
          return { batchItemFailures: [] };
        },
      });
    const first = run();
    await first.start();
    await first.waitUntilIdle();
    await first.stop();
    expect(handed).toEqual(['saga:a', 'saga:a', 'saga:b']);
    expect(first.stats).toMatchObject({ invoked: 3, processed: 3, filtered: 5 });
    // Held back, each as its data parsed: the non-JSON one as undefined.
    expect(heldBack).toHaveLength(5);
    expect(heldBack.filter((d) => d === undefined)).toHaveLength(1);
    // The last batch (not JSON, a team) had nothing to hand over: still checkpointed.
    const { Shards } = await client.send(new ListShardsCommand({ StreamName: name }));
    const shardId = Shards?.[0]?.ShardId as string;
    const checkpoint = await checkpoints.get('test', shardId);
    const last = await readAll(name, shardId);
    expect(checkpoint?.sequenceNumber).toBe(last.at(-1));

    const again = run();
    await again.start();
    await again.waitUntilIdle();
    await again.stop();
    expect(handed).toHaveLength(3);
    expect(again.stats.filtered).toBe(0);
  });

  it('refuses filters Lambda would refuse, saying which and why', () => {
    const handler = async () => ({ batchItemFailures: [] });
    expect(() => mapping('any', { handler, filters: [{ partitionKey: ['saga:a'] }] })).toThrow(
      'filters[0]: a Kinesis mapping filters on "data" only, not on "partitionKey"',
    );
    expect(() => mapping('any', { handler, filters: [{ data: { kind: 'saga' } }] })).toThrow(
      /^filters\[0\]: data\.kind/,
    );
    expect(() =>
      mapping('any', {
        handler,
        filters: Array.from({ length: 11 }, () => changesOfStreamsStartingWith('saga:')),
      }),
    ).toThrow('filters: 11 patterns, at most 10');
  });

  it('starts a shard without a checkpoint at a time, found from a record known to be in it', async () => {
    // Prepare: 20 records, then, after a pause, 5 more; the time lies between them.
    const stream = await streamWith(20, 4);
    const { Shards } = await client.send(new ListShardsCommand({ StreamName: stream }));
    const shardId = Shards?.[0]?.ShardId ?? '';
    const sequences = async () => {
      const seen: string[] = [];
      const run = mapping(stream, {
        handler: async (event) => {
          seen.push(...event.Records.map((r) => r.kinesis.sequenceNumber));
          return { batchItemFailures: [] };
        },
      });
      await run.start();
      await run.waitUntilIdle();
      await run.stop();
      return seen;
    };
    const before = await sequences();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const from = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = await putRecordsReliably(
      client,
      stream,
      Array.from({ length: 5 }, (_, i) => ({ data: Buffer.from(`new-${i}`), partitionKey: 'k' })),
    );
    const startingWith = async (witness: string | undefined) => {
      const handled: string[] = [];
      const run = mapping(stream, {
        startingPositionTimestamp: from,
        startingPositionWitness: async (shard) => (shard === shardId ? witness : undefined),
        handler: async (event) => {
          handled.push(...event.Records.map(text));
          return { batchItemFailures: [] };
        },
      });
      await run.start();
      await run.waitUntilIdle();
      await run.stop();
      return { handled, skipped: run.stats.skipped };
    };

    // Act: a witness that arrived before the time, one after it, none, one not in the shard.
    const early = await startingWith(before[14]);
    const late = await startingWith(after.sent[2]?.sequenceNumber);
    const none = await startingWith(undefined);
    const unknown = await startingWith('49000000000000000000000000000000000000000000000000000000');

    // Assess: each handles the 5 records that arrived after the time, once; with the early
    // witness it passes over only the 5 records after it, with the late one none at all.
    const fresh = ['new-0', 'new-1', 'new-2', 'new-3', 'new-4'];
    expect(before).toHaveLength(20);
    expect(early).toEqual({ handled: fresh, skipped: 5 });
    expect(late).toEqual({ handled: fresh, skipped: 0 });
    expect(none).toEqual({ handled: fresh, skipped: 20 });
    expect(unknown).toEqual({ handled: fresh, skipped: 20 });
  });

  it('disabled, leaves new records in the stream; enabled again, handles each once, in order', async () => {
    // Prepare
    const stream = await streamWith(20, 2);
    const handled: string[] = [];
    const esm = mapping(stream, {
      batchSize: 7,
      handler: async (event) => {
        handled.push(...event.Records.map(text));
        return { batchItemFailures: [] };
      },
    });
    await esm.start();
    await esm.waitUntilIdle();

    // Act
    await esm.disable();
    const whileEnabled = handled.length;
    await putRecordsReliably(
      client,
      stream,
      Array.from({ length: 10 }, (_, i) => ({
        data: Buffer.from(`key-0:${11 + i}`),
        partitionKey: 'key-0',
      })),
    );
    const whileDisabled = handled.length;
    const wasEnabled = esm.enabled;
    await esm.enable();
    await esm.waitUntilIdle();
    await esm.stop();

    // Assess
    expect(whileEnabled).toBe(20);
    expect(whileDisabled).toBe(20);
    expect(wasEnabled).toBe(false);
    expect(handled).toHaveLength(30);
    expect(handled.filter((h) => h.startsWith('key-0:'))).toEqual(
      Array.from({ length: 20 }, (_, i) => `key-0:${i + 1}`),
    );
  });

  it('lists the shards on start and every refresh interval, not each time records arrive', async () => {
    // Prepare
    const stream = await streamWith(5, 1);
    const counted = kinesisClient({ endpoint: kinesis.endpoint });
    let listed = 0;
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListShardsCommand') listed++;
        return next(args);
      },
      { step: 'initialize', name: 'countListShards' },
    );
    let handled = 0;
    const esm = mapping(stream, {
      kinesis: counted,
      shardRefreshMs: 600_000,
      handler: async (event) => {
        handled += event.Records.length;
        return { batchItemFailures: [] };
      },
    });
    /** Resolves once the handler has seen `count` records. */
    const handledUpTo = async (count: number) => {
      while (handled < count) await new Promise((resolve) => setTimeout(resolve, 5));
    };

    // Act: records arrive twenty times, and each time the mapping is told so.
    await esm.start();
    await handledUpTo(5);
    for (let i = 1; i <= 20; i++) {
      await putRecordsReliably(client, stream, [
        { data: Buffer.from(`key-0:${5 + i}`), partitionKey: 'key-0' },
      ]);
      esm.wake();
      await handledUpTo(5 + i);
    }
    await esm.stop();
    counted.destroy();

    // Assess
    expect(handled).toBe(25);
    expect(listed).toBe(1);
  });

  it('waits for shards split since it last looked, without waiting for the refresh interval', async () => {
    // Prepare
    const stream = await streamWith(6, 3);
    const handled: string[] = [];
    const esm = mapping(stream, {
      shardRefreshMs: 600_000,
      handler: async (event) => {
        handled.push(...event.Records.map(text));
        return { batchItemFailures: [] };
      },
    });
    await esm.start();
    await esm.waitUntilIdle();
    const { Shards } = await client.send(new ListShardsCommand({ StreamName: stream }));
    const parent = Shards?.[0];
    await client.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: parent?.ShardId,
        NewStartingHashKey: (
          (BigInt(parent?.HashKeyRange?.StartingHashKey ?? '0') +
            BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0')) /
          2n
        ).toString(),
      }),
    );
    // kinesalite makes the split take effect after a moment: the records below go to the children.
    for (;;) {
      const { StreamDescriptionSummary } = await client.send(
        new DescribeStreamSummaryCommand({ StreamName: stream }),
      );
      if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await putRecordsReliably(
      client,
      stream,
      Array.from({ length: 9 }, (_, i) => ({
        data: Buffer.from(`after-${i}`),
        partitionKey: `key-${i}`,
      })),
    );

    // Act
    await esm.waitUntilIdle();
    await esm.stop();

    // Assess
    expect(handled.filter((h) => h.startsWith('after-')).sort()).toEqual(
      Array.from({ length: 9 }, (_, i) => `after-${i}`),
    );
  });

  it('keeps the order per partition key with a parallelization factor', async () => {
    const stream = await streamWith(200, 8);
    const seen = new Map<string, number[]>();
    let lanesSeen = 0;
    const esm = mapping(stream, {
      batchSize: 100,
      parallelizationFactor: 4,
      handler: async (event) => {
        lanesSeen++;
        for (const r of event.Records) {
          const [key, n] = text(r).split(':');
          seen.set(key ?? '', [...(seen.get(key ?? '') ?? []), Number(n)]);
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
        return { batchItemFailures: [] };
      },
    });

    await esm.start();
    await esm.waitUntilIdle();
    await esm.stop();

    expect(seen.size).toBe(8);
    for (const ns of seen.values()) expect(ns).toEqual(ns.map((_, i) => i + 1));
    expect(lanesSeen).toBeGreaterThan(2);
  });

  it('dead-letters records older than the maximum age without processing them', async () => {
    const stream = await streamWith(3, 1);
    const deadLetters = new InMemoryDeadLetterQueue();
    const processed: string[] = [];
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const esm = mapping(stream, {
      maximumRecordAgeSeconds: 1,
      deadLetters,
      handler: async (event) => {
        processed.push(...event.Records.map(text));
        return { batchItemFailures: [] };
      },
    });

    await esm.start();
    await esm.waitUntilIdle();
    await esm.stop();

    expect(processed).toEqual([]);
    expect(deadLetters.letters.map((l) => l.error)).toEqual(
      Array(3).fill('record older than 1 s, not processed'),
    );
  });

  it('gathers records for the batching window before invoking', async () => {
    const stream = `esm-${++streams}`;
    await ensureStream(client, stream, 1);
    const sizes: number[] = [];
    const esm = mapping(stream, {
      batchSize: 1000,
      batchingWindowMs: 400,
      handler: async (event) => {
        sizes.push(event.Records.length);
        return { batchItemFailures: [] };
      },
    });
    await esm.start();

    for (let i = 0; i < 5; i++) {
      await putRecordsReliably(client, stream, [{ data: Buffer.from(`r${i}`), partitionKey: 'k' }]);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await new Promise((resolve) => setTimeout(resolve, 600));
    await esm.waitUntilIdle();
    await esm.stop();

    expect(sizes.reduce((a, b) => a + b, 0)).toBe(5);
    expect(sizes.length).toBeLessThan(5);
  });
});
