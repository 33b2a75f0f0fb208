import { describe, expect, it } from 'vitest';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { createKinesisHandler } from '../../../stream/consumer/createKinesisHandler.js';
import { decodeRecord } from '../../../stream/consumer/decodeRecord.js';
import { inspectDocument } from '../../../stream/consumer/inspectRecords.js';
import type { KinesisStreamEvent } from '../../../stream/consumer/kinesisEvent.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { latestVersion, matchRecorded, registry } from '../../support/registry.js';

// A change record written out by hand in the layout the DynamoDB documentation shows for
// Kinesis Data Streams for DynamoDB (INSERT, NewImage in DynamoDB JSON, microsecond time),
// for an item of the events table holding one MatchRecorded v2 event.
const data = registry.encode('MatchRecorded', matchRecorded('2026-00017'));
const change = {
  awsRegion: 'us-east-1',
  dynamodb: {
    ApproximateCreationDateTime: 1788283800123456,
    ApproximateCreationDateTimePrecision: 'MICROSECOND',
    Keys: { aggregate_id: { S: 'match:2026-00017' }, sequence: { N: '1' } },
    NewImage: {
      aggregate_id: { S: 'match:2026-00017' },
      sequence: { N: '1' },
      last_sequence: { N: '1' },
      committed_at: { S: '2026-09-01T20:10:00.123Z' },
      events: {
        L: [
          {
            M: {
              event_id: { S: '6f9619ff-8b86-4011-b42d-00c04fc964ff' },
              event_type: { S: 'MatchRecorded' },
              version: { N: String(data.version) },
              fingerprint: { B: Buffer.from(data.fingerprint, 'hex').toString('base64') },
              data: { B: data.bytes.toString('base64') },
              timestamp: { S: '2026-09-01T20:10:00.123Z' },
              correlation_id: { S: 'feed-2026-09-01' },
              causation_id: { NULL: true },
            },
          },
        ],
      },
    },
    SizeBytes: 412,
  },
  eventID: '7a2c5a7b-1f0e-4a8f-9e55-1b8c4a7e3d21',
  eventName: 'INSERT',
  eventSource: 'aws:dynamodb',
  recordFormat: 'application/json',
  tableName: 'matchstream-events',
  userIdentity: null,
};

// The Lambda event for it, in the layout of the Lambda documentation's Kinesis example.
const lambdaEvent: KinesisStreamEvent = {
  Records: [
    {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'match:2026-00017',
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        data: Buffer.from(JSON.stringify(change)).toString('base64'),
        approximateArrivalTimestamp: 1788283800.987,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/matchstream-changes',
    },
  ],
};

