import { describe, expect, it } from 'vitest';
import { decodeRecord } from '../../stream/consumer/decodeRecord.js';
import { type KinesisStreamRecord, shardOf } from '../../stream/consumer/kinesisEvent.js';
import type { NewEvent } from '../../stream/EventEnvelope.js';
import { CommitCodec } from '../../stream/eventStore/Commit.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { matchRecorded, registry, teamRegistered } from '../support/registry.js';

/** What the contract needs of an adapter under test: a fresh table and stream for each test. */
export interface ChangeSourceUnderTest {
  /** The event store on the table whose changes the stream carries. */
  readonly store: EventStore;
  /** The table's name, as its change records carry it. */
  readonly table: string;
  /**
   * Runs the consumer until it has been handed every commit appended so far, then stops it;
   * the batches it was handed, in the order it was handed them. Each run is a restart: it goes
   * on from where the last one stopped.
   */
  consume(): Promise<KinesisStreamRecord[][]>;
  /**
   * Has a stored commit captured again, as after a crash between putting its record on the
   * stream and noting that it did (the stream then holds it twice).
   */
  captureAgain(aggregateId: string, sequence: number): Promise<void>;
}

let counter = 0;
/** A stream id no other test of the run uses. */
function streamId(prefix: string): string {
  counter++;
  return `${prefix}:${process.pid}-${counter}`;
}

const result = (matchId: string, home = 2): NewEvent => ({
  event_type: 'MatchRecorded',
  data: matchRecorded(matchId, home),
});
const codec = new CommitCodec(registry);

/** A record as the consumer reads it: the commit's key, and its events. */
function read(record: KinesisStreamRecord) {
  const decoded = decodeRecord(record);
  const commit = decoded.commit;
  if (!commit) throw new Error(`record ${record.eventID} carries no commit`);
  return { ...decoded, commit, events: codec.envelopes(commit) };
}

/**
 * The contract of the change records the consumers are handed (the commits of the events table
 * as Kinesis Data Streams for DynamoDB writes them, read as Lambda's Kinesis event source
 * mapping hands them over): every adapter must pass exactly these tests.
 */
