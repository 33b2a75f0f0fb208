import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';

/** The partition keys of every record on a stream, from each shard's start, sorted. */
export async function partitionKeys(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const keys: string[] = [];
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
      keys.push(...(page.Records ?? []).map((r) => r.PartitionKey ?? ''));
      if ((page.Records ?? []).length === 0) break;
      ShardIterator = page.NextShardIterator;
    }
  }
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
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const seen: { key: string; sequence: number }[] = [];
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
      for (const record of page.Records ?? []) {
        const change = JSON.parse(
          Buffer.from(record.Data ?? new Uint8Array()).toString('utf8'),
        ) as {
          dynamodb?: { Keys?: { sequence?: { N?: string } } };
        };
        seen.push({
          key: record.PartitionKey ?? '',
          sequence: Number(change.dynamodb?.Keys?.sequence?.N),
        });
      }
      if ((page.Records ?? []).length === 0) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return seen;
}
