import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetReliably, batchWriteReliably } from '../aws/dynamoBatch.js';
import type { PositionStore } from './PositionStore.js';

/** The positions table's default name: partition key `consumer`, sort key `aggregate_id`. */
export const POSITIONS_TABLE = 'matchstream-positions';

/**
 * Positions of one consumer in a DynamoDB table, read and written in batches. One writer
 * advances a stream at a time (its records are on one shard, read in order), but not always
 * the same writer: Lambda runs a shard's next batch in any execution environment. So positions
 * are read from the table for every batch; what this writer last read or wrote only spares
 * writes that would not move a stream forward.
 */
export class DynamoPositionStore implements PositionStore {
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly consumer: string,
    private readonly table = POSITIONS_TABLE,
  ) {}

  async positions(aggregateIds: readonly string[]): Promise<Map<string, number>> {
    const ids = [...new Set(aggregateIds)];
    if (ids.length === 0) return new Map();
    const found = await batchGetReliably(
      this.client,
      this.table,
      ids.map((id) => marshall({ consumer: this.consumer, aggregate_id: id })),
      ['consumer', 'aggregate_id'],
    );
    const read = new Map<string, number>(ids.map((id) => [id, 0]));
    for (const item of found.values()) {
      const { aggregate_id, position } = unmarshall(item);
      read.set(String(aggregate_id ?? ''), Number(position ?? 0));
    }
    for (const [id, position] of read) this.cache.set(id, position);
    return read;
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