describe('decoding records as AWS delivers them', () => {
  it('reads a Lambda Kinesis record of a DynamoDB change into the commit and its events', () => {
    const record = lambdaEvent.Records[0];
    if (!record) throw new Error('no record');

    const decoded = decodeRecord(record);
    const events = decoded.commit ? new CommitCodec(registry).envelopes(decoded.commit) : [];

    expect(decoded).toMatchObject({
      shardId: 'shardId-000000000006',
      partitionKey: 'match:2026-00017',
    });
    expect(events).toEqual([
      {
        event_id: '6f9619ff-8b86-4011-b42d-00c04fc964ff',
        event_type: 'MatchRecorded',
        aggregate_id: 'match:2026-00017',
        sequence: 1,
        timestamp: '2026-09-01T20:10:00.123Z',
        data: expect.objectContaining(matchRecorded('2026-00017')),
        version: latestVersion('MatchRecorded'),
        correlation_id: 'feed-2026-09-01',
        causation_id: null,
      },
    ]);
  });

  it('drives a handler, and reports the record when it is not a change record', async () => {
    const seen: EventEnvelope[] = [];
    const handler = createKinesisHandler({
      consumer: 'test',
      codec: new CommitCodec(registry),
      sequencer: new AggregateSequencer({
        consumer: 'test',
        store: new InMemoryEventStore(registry),
        positions: new InMemoryPositionStore(),
        apply: async (events) => {
          seen.push(...events);
        },
      }),
    });
    const record = lambdaEvent.Records[0];
    if (!record) throw new Error('no record');
    const garbage = {
      ...record,
      kinesis: {
        ...record.kinesis,
        sequenceNumber: '2',
        data: Buffer.from('{"x":1}').toString('base64'),
      },
    };

    expect(await handler(lambdaEvent)).toEqual({ batchItemFailures: [] });
    expect(await handler({ Records: [garbage, record] })).toEqual({
      batchItemFailures: [{ itemIdentifier: '2' }],
    });
    expect(seen).toHaveLength(1);
  });

  it('names the shard and record of a malformed record', () => {
    const record = lambdaEvent.Records[0];
    if (!record) throw new Error('no record');

    expect(() =>
      decodeRecord({ ...record, kinesis: { ...record.kinesis, data: 'bm90IGpzb24=' } }),
    ).toThrow(
      'not a change of the events table: the record data is not JSON (shard shardId-000000000006, record 49590338271490256608559692538361571095921575989136588898)',
    );
  });

  it('inspects a Lambda event, a raw change record and a dead letter alike', () => {
    const letter = {
      consumer: 'router',
      record: lambdaEvent.Records[0],
      error: 'boom',
      attempts: 4,
      failed_at: '2026-09-01T20:11:00.000Z',
    };

    const lines = inspectDocument([lambdaEvent, change, letter, { something: 'else' }], registry);

    expect(lines.map((l) => l.kind)).toEqual(['event', 'event', 'event', 'error']);
    expect(lines[0]).toMatchObject({
      event_type: 'MatchRecorded',
      version: latestVersion('MatchRecorded'),
      writer_version: latestVersion('MatchRecorded'),
    });
    expect(lines[2]).toMatchObject({
      source: { dead_letter: { consumer: 'router', error: 'boom' } },
    });
    expect(lines[3]).toEqual({
      kind: 'error',
      where: 'input[3]',
      error: 'not a Lambda Kinesis event, a dead letter or a change record',
    });
  });

  it('inspects the envelope a bus or PutEvents dead letter carries at the latest version, with the version it was published at', () => {
    // Prepare: a MatchRecorded published at v1 by an earlier release, kept by a bus target
    // and by the publisher; and a claim check, which carries no data.
    const published = {
      event_id: '6f9619ff-8b86-4011-b42d-00c04fc964ff',
      event_type: 'MatchRecorded',
      aggregate_id: 'match:2026-00017',
      sequence: 1,
      timestamp: '2026-09-01T20:10:00.123Z',
      data: { match_id: '2026-00017', home_team: 'A', away_team: 'B', score: '3-1' },
      version: 1,
      correlation_id: 'feed-2026-09-01',
      causation_id: null,
    };
    const failed = { error: 'boom', attempts: 3, failed_at: '2026-09-01T20:11:00.000Z' };
    const target = {
      consumer: 'bus:matchstream-soccer/standings',
      event: { 'detail-type': 'MatchRecorded', source: 'matchstream', detail: published },
      ...failed,
    };
    const entry = {
      consumer: 'publish:matchstream-soccer',
      event: {
        Source: 'matchstream',
        DetailType: 'MatchRecorded',
        Detail: JSON.stringify(published),
      },
      ...failed,
    };
    const { data: _data, ...envelope } = published;
    const claimCheck = {
      consumer: 'bus:matchstream-soccer/standings',
      event: { detail: { ...envelope, claim_check: true } },
      ...failed,
    };

    // Act
    const lines = inspectDocument([target, entry, claimCheck], registry);

    // Assess: both upcast as a bus handler reads them; the claim check as it is.
    const latest = {
      kind: 'event',
      event_type: 'MatchRecorded',
      version: latestVersion('MatchRecorded'),
      writer_version: 1,
      data: { match_id: '2026-00017', home_goals: 3, away_goals: 1, played_on: '2026-09-01' },
    };
    expect(lines[0]).toMatchObject({
      ...latest,
      source: { dead_letter: { consumer: 'bus:matchstream-soccer/standings' } },
    });
    expect(lines[1]).toMatchObject({
      ...latest,
      source: { dead_letter: { consumer: 'publish:matchstream-soccer' } },
    });
    expect(lines[2]).toMatchObject({ kind: 'event', claim_check: true, version: 1 });
  });
});
