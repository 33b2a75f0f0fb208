import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busRouter, type RouterCounts } from '../../../stream/buses/busRouter.js';
import type { BusEvent } from '../../../stream/buses/eventPattern.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { EVENTS_TABLE, RELAY_MARKER } from '../../../stream/eventStore/eventsTable.js';
import { CHANGES_STREAM, EmbeddedRuntime } from '../../../stream/local/EmbeddedRuntime.js';
import { latestVersion, matchRecorded, registry, teamRegistered } from '../../support/registry.js';

let runtime: EmbeddedRuntime;
const applied = new Map<string, number[]>();
const soccer: BusEvent[] = [];
const metadata: BusEvent[] = [];
const routed: RouterCounts = {};

beforeAll(async () => {
  runtime = await EmbeddedRuntime.start({
    memory: true,
    shards: 2,
    consumerDefaults: {
      maximumRetryAttempts: 2,
      retryDelayMs: 5,
      pollIntervalMs: 20,
      shardRefreshMs: 200,
    },
  });
  runtime.buses.soccer.register({
    name: 'results',
    pattern: {
      source: ['matchstream.soccer'],
      'detail-type': ['MatchRecorded', 'MatchResultCorrected'],
    },
    handler: async (event) => {
      soccer.push(event);
    },
  });
  runtime.buses.metadata.register({
    name: 'teams',
    pattern: { 'detail-type': ['TeamRegistered'] },
    handler: async (event) => {
      metadata.push(event);
    },
  });
  await runtime.addConsumer('router', busRouter(runtime.publisher, routed));
  await runtime.addConsumer('log', async (events: readonly EventEnvelope[]) => {
    for (const e of events)
      applied.set(e.aggregate_id, [...(applied.get(e.aggregate_id) ?? []), e.sequence]);
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('append → relay → Kinesis → consumers → buses → handlers', () => {
  it('delivers every appended event once, in order per stream, to every consumer and matching handler', async () => {
    // Act
    for (let i = 0; i < 30; i++) {
      await runtime.store.append(`match:p${i}`, 0, [
        { event_type: 'MatchRecorded', data: matchRecorded(`p${i}`) },
        {
          event_type: 'MatchResultCorrected',
          data: { ...matchRecorded(`p${i}`, 0, 0), reason: null },
        },
      ]);
    }
    await runtime.store.append('team:A', 0, [
      { event_type: 'TeamRegistered', data: teamRegistered('A') },
    ]);
    await runtime.settle();

    // Assess
    for (let i = 0; i < 30; i++) expect(applied.get(`match:p${i}`)).toEqual([1, 2]);
    expect(applied.get('team:A')).toEqual([1]);
    expect(soccer).toHaveLength(60);
    expect(
      new Set(
        soccer.map(
          (e) =>
            `${(e.detail as EventEnvelope).aggregate_id}#${(e.detail as EventEnvelope).sequence}`,
        ),
      ).size,
    ).toBe(60);
    expect(soccer[0]).toMatchObject({
      source: 'matchstream.soccer',
      'detail-type': 'MatchRecorded',
      detail: { version: latestVersion('MatchRecorded') },
    });
    expect(metadata.map((e) => (e.detail as EventEnvelope).aggregate_id)).toEqual(['team:A']);
    expect(routed).toMatchObject({ soccer: 60, metadata: 1 });
    expect(runtime.consumers.get('log')?.counts.applied).toBe(61);
  });

  it('dead-letters a poison record with its error and keeps the shard moving', async () => {
    // Prepare: a commit whose Avro bytes are corrupt, planted as the relay would find it.
    const good = registry.encode('MatchRecorded', matchRecorded('poison'));
    await runtime.dynamo.send(
      new PutItemCommand({
        TableName: EVENTS_TABLE,
        Item: {
          ...toItem({
            aggregate_id: 'match:poison',
            sequence: 1,
            last_sequence: 1,
            committed_at: new Date().toISOString(),
            events: [
              {
                event_id: '55555555-5555-4555-8555-555555555555',
                event_type: 'MatchRecorded',
                version: 2,
                fingerprint: good.fingerprint,
                data: Buffer.from([0xff, 0xff]),
                timestamp: new Date().toISOString(),
                correlation_id: 'x',
                causation_id: null,
              },
            ],
          }),
          ...RELAY_MARKER,
        },
      }),
    );
    runtime.relay.notify();
    await runtime.store.append('match:after-poison', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('after') },
    ]);

    // Act
    await runtime.settle();

    // Assess: the good event went through; the bad one is kept with the reason, per consumer.
    expect(applied.get('match:after-poison')).toEqual([1]);
    const letters = await runtime.deadLetters.list('log');
    expect(letters).toHaveLength(1);
    expect(letters[0]?.error).toMatch(
      /cannot decode the stored bytes.*event 55555555-5555-4555-8555-555555555555/,
    );
    expect(letters[0]?.record?.kinesis.partitionKey).toBe('match:poison');
    expect(letters[0]?.attempts).toBe(3);
    expect(await runtime.deadLetters.list('router')).toHaveLength(1);
  });

  it('reads parent shards before their children across a shard split', async () => {
    // Prepare: split a shard mid-run, then append more.
    const { Shards } = await runtime.kinesis.send(
      new ListShardsCommand({ StreamName: CHANGES_STREAM }),
    );
    const parent = Shards?.[0];
    await runtime.kinesis.send(
      new SplitShardCommand({
        StreamName: CHANGES_STREAM,
        ShardToSplit: parent?.ShardId,
        NewStartingHashKey: (
          (BigInt(parent?.HashKeyRange?.StartingHashKey ?? '0') +
            BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0')) /
          2n
        ).toString(),
      }),
    );
    for (let i = 0; i < 20; i++) {
      await runtime.store.append(`match:s${i}`, 0, [
        { event_type: 'MatchRecorded', data: matchRecorded(`s${i}`) },
      ]);
    }

    // Act
    await new Promise((resolve) => setTimeout(resolve, 500)); // the mappings look for new shards every 200 ms here
    await runtime.settle();

    // Assess
    for (let i = 0; i < 20; i++) expect(applied.get(`match:s${i}`)).toEqual([1]);
    const after = await runtime.kinesis.send(new ListShardsCommand({ StreamName: CHANGES_STREAM }));
    expect(after.Shards?.length).toBe(4);
  });
});
