import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { EVENTS_TABLE, RELAY_MARKER } from '../../../stream/eventStore/eventsTable.js';
import { EmbeddedRuntime } from '../../../stream/local/EmbeddedRuntime.js';
import { matchRecorded } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
const fast = { consumerDefaults: { pollIntervalMs: 20, shardRefreshMs: 200 } };

function logger(into: Map<string, number[]>) {
  return async (events: readonly EventEnvelope[]) => {
    for (const e of events)
      into.set(e.aggregate_id, [...(into.get(e.aggregate_id) ?? []), e.sequence]);
  };
}

describe('the change relay across a crash', () => {
  it('forwards on restart what was stored but never forwarded, and nothing twice', async () => {
    // Prepare: commits stored while the relay was down, then the process goes away.
    const dataDir = tmp.path('crash-before-forward');
    const first = await EmbeddedRuntime.start({ dataDir, ...fast });
    await first.relay.stop();
    for (let i = 0; i < 10; i++) {
      await first.store.append(`match:c${i}`, 0, [
        { event_type: 'MatchRecorded', data: matchRecorded(`c${i}`) },
      ]);
    }
    await first.stop();

    // Act: a new process on the same data.
    const second = await EmbeddedRuntime.start({ dataDir, ...fast });
    const applied = new Map<string, number[]>();
    await second.addConsumer('log', logger(applied));
    await second.settle();
    await second.stop();

    // Assess
    expect(applied.size).toBe(10);
    for (const sequences of applied.values()) expect(sequences).toEqual([1]);
  });

  it('absorbs a commit forwarded twice (a crash after PutRecords, before the marker was removed)', async () => {
    const runtime = await EmbeddedRuntime.start({ memory: true, ...fast });
    const applied = new Map<string, number[]>();
    await runtime.addConsumer('log', logger(applied));
    await runtime.store.append('match:twice', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('twice') },
    ]);
    await runtime.settle();

    // The marker comes back as if the removal never happened: the relay sends the commit again.
    await runtime.dynamo.send(
      new UpdateItemCommand({
        TableName: EVENTS_TABLE,
        Key: { aggregate_id: { S: 'match:twice' }, sequence: { N: '1' } },
        UpdateExpression: 'SET relay_pending = :p',
        ExpressionAttributeValues: { ':p': RELAY_MARKER.relay_pending },
      }),
    );
    const before = runtime.relay.stats.forwarded;
    runtime.relay.notify();
    await runtime.settle();
    const counts = runtime.consumers.get('log')?.counts;
    await runtime.stop();

    expect(runtime.relay.stats.forwarded).toBe(before + 1);
    expect(applied.get('match:twice')).toEqual([1]);
    expect(counts).toMatchObject({ applied: 1, duplicates: 1 });
  });
});
