import { describe, expect, it } from 'vitest';
import type { DeadLetter, DeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import { kinesisRecordOf } from '../support/kinesisRecords.js';
import { matchRecorded, registry } from '../support/registry.js';

/** What the contract needs of an adapter under test. */
export interface DeadLettersUnderTest {
  /** A queue on the adapter's storage; each call is another process opening it. */
  open(): DeadLetterQueue;
}

let counter = 0;
/** A consumer name no other test of the run uses (adapters may share one table). */
function consumerName(): string {
  counter++;
  return `consumer-${process.pid}-${counter}`;
}

const codec = new CommitCodec(registry);

/** The letter of a consumer that gave up on the record of a commit of `events` results. */
function recordLetter(consumer: string, events: number, failedAt = '2026-09-03T10:00:00.000Z') {
  const commit = codec.build(
    `match:${consumer}`,
    0,
    Array.from({ length: events }, (_, i) => ({
      event_type: 'MatchRecorded',
      data: matchRecorded(`m${i}`),
    })),
  );
  return {
    consumer,
    record: kinesisRecordOf(commit),
    error: 'MatchRecorded of match:x could not be applied: boom',
    attempts: 4,
    failed_at: failedAt,
  } satisfies DeadLetter;
}

const byTime = (a: DeadLetter, b: DeadLetter) => a.failed_at.localeCompare(b.failed_at);

/**
 * The contract of the dead-letter queue (what consumers, bus targets and the bus publisher
 * gave up on, kept whole with why): every adapter must pass exactly these tests.
 */
export function deadLetterQueueContract(name: string, setup: () => DeadLettersUnderTest): void {
  describe(`DeadLetterQueue contract: ${name}`, () => {
    it('has no letters for a consumer that never gave up', async () => {
      expect(await setup().open().list(consumerName())).toEqual([]);
    });

    it('keeps each letter whole, the record or the event with why, listed by consumer', async () => {
      // Prepare
      const queue = setup().open();
      const [consumer, bus] = [consumerName(), consumerName()];
      const ofRecord = recordLetter(consumer, 1);
      const ofEvent: DeadLetter = {
        consumer: bus,
        event: { 'detail-type': 'MatchRecorded', detail: { event_id: 'e1', data: { n: 1 } } },
        error: 'handler down',
        attempts: 3,
        failed_at: '2026-09-03T10:00:01.000Z',
      };

      // Act
      await queue.send(ofRecord);
      await queue.send(ofEvent);

      // Assess
      expect(await queue.list(consumer)).toEqual([ofRecord]);
      expect(await queue.list(bus)).toEqual([ofEvent]);
      const all = await queue.list();
      expect(all).toEqual(expect.arrayContaining([ofRecord, ofEvent]));
    });

    it('counts the letters of each consumer, as another process reads them', async () => {
      // Prepare
      const under = setup();
      const [consumer, other] = [consumerName(), consumerName()];

      // Act
      for (let i = 0; i < 3; i++) await under.open().send(recordLetter(consumer, 1));
      await under.open().send(recordLetter(other, 1));

      // Assess
      const counts = await under.open().counts();
      expect(counts[consumer]).toBe(3);
      expect(counts[other]).toBe(1);
    });

    it('is read by another process', async () => {
      const under = setup();
      const letter = recordLetter(consumerName(), 2);

      await under.open().send(letter);

      expect(await under.open().list(letter.consumer)).toEqual([letter]);
    });

    it('keeps every letter of writers giving up at once', async () => {
      const under = setup();
      const consumer = consumerName();
      const letters = Array.from({ length: 12 }, (_, i) =>
        recordLetter(consumer, 1, `2026-09-03T10:00:${String(i).padStart(2, '0')}.000Z`),
      );

      await Promise.all(letters.map((letter) => under.open().send(letter)));

      expect((await under.open().list(consumer)).sort(byTime)).toEqual(letters);
    });

    it('lists every letter when they fill many pages', async () => {
      // 30 letters of about 66 KB each: about 2 MB, past DynamoDB's 1 MB a page.
      const queue = setup().open();
      const consumer = consumerName();
      const letters = Array.from({ length: 30 }, (_, i) =>
        recordLetter(consumer, 120, `2026-09-03T11:00:${String(i).padStart(2, '0')}.000Z`),
      );
      for (const letter of letters) await queue.send(letter);

      expect((await queue.list(consumer)).sort(byTime)).toEqual(letters);
      expect((await queue.list()).filter((l) => l.consumer === consumer)).toHaveLength(30);
    });

    it('keeps the letter of the largest record a consumer can be handed (a commit of nearly 400 KB)', async () => {
      // Prepare: a commit item of 284 KB is a record of about 550 KB as Lambda hands it over.
      const queue = setup().open();
      const letter = recordLetter(consumerName(), 1_000);
      expect(JSON.stringify(letter).length).toBeGreaterThan(409_600);

      // Act
      await queue.send(letter);

      // Assess
      expect(await queue.list(letter.consumer)).toEqual([letter]);
    });
  });
}
