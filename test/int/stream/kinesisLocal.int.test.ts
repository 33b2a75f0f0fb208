import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import {
  putRecordsReliably,
  type StreamRecordToPut,
} from '../../../stream/aws/putRecordsReliably.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { tempDir } from '../../support/tempDir.js';

let kinesis: EmbeddedKinesis;
beforeAll(async () => {
  kinesis = await startEmbeddedKinesis();
});
afterAll(async () => {
  await kinesis.stop();
});

const FAST = { baseDelayMs: 2, maxDelayMs: 10 } as const;

function client(endpoint = kinesis.endpoint): KinesisClient {
  return kinesisClient({
    endpoint,
    retryStrategy: new ConfiguredRetryStrategy(3, (attempt) => 5 * attempt),
  });
}

/** Records `key-0`…`key-<keys-1>` in turn, each carrying its key and its number for that key. */
function records(count: number, keys: number): StreamRecordToPut[] {
  return Array.from({ length: count }, (_, i) => {
    const partitionKey = `key-${i % keys}`;
    const data = JSON.stringify({ key: partitionKey, n: Math.floor(i / keys) });
    return { partitionKey, data: new TextEncoder().encode(data) };
  });
}

interface Read {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: string;
}

/** Every record of every shard, each shard from its start, in shard order. */
async function readAll(kinesis: KinesisClient, streamName: string): Promise<Read[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const out: Read[] = [];
  for (const shard of Shards) {
    const shardId = shard.ShardId ?? '';
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      const got = page.Records ?? [];
      if (got.length === 0) break;
      for (const r of got)
        out.push({
          shardId,
          sequenceNumber: r.SequenceNumber ?? '',
          partitionKey: r.PartitionKey ?? '',
          data: new TextDecoder().decode(r.Data),
        });
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** Counts the PutRecords calls a client makes and the records in each. */
function countCalls(kinesis: KinesisClient): number[] {
  const sizes: number[] = [];
  kinesis.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutRecordsCommand')
        sizes.push((args.input as PutRecordsCommandInput).Records?.length ?? 0);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return sizes;
}

function nonLoopbackAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces()))
    for (const a of addresses ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  return undefined;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('embedded kinesalite', () => {
  const { path } = tempDir('kinesalite-');

  it('listens on 127.0.0.1 only', async () => {
    const { hostname, port } = new URL(kinesis.endpoint);

    expect(hostname).toBe('127.0.0.1');
    expect(await accepts('127.0.0.1', Number(port))).toBe(true);
    const other = nonLoopbackAddress();
    if (other) expect(await accepts(other, Number(port))).toBe(false);
  });

  it('keeps streams and records on disk in dataDir across restarts', async () => {
    // Prepare
    const dataDir = path('data');
    const first = await startEmbeddedKinesis({ dataDir });
    const before = client(first.endpoint);
    await ensureStream(before, 'kept', 1);
    await putRecordsReliably(before, 'kept', records(5, 1), FAST);
    before.destroy();
    await first.stop();

    // Act
    const second = await startEmbeddedKinesis({ dataDir });
    const after = client(second.endpoint);
    const read = await readAll(after, 'kept');

    // Assess
    expect(read).toHaveLength(5);
    after.destroy();
    await second.stop();
  });
});

describe('putRecordsReliably on kinesalite', () => {
  it('writes 1,200 records over several calls, each once, in order per partition key', async () => {
    // Prepare
    const kinesis = client();
    await ensureStream(kinesis, 'matches', 2);
    await ensureStream(kinesis, 'matches', 2); // exists already: no error
    const calls = countCalls(kinesis);
    const input = records(1_200, 7);

    // Act
    const result = await putRecordsReliably(kinesis, 'matches', input, FAST);

    // Assess
    expect(result.failed).toEqual([]);
    expect(result.attempts).toBe(1);
    expect(calls).toEqual([500, 500, 200]);
    const read = await readAll(kinesis, 'matches');
    expect(read).toHaveLength(1_200);
    expect(new Set(read.map((r) => r.data)).size).toBe(1_200);
    expect(new Set(read.map((r) => r.shardId)).size).toBe(2);
    for (let k = 0; k < 7; k++) {
      const ns = read
        .filter((r) => r.partitionKey === `key-${k}`)
        .map((r) => (JSON.parse(r.data) as { n: number }).n);
      expect(ns).toEqual(ns.map((_, i) => i));
      expect(
        new Set(read.filter((r) => r.partitionKey === `key-${k}`).map((r) => r.shardId)).size,
      ).toBe(1);
    }
    // What the caller is told is where each record is.
    const where = new Map(read.map((r) => [r.data, `${r.shardId}/${r.sequenceNumber}`]));
    for (const s of result.sent)
      expect(where.get(new TextDecoder().decode(s.record.data))).toBe(
        `${s.shardId}/${s.sequenceNumber}`,
      );
    kinesis.destroy();
  });

  it('retries the records a call failed, and each arrives once', async () => {
    // Prepare: records numbered n ≡ 3 (mod 10) fail twice, n ≡ 0 (mod 7) once; the server
    // never sees a failed attempt.
    const kinesis = client();
    await ensureStream(kinesis, 'throttled', 2);
    const input = records(600, 5);
    const failuresLeft = new Map<string, number>();
    input.forEach((r, i) => {
      const failures = i % 10 === 3 ? 2 : i % 7 === 0 ? 1 : 0;
      if (failures > 0) failuresLeft.set(new TextDecoder().decode(r.data), failures);
    });
    const seen = new Map<string, number>();
    kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutRecordsCommand') return next(args);
        const request = args.input as PutRecordsCommandInput;
        const all = request.Records ?? [];
        const fail = all.map((r) => {
          const key = new TextDecoder().decode(r.Data);
          seen.set(key, (seen.get(key) ?? 0) + 1);
          const left = failuresLeft.get(key) ?? 0;
          if (left > 0) failuresLeft.set(key, left - 1);
          return left > 0;
        });
        const kept = all.filter((_, i) => !fail[i]);
        const real =
          kept.length > 0
            ? await next({ ...args, input: { ...request, Records: kept } })
            : { output: { $metadata: {}, Records: [] }, response: {} };
        const output = real.output as PutRecordsCommandOutput;
        const written = output.Records ?? [];
        let k = 0;
        const Records = all.map(
          (_, i): PutRecordsResultEntry =>
            fail[i]
              ? {
                  ErrorCode: 'ProvisionedThroughputExceededException',
                  ErrorMessage: 'Rate exceeded for shard in stream throttled',
                }
              : (written[k++] ?? {}),
        );
        const failed = fail.filter(Boolean).length;
        return {
          ...real,
          output: {
            ...output,
            FailedRecordCount: (output.FailedRecordCount ?? 0) + failed,
            Records,
          },
        };
      },
      { step: 'initialize', name: 'failSomeRecords' },
    );

    // Act
    const result = await putRecordsReliably(kinesis, 'throttled', input, FAST);

    // Assess
    expect(result.failed).toEqual([]);
    expect(result.sent).toHaveLength(600);
    expect(result.attempts).toBe(3);
    expect([...failuresLeft.values()].every((left) => left === 0)).toBe(true);
    for (const [i, r] of input.entries()) {
      const expected = i % 10 === 3 ? 3 : i % 7 === 0 ? 2 : 1;
      expect(seen.get(new TextDecoder().decode(r.data))).toBe(expected);
    }
    const read = await readAll(kinesis, 'throttled');
    expect(read).toHaveLength(600);
    expect(new Set(read.map((r) => r.data))).toEqual(
      new Set(input.map((r) => new TextDecoder().decode(r.data))),
    );
    kinesis.destroy();
  });
});
