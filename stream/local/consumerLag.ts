import {
  type DynamoDBClient,
  ResourceNotFoundException as NoTable,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  ResourceNotFoundException as NoStream,
} from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CHECKPOINTS_TABLE } from '../consumer/CheckpointStore.js';

/** How far behind the stream a consumer is. */
export interface ConsumerLag {
  readonly consumer: string;
  /** The most any of its shards is behind the newest record (0 when caught up). */
  readonly lag_ms: number;
  /** Shards with records it has not processed yet. */
  readonly shards_behind: number;
}

/**
 * The lag of every consumer that has a checkpoint, and of those `running` (the consumers of
 * the process that holds the folder, which checkpoint only once a record reached them),
 * measured from outside (for `status`): for each open shard, a read just after the consumer's
 * checkpoint (from the stream's start without one) says whether records are waiting and how
 * far behind the newest they are. Without a checkpoint table or a stream (a data folder
 * ingested into but never run), no consumer but those running has started: they alone are
 * listed, caught up where there is no stream.
 */
export async function consumerLag(
  dynamo: DynamoDBClient,
  kinesis: KinesisClient | undefined,
  streamName: string,
  running: readonly string[] = [],
): Promise<ConsumerLag[]> {
  const idle = () =>
    [...new Set(running)]
      .map((consumer) => ({ consumer, lag_ms: 0, shards_behind: 0 }))
      .sort((a, b) => a.consumer.localeCompare(b.consumer));
  if (!kinesis) return idle();
  try {
    return await measureLag(dynamo, kinesis, streamName, running);
  } catch (error) {
    if (error instanceof NoStream) return idle();
    throw error;
  }
}

async function measureLag(
  dynamo: DynamoDBClient,
  kinesis: KinesisClient,
  streamName: string,
  running: readonly string[],
): Promise<ConsumerLag[]> {
  const checkpoints = new Map<string, Map<string, { sequence?: string; finished: boolean }>>();
  for (const consumer of running) checkpoints.set(consumer, new Map());
  const page = await dynamo
    .send(new ScanCommand({ TableName: CHECKPOINTS_TABLE, ConsistentRead: true }))
    .catch((error: unknown) => {
      // No checkpoint table: no consumer has checkpointed yet.
      if (error instanceof NoTable) return { Items: [] };
      throw error;
    });
  for (const item of page.Items ?? []) {
    const { consumer, shard_id, sequence_number, finished } = unmarshall(item);
    const name = typeof consumer === 'string' ? consumer : '';
    const shards = checkpoints.get(name) ?? new Map();
    shards.set(typeof shard_id === 'string' ? shard_id : '', {
      ...(typeof sequence_number === 'string' && sequence_number
        ? { sequence: sequence_number }
        : {}),
      finished: finished === true,
    });
    checkpoints.set(name, shards);
  }
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const lags: ConsumerLag[] = [];
  for (const [consumer, shards] of checkpoints) {
    let lag = 0;
    let behind = 0;
    for (const shard of Shards ?? []) {
      const checkpoint = shards.get(shard.ShardId ?? '');
      if (checkpoint?.finished) continue;
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId,
          ...(checkpoint?.sequence
            ? {
                ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
                StartingSequenceNumber: checkpoint.sequence,
              }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      const { Records, MillisBehindLatest } = await kinesis.send(
        new GetRecordsCommand({ ShardIterator, Limit: 1 }),
      );
      if ((Records ?? []).length > 0) {
        behind++;
        const oldest = Records?.[0]?.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
        lag = Math.max(lag, MillisBehindLatest ?? 0, Date.now() - oldest);
      }
    }
    lags.push({ consumer, lag_ms: lag, shards_behind: behind });
  }
  return lags.sort((a, b) => a.consumer.localeCompare(b.consumer));
}
