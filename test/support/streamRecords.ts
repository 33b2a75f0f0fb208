import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-kinesis';

/** Every record on a stream, from each shard's start, in each shard's order, shard after shard. */
async function* recordsOf(
  kinesis: KinesisClient,
  streamName: string,
): AsyncGenerator<StreamRecord> {
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards ?? []) {
    let { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    for (;;) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
      yield* page.Records ?? [];
      if ((page.Records ?? []).length === 0) break;
      ShardIterator = page.NextShardIterator;
    }
  }
}

/** The partition keys of every record on a stream, from each shard's start, sorted. */
export async function partitionKeys(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const record of recordsOf(kinesis, streamName)) keys.push(record.PartitionKey ?? '');
  return keys.sort();
}

/**
 * The commits on a stream as its change records carry them (partition key, commit sequence),
 * in each shard's order, shard after shard.
 */
export async function committedSequences(
  kinesis: KinesisClient,
  streamName: string,
): Promise<{ key: string; sequence: number }[]> {
  const seen: { key: string; sequence: number }[] = [];
  for await (const record of recordsOf(kinesis, streamName)) {
    const change = JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')) as {
      dynamodb?: { Keys?: { sequence?: { N?: string } } };
    };
    seen.push({
      key: record.PartitionKey ?? '',
      sequence: Number(change.dynamodb?.Keys?.sequence?.N),
    });
  }
  return seen;
}
