import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { putRecordsReliably } from '../../../stream/aws/putRecordsReliably.js';
import { commitChange } from '../../../stream/changes/commitChange.js';
import { decodeRecord } from '../../../stream/consumer/decodeRecord.js';
import { lambdaRecords } from '../../../stream/consumer/kinesisEvent.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { matchRecorded, registry } from '../../support/registry.js';

// The decoder against moto_server's Kinesis: what goes in as a change record comes out of
// GetRecords, through the Lambda record shape, as the same events.
describe.runIf(motoAvailable())(
  'decoding change records read back from moto_server Kinesis',
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

    it('decodes every record into the events that were appended', async () => {
      // Prepare
      const store = new InMemoryEventStore(registry);
      for (let i = 0; i < 5; i++) {
        await store.append(`match:k${i}`, 0, [
          { event_type: 'MatchRecorded', data: matchRecorded(`k${i}`) },
        ]);
      }
      const commits = [0, 1, 2, 3, 4].flatMap((i) => [...store.commitsOf(`match:k${i}`)]);
      const records = commits.map((c) => {
        const { record, partitionKey } = commitChange(c, 'matchstream-events', 'us-east-1');
        return { data: Buffer.from(JSON.stringify(record)), partitionKey };
      });

      // Act
      const put = await putRecordsReliably(client, 'changes', records);
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
      const codec = new CommitCodec(registry);
      const decoded = lambdaRecords(
        Records ?? [],
        shardId,
        'arn:aws:kinesis:us-east-1:123456789012:stream/changes',
        'us-east-1',
      ).flatMap((r) => {
        const commit = decodeRecord(r).commit;
        return commit ? codec.envelopes(commit) : [];
      });

      // Assess
      expect(put.failed).toEqual([]);
      const expected = [];
      for (let i = 0; i < 5; i++) expected.push(...(await store.read(`match:k${i}`)));
      expect(decoded).toEqual(expected);
    });
  },
);
