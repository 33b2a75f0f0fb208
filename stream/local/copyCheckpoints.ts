import { type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { CheckpointStore } from '../consumer/CheckpointStore.js';

/**
 * Gives consumer `to` the checkpoint consumer `from` holds in each shard of the stream that
 * has one (shards where `from` has none are left alone: `to` starts there as it would). A
 * consumer that must see every record that arrives from now on, and may see earlier ones
 * again, starts where another stands instead of at the oldest record. Returns the shards
 * copied.
 */
export async function copyCheckpoints(
  kinesis: KinesisClient,
  streamName: string,
  checkpoints: CheckpointStore,
  from: string,
  to: string,
): Promise<number> {
  const shards: string[] = [];
  let token: string | undefined;
  do {
    const page = await kinesis.send(
      new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }),
    );
    for (const shard of page.Shards ?? []) if (shard.ShardId) shards.push(shard.ShardId);
    token = page.NextToken;
  } while (token);
  const copied = await Promise.all(
    shards.map(async (shardId) => {
      const checkpoint = await checkpoints.get(from, shardId);
      if (!checkpoint?.sequenceNumber && !checkpoint?.finished) return false;
      await checkpoints.set(to, shardId, checkpoint);
      return true;
    }),
  );
  return copied.filter(Boolean).length;
}