export function changeSourceContract(
  name: string,
  setup: () => Promise<ChangeSourceUnderTest>,
): void {
  describe(`change source contract: ${name}`, () => {
    it('hands over every commit appended as a record decodeRecord reads, its events as stored', async () => {
      // Prepare
      const source = await setup();
      const match = streamId('match');
      const team = streamId('team');
      await source.store.append(match, 0, [result('m1'), result('m1', 3)]);
      await source.store.append(team, 0, [
        { event_type: 'TeamRegistered', data: teamRegistered('SEA') },
      ]);
      await source.store.append(match, 2, [
        {
          event_type: 'MatchResultCorrected',
          data: { ...matchRecorded('m1', 1, 1), reason: 'typo' },
        },
      ]);

      // Act
      const records = (await source.consume()).flat();

      // Assess
      const decoded = records.map(read);
      expect(decoded.map((d) => [d.commit.aggregate_id, d.commit.sequence])).toEqual(
        expect.arrayContaining([
          [match, 1],
          [match, 3],
          [team, 1],
        ]),
      );
      expect(decoded).toHaveLength(3);
      for (const d of decoded) {
        const stored = await source.store.read(d.commit.aggregate_id, {
          fromSequence: d.commit.sequence,
          toSequence: d.commit.last_sequence,
        });
        expect(d.events).toEqual(stored);
        expect(d.partitionKey).toBe(d.commit.aggregate_id);
        expect(d.change).toMatchObject({
          eventName: 'INSERT',
          eventSource: 'aws:dynamodb',
          tableName: source.table,
          dynamodb: {
            Keys: {
              aggregate_id: { S: d.commit.aggregate_id },
              sequence: { N: String(d.commit.sequence) },
            },
          },
        });
      }
      for (const r of records) {
        expect(r).toMatchObject({
          eventSource: 'aws:kinesis',
          eventName: 'aws:kinesis:record',
          eventID: `${shardOf(r)}:${r.kinesis.sequenceNumber}`,
          eventSourceARN: expect.stringMatching(/^arn:aws:kinesis:[a-z0-9-]+:\d{12}:stream\/.+/),
        });
        expect(r.kinesis.approximateArrivalTimestamp).toBeGreaterThan(1_600_000_000);
      }
    });

    it('keeps each stream’s commits in order, on one shard, batch after batch', async () => {
      // Prepare: 24 streams of 5 commits each, appended in turn, so the shards interleave them.
      const source = await setup();
      const ids = Array.from({ length: 24 }, () => streamId('match'));
      for (let version = 0; version < 5; version++)
        await Promise.all(
          ids.map((id, n) => source.store.append(id, version, [result(`m${n}`, version)])),
        );

      // Act
      const batches = await source.consume();

      // Assess: each stream's commits in order, all on one shard; each batch from one shard,
      // its sequence numbers rising (Kinesis order; with a parallelization factor, batches of
      // one shard run side by side, so only each key's order holds across batches).
      const byStream = new Map<string, { sequences: number[]; shards: Set<string> }>();
      for (const record of batches.flat()) {
        const { commit, shardId } = read(record);
        const stream = byStream.get(commit.aggregate_id) ?? { sequences: [], shards: new Set() };
        stream.sequences.push(commit.sequence);
        stream.shards.add(shardId);
        byStream.set(commit.aggregate_id, stream);
      }
      expect([...byStream.keys()].sort()).toEqual([...ids].sort());
      for (const { sequences, shards } of byStream.values()) {
        expect(sequences).toEqual([1, 2, 3, 4, 5]);
        expect(shards.size).toBe(1);
      }
      expect(new Set(batches.flat().map(shardOf)).size).toBeGreaterThan(1);
      for (const batch of batches) {
        expect(new Set(batch.map(shardOf)).size).toBe(1);
        const sequences = batch.map((r) => BigInt(r.kinesis.sequenceNumber));
        expect(
          sequences.every((sequence, i) => i === 0 || sequence > (sequences[i - 1] ?? 0n)),
        ).toBe(true);
      }
    });

    it('goes on after a restart from what it was handed, and hands over nothing twice', async () => {
      const source = await setup();
      const id = streamId('match');
      await source.store.append(id, 0, [result('m1')]);
      await source.store.append(id, 1, [result('m1', 4)]);
      const first = (await source.consume()).flat().map((r) => read(r).commit.sequence);

      await source.store.append(id, 2, [result('m1', 5)]);
      const second = (await source.consume()).flat().map((r) => read(r).commit.sequence);
      const third = (await source.consume()).flat();

      expect(first).toEqual([1, 2]);
      expect(second).toEqual([3]);
      expect(third).toEqual([]);
    });

    it('hands a commit captured twice over twice, as the same change, which consumers drop by its key', async () => {
      const source = await setup();
      const id = streamId('match');
      await source.store.append(id, 0, [result('m1')]);
      await source.store.append(id, 1, [result('m1', 4)]);
      const [before] = (await source.consume()).flat().map(read);

      await source.captureAgain(id, 1);
      const again = (await source.consume()).flat().map(read);

      expect(again).toHaveLength(1);
      expect(again[0]?.change.eventID).toBe(before?.change.eventID);
      expect(again[0]?.events).toEqual(before?.events);
      expect(again[0]?.sequenceNumber).not.toBe(before?.sequenceNumber);
    });

    it('keys a stream id longer than a partition key may be by a digest, its commits on one shard', async () => {
      const source = await setup();
      const id = streamId(`match:${'x'.repeat(300)}`);
      await source.store.append(id, 0, [result('m1')]);
      await source.store.append(id, 1, [result('m1', 3)]);

      const records = (await source.consume()).flat();

      const decoded = records.map(read);
      expect(decoded.map((d) => [d.commit.aggregate_id, d.commit.sequence])).toEqual([
        [id, 1],
        [id, 2],
      ]);
      expect(new Set(decoded.map((d) => d.partitionKey)).size).toBe(1);
      expect(decoded[0]?.partitionKey).toMatch(/^#[0-9a-f-]{36}$/);
      expect(new Set(decoded.map((d) => d.shardId)).size).toBe(1);
    });
  });
}
