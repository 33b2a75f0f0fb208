import { describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../stream/consumer/CheckpointStore.js';

/** What the contract needs of an adapter under test. */
export interface CheckpointsUnderTest {
  /** A store on the adapter's storage; each call is another process opening it. */
  open(): CheckpointStore;
}

let counter = 0;
/** A consumer name no other test of the run uses (adapters may share one table). */
function consumerName(): string {
  counter++;
  return `consumer-${process.pid}-${counter}`;
}

/** A Kinesis sequence number: 56 digits, past what a number holds exactly. */
function sequenceNumber(n: number): string {
  return `4959033827149025660855969253836157109592157598913658${String(n).padStart(4, '0')}`;
}

/**
 * The contract of the event source mapping's per-shard checkpoints: every adapter must pass
 * exactly these tests.
 */
export function checkpointStoreContract(name: string, setup: () => CheckpointsUnderTest): void {
  describe(`CheckpointStore contract: ${name}`, () => {
    it('has no checkpoint for a shard never set', async () => {
      const store = setup().open();

      expect(await store.get(consumerName(), 'shardId-000000000000')).toBeUndefined();
    });

    it('reads back the checkpoint set, its sequence number to the last digit', async () => {
      // Prepare
      const store = setup().open();
      const consumer = consumerName();

      // Act
      await store.set(consumer, 'shardId-000000000000', {
        sequenceNumber: sequenceNumber(17),
        finished: false,
      });

      // Assess
      expect(await store.get(consumer, 'shardId-000000000000')).toEqual({
        sequenceNumber: sequenceNumber(17),
        finished: false,
      });
    });

    it('keeps a finished shard that never had a record without a sequence number', async () => {
      const store = setup().open();
      const consumer = consumerName();

      await store.set(consumer, 'shardId-000000000003', { finished: true });

      expect(await store.get(consumer, 'shardId-000000000003')).toEqual({ finished: true });
    });

    it('moves a shard on: the later checkpoint replaces the earlier', async () => {
      const store = setup().open();
      const consumer = consumerName();

      await store.set(consumer, 'shardId-000000000000', {
        sequenceNumber: sequenceNumber(1),
        finished: false,
      });
      await store.set(consumer, 'shardId-000000000000', {
        sequenceNumber: sequenceNumber(250),
        finished: false,
      });
      await store.set(consumer, 'shardId-000000000000', {
        sequenceNumber: sequenceNumber(251),
        finished: true,
      });

      expect(await store.get(consumer, 'shardId-000000000000')).toEqual({
        sequenceNumber: sequenceNumber(251),
        finished: true,
      });
    });

    it('keeps each consumer and each shard apart', async () => {
      const store = setup().open();
      const [projector, router] = [consumerName(), consumerName()];

      await store.set(projector, 'shardId-000000000000', {
        sequenceNumber: sequenceNumber(5),
        finished: false,
      });
      await store.set(router, 'shardId-000000000000', {
        sequenceNumber: sequenceNumber(9),
        finished: true,
      });
      await store.set(projector, 'shardId-000000000001', {
        sequenceNumber: sequenceNumber(2),
        finished: false,
      });

      expect(await store.get(projector, 'shardId-000000000000')).toEqual({
        sequenceNumber: sequenceNumber(5),
        finished: false,
      });
      expect(await store.get(router, 'shardId-000000000000')).toEqual({
        sequenceNumber: sequenceNumber(9),
        finished: true,
      });
      expect(await store.get(projector, 'shardId-000000000001')).toEqual({
        sequenceNumber: sequenceNumber(2),
        finished: false,
      });
      expect(await store.get(router, 'shardId-000000000001')).toBeUndefined();
    });

    it('survives a restart: another process reads what the first set', async () => {
      const under = setup();
      const consumer = consumerName();

      await under.open().set(consumer, 'shardId-000000000002', {
        sequenceNumber: sequenceNumber(42),
        finished: false,
      });

      expect(await under.open().get(consumer, 'shardId-000000000002')).toEqual({
        sequenceNumber: sequenceNumber(42),
        finished: false,
      });
    });

    it('keeps every checkpoint of shards set at once', async () => {
      const under = setup();
      const consumer = consumerName();
      const shards = Array.from({ length: 12 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);

      await Promise.all(
        shards.map((shard, i) =>
          under.open().set(consumer, shard, { sequenceNumber: sequenceNumber(i), finished: false }),
        ),
      );

      const store = under.open();
      expect(await Promise.all(shards.map((shard) => store.get(consumer, shard)))).toEqual(
        shards.map((_, i) => ({ sequenceNumber: sequenceNumber(i), finished: false })),
      );
    });
  });
}
