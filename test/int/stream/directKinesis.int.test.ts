import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  InvalidArgumentException,
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendsDirectly, sendThroughSdk } from '../../../stream/aws/directJson.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { ownServer } from '../../../stream/local/serverThread.js';

/** Each shard of the stream's hash-key range (two shards: the halves of 0…2^128 - 1). */
const SHARD_START = ['0', (1n << 127n).toString()];

/** Records of every shard (explicit hash keys) and of the partition keys', bytes of all kinds. */
function records(batch: number): PutRecordsRequestEntry[] {
  return [
    ...SHARD_START.map((hash, i) => ({
      Data: new Uint8Array([batch, i, 0, 255]),
      PartitionKey: `explicit-${i}`,
      ExplicitHashKey: hash,
    })),
    ...Array.from({ length: 12 }, (_, i) => ({
      Data: new TextEncoder().encode(JSON.stringify({ batch, i, text: 'é ü ∑ \u0000' })),
      PartitionKey: `key-${batch}-${i}`,
    })),
    { Data: new Uint8Array(), PartitionKey: `empty-${batch}` },
    { Data: new Uint8Array(3000).map((_, i) => (i * 7 + batch) % 256), PartitionKey: 'large' },
  ];
}

/** A read's output as compared: its iterator (made anew on each request) only there or not. */
function read(output: GetRecordsCommandOutput): object {
  const { $metadata, NextShardIterator, ...rest } = output;
  return { ...rest, NextShardIterator: NextShardIterator !== undefined };
}

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("kinesalite on a thread answers requests handed over directly as it answers the SDK's", () => {
  let kinesis: EmbeddedKinesis;
  let direct: KinesisClient;
  let sdk: KinesisClient;
  let http: KinesisClient;
  beforeAll(async () => {
    kinesis = await startEmbeddedKinesis({ thread: true });
    direct = kinesisClient(ownServer(kinesis.endpoint));
    // The same messages to the thread, through the SDK's whole stack; and over HTTP.
    sdk = sendThroughSdk(kinesisClient(ownServer(kinesis.endpoint)));
    http = kinesisClient({ endpoint: kinesis.endpoint, unsigned: true });
    for (const stream of ['direct-a', 'direct-b']) await ensureStream(http, stream, 2);
  });
  afterAll(async () => {
    await kinesis?.stop();
  });

  it('the same records read back, bytes, times and sequence numbers included', async () => {
    expect(sendsDirectly(direct)).toBe(true);
    expect(sendsDirectly(sdk)).toBe(false);
    expect(sendsDirectly(http)).toBe(false);
    // Each client writes its own stream the same way: two batches, a time between them.
    const puts: PutRecordsCommandOutput[] = [];
    const between: Record<string, Date> = {};
    const single: Record<string, string | undefined> = {};
    for (const [client, stream] of [
      [direct, 'direct-a'],
      [sdk, 'direct-b'],
    ] as const) {
      puts.push(
        await client.send(new PutRecordsCommand({ StreamName: stream, Records: records(1) })),
      );
      await later(15);
      between[stream] = new Date();
      await later(15);
      puts.push(
        await client.send(new PutRecordsCommand({ StreamName: stream, Records: records(2) })),
      );
      single[stream] = (
        await client.send(
          new PutRecordCommand({
            StreamName: stream,
            Data: new Uint8Array([42]),
            PartitionKey: 'single',
            ExplicitHashKey: SHARD_START[1],
          }),
        )
      ).SequenceNumber;
    }
    // The same shards for the same records; sequence numbers each stream's own.
    const shards = puts.map((p) => p.Records?.map((r) => r.ShardId));
    expect(shards.slice(0, 2)).toEqual(shards.slice(2));
    for (const p of puts) {
      expect(p).toMatchObject({ FailedRecordCount: 0 });
      for (const r of p.Records ?? []) expect(r.SequenceNumber).toMatch(/^\d+$/);
    }

    // Every client reads both streams, from each way of starting a shard's reading.
    const reads = async (client: KinesisClient, stream: string) => {
      const { Shards = [] } = await http.send(new ListShardsCommand({ StreamName: stream }));
      const out: object[] = [];
      for (const shard of Shards) {
        const base = { StreamName: stream, ShardId: shard.ShardId };
        const first = await client.send(
          new GetRecordsCommand({
            ShardIterator: (
              await client.send(
                new GetShardIteratorCommand({ ...base, ShardIteratorType: 'TRIM_HORIZON' }),
              )
            ).ShardIterator,
          }),
        );
        const seq = first.Records?.[2]?.SequenceNumber;
        expect(seq).toBeDefined();
        const starts: Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId'>[] = [
          { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: between[stream] },
          { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: seq },
          { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: seq },
        ];
        out.push(read(first));
        for (const start of starts) {
          const { ShardIterator } = await client.send(
            new GetShardIteratorCommand({ ...base, ...start }),
          );
          const page = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 5 }));
          out.push(read(page));
          // And the page after it, from the iterator the first gave.
          out.push(
            read(
              await client.send(new GetRecordsCommand({ ShardIterator: page.NextShardIterator })),
            ),
          );
        }
      }
      return out;
    };
    for (const stream of ['direct-a', 'direct-b']) {
      const [byDirect, bySdk, byHttp] = [
        await reads(direct, stream),
        await reads(sdk, stream),
        await reads(http, stream),
      ];
      expect(byDirect).toEqual(bySdk);
      expect(byDirect).toEqual(byHttp);
      // Two shards, each read 7 ways.
      expect(byDirect).toHaveLength(14);
    }

    // What the reads gave, checked for itself once: bytes as put, times as Dates.
    const all = await reads(direct, 'direct-a');
    const [shard0, shard1] = [all[0], all[7]] as GetRecordsCommandOutput[];
    const got = [...(shard0?.Records ?? []), ...(shard1?.Records ?? [])];
    const put = [...records(1), ...records(2)];
    expect(got).toHaveLength(put.length + 1);
    for (const record of got) {
      expect(record.Data).toBeInstanceOf(Uint8Array);
      expect(record.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
      expect(
        Math.abs(Date.now() - (record.ApproximateArrivalTimestamp?.getTime() ?? 0)),
      ).toBeLessThan(60_000);
    }
    const key = (r: { PartitionKey?: string | undefined; Data?: Uint8Array | undefined }) =>
      `${r.PartitionKey} ${Buffer.from(r.Data ?? []).toString('hex')}`;
    expect(got.map(key).sort()).toEqual(
      [...put, { PartitionKey: 'single', Data: new Uint8Array([42]) }].map(key).sort(),
    );
    expect(got.some((r) => r.SequenceNumber === single['direct-a'])).toBe(true);
    // AT_TIMESTAMP starts with the second batch.
    const atTime = (all[1] as GetRecordsCommandOutput).Records ?? [];
    expect(atTime[0]?.ApproximateArrivalTimestamp?.getTime()).toBeGreaterThanOrEqual(
      between['direct-a']?.getTime() ?? Infinity,
    );
    expect([...(atTime[0]?.Data ?? [])]).toEqual([2, 0, 0, 255]);
  });

  it("errors as the client's own exceptions, the same from each client", async () => {
    const fail = async (client: KinesisClient, command: () => object) =>
      client.send(command() as never).then(
        () => undefined,
        (error: Error & { $metadata?: object }) => ({
          class: error.constructor,
          name: error.name,
          message: error.message,
          $fault: (error as { $fault?: string }).$fault,
        }),
      );
    const cases = [
      () => new GetRecordsCommand({ ShardIterator: 'AAAAAAAAAAE=' }),
      () =>
        new GetShardIteratorCommand({
          StreamName: 'no-such-stream',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      () =>
        new PutRecordCommand({
          StreamName: 'no-such-stream',
          Data: new Uint8Array([1]),
          PartitionKey: 'k',
        }),
      () =>
        new GetShardIteratorCommand({
          StreamName: 'direct-a',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          StartingSequenceNumber: '1',
        }),
    ];
    for (const command of cases) {
      const [a, b] = [await fail(direct, command), await fail(sdk, command)];
      expect(a).toBeDefined();
      expect(a).toEqual(b);
    }
    expect((await fail(direct, cases[0] as () => object))?.class).toBe(InvalidArgumentException);
    expect((await fail(direct, cases[1] as () => object))?.class).toBe(ResourceNotFoundException);
  });
});
