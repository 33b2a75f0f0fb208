import { describe, expect, it } from 'vitest';
import type { PositionStore } from '../../stream/consumer/PositionStore.js';

/** What the contract needs of an adapter under test. */
export interface PositionsUnderTest {
  /**
   * The positions of a consumer, as one writer holds them: a consumer process, or a Lambda
   * execution environment. Each call is another writer on the same storage, as the next batch
   * of a shard may run in another environment.
   */
  open(consumer: string): PositionStore;
}

let counter = 0;
/** A consumer name no other test of the run uses (adapters may share one table). */
function consumerName(): string {
  counter++;
  return `consumer-${process.pid}-${counter}`;
}

/**
 * The position store contract (the last sequence a consumer applied per stream): every adapter
 * must pass exactly these tests.
 */
export function positionStoreContract(name: string, setup: () => PositionsUnderTest): void {
  describe(`PositionStore contract: ${name}`, () => {
    it('has every stream it never advanced at 0, a stream named twice once', async () => {
      const store = setup().open(consumerName());

      const positions = await store.positions(['match:a', 'match:b', 'match:a']);

      expect([...positions]).toEqual([
        ['match:a', 0],
        ['match:b', 0],
      ]);
    });

    it('reads back what it advanced, per stream, the others left at 0', async () => {
      // Prepare
      const store = setup().open(consumerName());

      // Act
      await store.advance(
        new Map([
          ['match:a', 3],
          ['team:b', 1],
        ]),
      );
      await store.advance(new Map([['match:a', 7]]));

      // Assess
      expect(await store.positions(['match:a', 'team:b', 'match:c'])).toEqual(
        new Map([
          ['match:a', 7],
          ['team:b', 1],
          ['match:c', 0],
        ]),
      );
    });

    it('only moves forward: advancing a stream to an earlier or equal sequence leaves it', async () => {
      const store = setup().open(consumerName());
      await store.advance(new Map([['match:a', 5]]));

      await store.advance(
        new Map([
          ['match:a', 2],
          ['match:b', 1],
        ]),
      );
      await store.advance(new Map([['match:a', 5]]));

      expect(await store.positions(['match:a', 'match:b'])).toEqual(
        new Map([
          ['match:a', 5],
          ['match:b', 1],
        ]),
      );
    });

    it('keeps each consumer apart', async () => {
      const under = setup();
      const projector = under.open(consumerName());
      const router = under.open(consumerName());

      await projector.advance(new Map([['match:a', 4]]));
      await router.advance(new Map([['match:a', 9]]));

      expect(await projector.positions(['match:a'])).toEqual(new Map([['match:a', 4]]));
      expect(await router.positions(['match:a'])).toEqual(new Map([['match:a', 9]]));
    });

    it('shows every writer what another advanced, whatever it read before', async () => {
      // Prepare: two writers of one consumer (a shard's batches in two Lambda environments),
      // each having read the stream once.
      const under = setup();
      const consumer = consumerName();
      const first = under.open(consumer);
      const second = under.open(consumer);
      await first.advance(new Map([['match:a', 2]]));
      expect(await second.positions(['match:a'])).toEqual(new Map([['match:a', 2]]));

      // Act: the second writer applies the next events; then the first gets the batch after.
      await second.advance(new Map([['match:a', 6]]));
      const seenByFirst = await first.positions(['match:a']);
      await first.advance(new Map([['match:a', 4]]));

      // Assess: the first writer does not apply events 3 to 6 again, nor move the stream back.
      expect(seenByFirst).toEqual(new Map([['match:a', 6]]));
      expect(await second.positions(['match:a'])).toEqual(new Map([['match:a', 6]]));
      expect(await under.open(consumer).positions(['match:a'])).toEqual(new Map([['match:a', 6]]));
    });

    it('keeps every advance of writers working at once on different streams', async () => {
      const under = setup();
      const consumer = consumerName();
      const writers = [under.open(consumer), under.open(consumer), under.open(consumer)];

      await Promise.all(
        writers.map((writer, w) =>
          writer.advance(new Map(Array.from({ length: 40 }, (_, i) => [`s${w}-${i}`, i + 1]))),
        ),
      );

      const ids = writers.flatMap((_, w) => Array.from({ length: 40 }, (_, i) => `s${w}-${i}`));
      const read = await under.open(consumer).positions(ids);
      expect(ids.map((id) => read.get(id))).toEqual(
        writers.flatMap(() => Array.from({ length: 40 }, (_, i) => i + 1)),
      );
    });

    it('advances and reads hundreds of streams at once (more than one call of each kind)', async () => {
      const under = setup();
      const consumer = consumerName();
      const ids = Array.from({ length: 260 }, (_, i) => `match:${i}`);

      await under.open(consumer).advance(new Map(ids.map((id, i) => [id, i + 1])));
      const read = await under.open(consumer).positions(ids);

      expect(ids.map((id) => read.get(id))).toEqual(ids.map((_, i) => i + 1));
    });
  });
}
