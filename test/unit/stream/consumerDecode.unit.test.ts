import { describe, expect, it } from 'vitest';
import { parseChangeRecord } from '../../../stream/changes/ChangeRecord.js';
import { commitChange } from '../../../stream/changes/commitChange.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { createKinesisHandler } from '../../../stream/consumer/createKinesisHandler.js';
import { decodeRecord } from '../../../stream/consumer/decodeRecord.js';
import type { KinesisStreamRecord } from '../../../stream/consumer/kinesisEvent.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { type Commit, CommitCodec } from '../../../stream/eventStore/Commit.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { latestVersion, matchRecorded, registry } from '../../support/registry.js';

const codec = new CommitCodec(registry, () => new Date('2026-09-01T20:10:00.000Z'));

/** A one-event commit of a match, its event written at `version` with `data`. */
function commit(matchId: string, version?: number, data?: unknown): Commit {
  const built = codec.build(`match:${matchId}`, 0, [
    { event_type: 'MatchRecorded', data: matchRecorded(matchId) },
  ]);
  if (version === undefined) return built;
  const written = registry.encode('MatchRecorded', data, version);
  const [event] = built.events;
  if (!event) throw new Error('no event');
  return {
    ...built,
    events: [{ ...event, version, fingerprint: written.fingerprint, data: written.bytes }],
  };
}

/** A commit's change as Lambda hands it over, at a sequence number of shard 3. */
function lambdaRecord(c: Commit, sequenceNumber: string, edit = (json: string) => json) {
  const { record, partitionKey } = commitChange(c, 'events', 'us-east-1');
  return {
    eventID: `shardId-000000000003:${sequenceNumber}`,
    kinesis: {
      partitionKey,
      sequenceNumber,
      data: Buffer.from(edit(JSON.stringify(record))).toString('base64'),
      approximateArrivalTimestamp: 1788283800.5,
    },
  } satisfies KinesisStreamRecord;
}

function consumer() {
  const seen: EventEnvelope[] = [];
  const failures: unknown[] = [];
  const handler = createKinesisHandler({
    consumer: 'test',
    codec,
    sequencer: new AggregateSequencer({
      consumer: 'test',
      store: new InMemoryEventStore(registry),
      positions: new InMemoryPositionStore(),
      apply: async (events) => {
        seen.push(...events);
      },
    }),
    onFailure: (_, error) => failures.push(error),
  });
  return { handler, seen, failures };
}

describe('the consumer reading change records', () => {
  it('decodes every record of a schema version it has read before, and still refuses a fingerprint no schema has', async () => {
    const { handler, seen, failures } = consumer();
    const unknown = Buffer.alloc(32, 7).toString('base64');
    const known = Buffer.from(registry.latest('MatchRecorded').fingerprint, 'hex').toString(
      'base64',
    );

    const result = await handler({
      Records: [
        lambdaRecord(commit('a'), '1'),
        lambdaRecord(commit('b'), '2'),
        lambdaRecord(commit('c'), '3', (json) => json.replace(known, unknown)),
        lambdaRecord(commit('d'), '4'),
      ],
    });

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '3' }] });
    expect(seen.map((e) => [e.aggregate_id, e.version])).toEqual([
      ['match:a', latestVersion('MatchRecorded')],
      ['match:b', latestVersion('MatchRecorded')],
    ]);
    expect(String(failures[0])).toContain('no registered schema has this fingerprint');
    expect(String(failures[0])).toContain('record 3');
  });

  it('brings events written at every version to the latest, as the registry decodes each alone', async () => {
    const { handler, seen } = consumer();
    const written = [
      commit('v1', 1, { match_id: 'v1', home_team: 'A', away_team: 'B', score: '3-2' }),
      commit('v2', 2, { ...matchRecorded('v2'), venue: undefined }),
      commit('v3', 3, { ...matchRecorded('v3'), venue: 'North Field' }),
    ];

    await handler({ Records: written.map((c, i) => lambdaRecord(c, String(i + 1))) });

    expect(seen.map((e) => e.data)).toEqual(
      written.map((c) => {
        const [event] = c.events;
        if (!event) throw new Error('no event');
        return registry.decode({
          eventType: 'MatchRecorded',
          fingerprint: event.fingerprint,
          bytes: event.data,
          eventId: event.event_id,
          aggregateId: c.aggregate_id,
          timestamp: event.timestamp,
        }).data;
      }),
    );
    expect(seen[0]?.data).toEqual({
      match_id: 'v1',
      season: '2026',
      played_on: '2026-09-01',
      home_team: 'A',
      away_team: 'B',
      home_goals: 3,
      away_goals: 2,
      neutral: false,
      decided_by: 'regulation',
      venue: null,
    });
    expect(seen[1]?.data).toMatchObject({ match_id: 'v2', venue: null });
    expect(seen[2]?.data).toMatchObject({ match_id: 'v3', venue: 'North Field' });
    expect(seen.every((e) => e.version === latestVersion('MatchRecorded'))).toBe(true);
  });

  it('names the shard and record of an event whose fingerprint is not binary', async () => {
    const record = lambdaRecord(commit('x'), '77', (json) =>
      json.replace(/"fingerprint":\{"B":"[^"]*"\}/, '"fingerprint":{"S":"abc"}'),
    );
    const message =
      'not a change of the events table: item match:x/1 of events: event 1 is missing a field (shard shardId-000000000003, record 77)';

    expect(() => decodeRecord(record)).toThrow(message);
    const { handler, seen, failures } = consumer();
    expect(await handler({ Records: [lambdaRecord(commit('w'), '76'), record] })).toEqual({
      batchItemFailures: [{ itemIdentifier: '77' }],
    });
    expect(seen.map((e) => e.aggregate_id)).toEqual(['match:w']);
    expect(failures).toEqual([expect.objectContaining({ code: 'MALFORMED_RECORD', message })]);
  });

  it('names the shard and record of data that is not JSON, through the handler', async () => {
    const { handler, failures } = consumer();
    const record = { ...lambdaRecord(commit('z'), '5'), eventID: 'shardId-000000000009:5' };

    await handler({
      Records: [{ ...record, kinesis: { ...record.kinesis, data: 'bm90IGpzb24=' } }],
    });

    expect(failures).toEqual([
      expect.objectContaining({
        code: 'MALFORMED_RECORD',
        message:
          'not a change of the events table: the record data is not JSON (shard shardId-000000000009, record 5)',
      }),
    ]);
  });

  it('reads a change record from a view into a larger buffer', () => {
    const { record } = commitChange(commit('y'), 'events', 'us-east-1');
    const text = Buffer.from(JSON.stringify(record));
    const larger = new Uint8Array(text.length + 8);
    larger.set(text, 4);

    expect(parseChangeRecord(larger.subarray(4, 4 + text.length))).toEqual(record);
  });
});
