import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';

/** The lease's item in the saga work table (its keys are the table's `pk` and `sk`). */
export const SWEEP_LEASE_KEY = { pk: { S: '#lease' }, sk: { S: 'saga-sweep' } } as const;

export interface SweepLeaseOptions {
  /** How long a lease holds before another sweep may take it over (ms). */
  readonly durationMs: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A lease taken: who holds it, until when; `release` gives it back. */
export interface HeldLease {
  readonly owner: string;
  readonly expiresAt: number;
  release(): Promise<void>;
}

/**
 * One sweep at a time without reserved concurrency: a sweep takes a lease (a conditional write
 * of one small item, `lease_until` in ms) before driving the sagas, and gives it back at the end. The write succeeds
 * only when no lease exists or the one there has expired, so a sweep whose function died is
 * replaced once its lease runs out. Two sweeps at once would be harmless, only wasteful.
 */
export class SweepLease {
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly options: SweepLeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The lease, or null when another sweep holds it and it has not expired. */
  async acquire(): Promise<HeldLease | null> {
    const owner = randomUUID();
    const at = this.now();
    const expiresAt = at + this.options.durationMs;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...SWEEP_LEASE_KEY,
            owner: { S: owner },
            lease_until: { N: String(expiresAt) },
            // The table's TTL attribute (epoch seconds) removes a lease left by a sweep that died.
            expires_at: { N: String(Math.ceil(expiresAt / 1000)) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR lease_until < :now',
          ExpressionAttributeValues: { ':now': { N: String(at) } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
    return { owner, expiresAt, release: () => this.release(owner) };
  }

  /** Gives the lease back, unless another sweep has taken it over since (then it is theirs). */
  private async release(owner: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { ...SWEEP_LEASE_KEY },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
