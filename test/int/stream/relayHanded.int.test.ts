import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import type { Commit } from '../../../stream/eventStore/Commit.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { ChangeRelay } from '../../../stream/local/ChangeRelay.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { committedSequences, partitionKeys } from '../../support/streamRecords.js';

let dynamoServer: EmbeddedDynamo;
let kinesisServer: EmbeddedKinesis;
let n = 0;

beforeAll(async () => {
  [dynamoServer, kinesisServer] = await Promise.all([
    startEmbeddedDynamo(),
    startEmbeddedKinesis(),
  ]);
});
afterAll(async () => {
  await Promise.all([kinesisServer?.stop(), dynamoServer?.stop()]);
});

/** A table and a stream of their own, clients that count Query and fail PutRecords on demand. */
async function setUp() {
  const table = `handed-${++n}`;
  const streamName = `handed-${n}`;
  const dynamo: DynamoDBClient = dynamoClient({ endpoint: dynamoServer.endpoint });
  const kinesis: KinesisClient = kinesisClient({ endpoint: kinesisServer.endpoint });
  await ensureEventsTable(dynamo, table, { relayIndex: true });
  await ensureStream(kinesis, streamName, 1);
  const seen = { queries: 0, onQuery: () => {}, refusePuts: 0 };
  dynamo.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as object;
      if ('IndexName' in input && 'KeyConditionExpression' in input) {
        seen.queries++;
        seen.onQuery();
      }
      return next(args);
    },
    { step: 'initialize', name: 'countIndexQueries' },
  );
  kinesis.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === PutRecordsCommand.name && seen.refusePuts > 0) {
        seen.refusePuts--;
        throw Object.assign(new Error('stream unavailable'), { name: 'ValidationException' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'refusePuts' },
  );
  const relay = new ChangeRelay({ dynamo, table, kinesis, streamName });
  const store = new DynamoEventStore({ client: dynamo, table, registry, relayMarker: true });
  const handing = new DynamoEventStore({
    client: dynamo,
    table,
    registry,
    relayMarker: true,
    onCommit: (commit: Commit) => relay.notify(commit),
  });
  /** The partition keys of every record on the stream. */
  const records = () => partitionKeys(kinesis, streamName);
  const append = (s: DynamoEventStore, id: string) =>
    s.append(`match:${id}`, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id) }]);
  return { relay, store, handing, seen, records, append, dynamo, kinesis, table, streamName };
}

describe('the change relay handed commits by the store', () => {
  it('forwards them without reading the index, then finds nothing pending', async () => {
    const { relay, handing, seen, records, append } = await setUp();
    for (const id of ['a', 'b', 'c']) await append(handing, id);

    expect(await relay.forwardPending()).toBe(3);
    expect(seen.queries).toBe(0);
    await relay.drain();
    expect(seen.queries).toBe(1);
    expect(await records()).toEqual(['match:a', 'match:b', 'match:c']);
    expect(relay.stats.forwarded).toBe(3);
  });

  it('forwards once a commit handed over while a pass read it from the index', async () => {
    const { relay, store, seen, records, append } = await setUp();
    const appended = await append(store, 'x');
    const commit = { aggregate_id: 'match:x', sequence: 1 } as const;
    // Handed over while the pass that reads it from the index is under way.
    seen.onQuery = () => {
      seen.onQuery = () => {};
      relay.notify({ ...commit, last_sequence: 1, committed_at: '', events: [] } as never);
    };
    expect(appended.version).toBe(1);
    await relay.drain();
    expect(await records()).toEqual(['match:x']);
    expect(relay.stats.forwarded).toBe(1);
  });

  it('leaves one Kinesis refused pending in the index, where a later pass finds it', async () => {
    const { relay, handing, seen, records, append } = await setUp();
    await append(handing, 'r');
    seen.refusePuts = 1;
    expect(await relay.forwardPending()).toBe(0);
    expect(relay.stats.refused).toBe(1);
    expect(seen.queries).toBe(0);

    await relay.drain();
    expect(seen.queries).toBeGreaterThan(0);
    expect(await records()).toEqual(['match:r']);
  });

  it('leaves what it was handed when stopped to the index', async () => {
    const { relay, handing, records, append } = await setUp();
    relay.start();
    await relay.stop();
    await append(handing, 's');
    await relay.drain();
    expect(await records()).toEqual(['match:s']);
  });
});

describe('the change relay reading the index', () => {
  it('forwards the commits of a stream stamped in the same millisecond in sequence order', async () => {
    const { relay, dynamo, kinesis, table, streamName } = await setUp();
    // One instant for every commit: the index orders them by committed_at alone.
    const store = new DynamoEventStore({
      client: dynamo,
      table,
      registry,
      relayMarker: true,
      now: () => new Date('2026-09-05T18:00:00.000Z'),
    });
    const ids = ['a', 'b', 'c'];
    for (const id of ids)
      for (let version = 0; version < 5; version++)
        await store.append(`match:${id}`, version, [
          { event_type: 'MatchRecorded', data: matchRecorded(id, version) },
        ]);

    await relay.drain();
    const seen = await committedSequences(kinesis, streamName);

    expect(seen).toHaveLength(15);
    for (const id of ids)
      expect(seen.filter((r) => r.key === `match:${id}`).map((r) => r.sequence)).toEqual([
        1, 2, 3, 4, 5,
      ]);
  });
});
