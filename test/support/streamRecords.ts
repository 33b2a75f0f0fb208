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
