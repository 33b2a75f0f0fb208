import { readFileSync } from 'node:fs';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { decodeRecord } from '../../../stream/consumer/decodeRecord.js';
import { lambdaRecords } from '../../../stream/consumer/kinesisEvent.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { registry } from '../../support/registry.js';

// The records are the shapes AWS documents, written by hand (test/fixtures/aws/README.md), not
// what this project's encoder makes: the decoder is pinned to AWS's format, not to itself.
const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/aws/${name}`, import.meta.url), 'utf8');
const change = JSON.parse(fixture('dynamodb-kinesis-insert.json'));
const lambdaEvent = JSON.parse(fixture('lambda-kinesis-event.json'));
const matchRecorded = JSON.parse(
  readFileSync(new URL('../../fixtures/events/MatchRecorded/v3.json', import.meta.url), 'utf8'),
);

describe.runIf(motoAvailable())(
  'decoding documented change records read back from moto_server Kinesis',
  () => {
    let moto: Moto;
    let client: KinesisClient;

    beforeAll(async () => {
      moto = await startMoto();
      client = kinesisClient({ endpoint: moto.endpoint, maxAttempts: 3 });
      await ensureStream(client, 'changes', 1);
    });

    afterAll(async () => {
      client?.destroy();
      await moto?.stop();
    });

    it('reads the record Kinesis Data Streams for DynamoDB writes, as Lambda hands it over', async () => {
      // Prepare: the documented INSERT record, put as DynamoDB puts it (keyed by the item's
      // partition key).
      await client.send(
        new PutRecordCommand({
          StreamName: 'changes',
          PartitionKey: change.dynamodb.Keys.aggregate_id.S,
          Data: Buffer.from(JSON.stringify(change)),
        }),
      );

      // Act: read it back and hand it over in the Lambda event's shape.
      const { Shards } = await client.send(new ListShardsCommand({ StreamName: 'changes' }));
      const shardId = Shards?.[0]?.ShardId ?? '';
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamName: 'changes',
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const { Records } = await client.send(new GetRecordsCommand({ ShardIterator }));
      const records = lambdaRecords(
        Records ?? [],
        shardId,
        'arn:aws:kinesis:us-east-1:123456789012:stream/changes',
        'us-east-1',
      );
      const decoded = records.map(decodeRecord);
      const events = decoded.flatMap((d) =>
        d.commit ? new CommitCodec(registry).envelopes(d.commit) : [],
      );

      // Assess: the record carries every field of the documented Lambda record but the role
      // (which only Lambda knows), and decodes to the stored event, upcast to the latest version.
      const documented = lambdaEvent.Records[0];
      const { invokeIdentityArn: _, ...expectedKeys } = documented;
      expect(Object.keys(records[0] ?? {}).sort()).toEqual(Object.keys(expectedKeys).sort());
      expect(Object.keys(records[0]?.kinesis ?? {}).sort()).toEqual(
        Object.keys(documented.kinesis).sort(),
      );
      expect(decoded).toHaveLength(1);
      expect(decoded[0]?.partitionKey).toBe('match:2026-00018');
      expect(decoded[0]?.change.tableName).toBe('matchstream-events');
      expect(events).toEqual([
        expect.objectContaining({
          event_id: '7f1c2e9a-5d4b-4c3e-9a8f-1b2c3d4e5f60',
          event_type: 'MatchRecorded',
          aggregate_id: 'match:2026-00018',
          sequence: 1,
          timestamp: '2026-09-03T00:00:00.123Z',
          data: expect.objectContaining(matchRecorded.data),
        }),
      ]);
    });
  },
);

describe('the documented Lambda event for Kinesis', () => {
  it('decodes the documented Lambda event as it is', () => {
    const decoded = lambdaEvent.Records.map(decodeRecord);

    expect(decoded[0]).toMatchObject({
      shardId: 'shardId-000000000006',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      partitionKey: 'match:2026-00018',
      commit: { aggregate_id: 'match:2026-00018', sequence: 1, last_sequence: 1 },
    });
  });
});
