import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/** Where a consumer is in one shard. */
export interface ShardCheckpoint {
  /** The last record processed (or dead-lettered); absent before the first. */
  readonly sequenceNumber?: string;
  /** The shard is closed (split or merged) and every record of it was processed. */
  readonly finished: boolean;
}

/** Per-shard checkpoints of consumers, surviving restarts. */
export interface CheckpointStore {
  get(consumer: string, shardId: string): Promise<ShardCheckpoint | undefined>;
  set(consumer: string, shardId: string, checkpoint: ShardCheckpoint): Promise<void>;
}

export class InMemoryCheckpointStore implements CheckpointStore {
  private readonly checkpoints = new Map<string, ShardCheckpoint>();

  async get(consumer: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    return this.checkpoints.get(`${consumer}\u0000${shardId}`);
  }

  async set(consumer: string, shardId: string, checkpoint: ShardCheckpoint): Promise<void> {
    this.checkpoints.set(`${consumer}\u0000${shardId}`, checkpoint);
  }
}

/** The checkpoints table's default name: partition key `consumer`, sort key `shard_id`. */
export const CHECKPOINTS_TABLE = 'matchstream-checkpoints';

export class DynamoCheckpointStore implements CheckpointStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table = CHECKPOINTS_TABLE,
  ) {}

  async get(consumer: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ consumer, shard_id: shardId }),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { sequence_number: sequenceNumber, finished } = unmarshall(Item);
    return {
      ...(typeof sequenceNumber === 'string' && sequenceNumber ? { sequenceNumber } : {}),
      finished: finished === true,
    };
  }

  async set(consumer: string, shardId: string, checkpoint: ShardCheckpoint): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          consumer,
          shard_id: shardId,
          ...(checkpoint.sequenceNumber ? { sequence_number: checkpoint.sequenceNumber } : {}),
          finished: checkpoint.finished,
          updated_at: new Date().toISOString(),
        }),
      }),
    );
  }
}
