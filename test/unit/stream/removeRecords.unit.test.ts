import { describe, expect, it } from 'vitest';
import { seasonOfStream } from '../../../ingest/seasons.js';
import { SchemaRegistry } from '../../../schemas/SchemaRegistry.js';
import { removalChange } from '../../../stream/changes/commitChange.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { createKinesisHandler } from '../../../stream/consumer/createKinesisHandler.js';
import type { KinesisStreamRecord } from '../../../stream/consumer/kinesisEvent.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { type Commit, CommitCodec } from '../../../stream/eventStore/Commit.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { matchRecorded, teamRegistered } from '../../support/registry.js';

const registry = SchemaRegistry.fromDirectory();

function removeRecordOf(commit: Commit, n: number): KinesisStreamRecord {
  const { record, partitionKey } = removalChange(commit, 'events', 'us-east-1', Date.now());
  const base = kinesisRecordOf(commit);
  return {
    ...base,
    kinesis: {
      ...base.kinesis,
      partitionKey,
      sequenceNumber: String(59_000_000_000_000_000n + BigInt(n)),
      data: Buffer.from(JSON.stringify(record)).toString('base64'),
    },
  };
}

describe('REMOVE records of expired commits', () => {
  it('are skipped by a consumer: no failure, no effect, no position', async () => {
    // Prepare
    const store = new InMemoryEventStore(registry);
    await store.append('match:1', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('1') }]);
    await store.append('match:1', 1, [
      { event_type: 'MatchRecorded', data: matchRecorded('1', 3) },
    ]);
    const applied: EventEnvelope[] = [];
    const positions = new InMemoryPositionStore();
    const handler = createKinesisHandler({
      consumer: 'test',
      codec: new CommitCodec(registry),
      sequencer: new AggregateSequencer({
        consumer: 'test',
        store,
        positions,
        apply: async (events) => {
          applied.push(...events);
        },
      }),
      onFailure: (_record, error) => {
        throw error;
      },
    });

    // Act
    const result = await handler({
      Records: store.commitsOf('match:1').map((c, i) => removeRecordOf(c, i)),
    });

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(applied).toEqual([]);
    expect((await positions.positions(['match:1'])).get('match:1') ?? 0).toBe(0);
  });
});

describe('seasonOfStream', () => {
  const fold = async (events: { event_type: string; data: unknown }[]) => {
    const store = new InMemoryEventStore(registry);
    await store.append('s', 0, events as never);
    return (await store.read('s')).reduce<string | null | undefined>(seasonOfStream, undefined);
  };

  it('gives the season of a match stream, a cancellation included', async () => {
    expect(
      await fold([
        { event_type: 'MatchRecorded', data: { ...matchRecorded('1'), season: '2025' } },
        { event_type: 'MatchCancelled', data: { match_id: '1', reason: null } },
      ]),
    ).toBe('2025');
  });

  it('gives none to a stream of two seasons, a team, or a season stream', async () => {
    expect(
      await fold([
        { event_type: 'MatchRecorded', data: { ...matchRecorded('1'), season: '2025' } },
        {
          event_type: 'MatchResultCorrected',
          data: { ...matchRecorded('1'), season: '2024', reason: null },
        },
      ]),
    ).toBeNull();
    expect(await fold([{ event_type: 'TeamRegistered', data: teamRegistered('A') }])).toBeNull();
    expect(
      await fold([
        {
          event_type: 'SeasonClosed',
          data: { season: '2025', closed_at: new Date().toISOString(), reason: null },
        },
      ]),
    ).toBeNull();
  });
});
