import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetReliably, batchWriteReliably } from '../aws/dynamoBatch.js';
import type { PositionStore } from './PositionStore.js';

/** The positions table's default name: partition key `consumer`, sort key `aggregate_id`. */
export const POSITIONS_TABLE = 'matchstream-positions';

/**
 * Positions of one consumer in a DynamoDB table, read and written in batches and cached: a
 * stream's aggregate always lands on the same shard, which one worker reads at a time, so the
 * worker holding it is the only writer of its position.
 */
export class DynamoPositionStore implements PositionStore {
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly consumer: string,
    private readonly table = POSITIONS_TABLE,
  ) {}

  async positions(aggregateIds: readonly string[]): Promise<Map<string, number>> {
    const missing = [...new Set(aggregateIds.filter((id) => !this.cache.has(id)))];
    if (missing.length > 0) {
      const found = await batchGetReliably(
        this.client,
        this.table,
        missing.map((id) => marshall({ consumer: this.consumer, aggregate_id: id })),
        ['consumer', 'aggregate_id'],
      );
      for (const item of found.values()) {
        const { aggregate_id, position } = unmarshall(item);
        this.cache.set(String(aggregate_id ?? ''), Number(position ?? 0));
      }
      for (const id of missing) if (!this.cache.has(id)) this.cache.set(id, 0);
    }
    return new Map(aggregateIds.map((id) => [id, this.cache.get(id) ?? 0]));
  }

  async advance(positions: ReadonlyMap<string, number>): Promise<void> {
    const forward = [...positions].filter(([id, sequence]) => sequence > (this.cache.get(id) ?? 0));
    await batchWriteReliably(
      this.client,
      this.table,
      forward.map(([id, sequence]) => ({
        put: marshall({ consumer: this.consumer, aggregate_id: id, position: sequence }),
      })),
      ['consumer', 'aggregate_id'],
    );
    for (const [id, sequence] of forward) this.cache.set(id, sequence);
  }
}
