import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { PositionStore } from './PositionStore.js';

/** The positions table's default name: partition key `consumer`, sort key `aggregate_id`. */
export const POSITIONS_TABLE = 'matchstream-positions';

/**
 * Positions of one consumer in a DynamoDB table. Reads are cached: a stream's aggregate
 * always lands on the same shard, which one worker reads at a time. Writes only move a
 * position forward (a conditional update), so two workers can never move it back.
 */
export class DynamoPositionStore implements PositionStore {
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly consumer: string,
    private readonly table = POSITIONS_TABLE,
  ) {}

  async position(aggregateId: string): Promise<number> {
    const cached = this.cache.get(aggregateId);
    if (cached !== undefined) return cached;
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { consumer: { S: this.consumer }, aggregate_id: { S: aggregateId } },
        ConsistentRead: true,
      }),
    );
    const position = Number(Item?.position?.N ?? 0);
    this.cache.set(aggregateId, position);
    return position;
  }

  async advance(aggregateId: string, sequence: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { consumer: { S: this.consumer }, aggregate_id: { S: aggregateId } },
          UpdateExpression: 'SET #p = :s',
          ConditionExpression: 'attribute_not_exists(#p) OR #p < :s',
          ExpressionAttributeNames: { '#p': 'position' },
          ExpressionAttributeValues: { ':s': { N: String(sequence) } },
        }),
      );
      this.cache.set(aggregateId, sequence);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Somebody is further already: forget the cached value and read it next time.
      this.cache.delete(aggregateId);
    }
  }
}
