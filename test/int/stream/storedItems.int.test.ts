import { gunzipSync } from 'node:zlib';
import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { BUS_ARCHIVE_TABLE, DynamoBusArchive } from '../../../stream/buses/BusArchive.js';
import {
  CHECKPOINTS_TABLE,
  DynamoCheckpointStore,
} from '../../../stream/consumer/CheckpointStore.js';
import {
  DEAD_LETTERS_TABLE,
  DynamoDeadLetterQueue,
} from '../../../stream/consumer/DeadLetterQueue.js';
import {
  DynamoPositionStore,
  POSITIONS_TABLE,
} from '../../../stream/consumer/DynamoPositionStore.js';
import { countStoredEvents } from '../../../stream/eventStore/countStoredEvents.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureRuntimeTables } from '../../../stream/local/localTables.js';
import {
  DynamoReplayCheckpoints,
  REPLAYS_TABLE,
} from '../../../stream/replay/ReplayCheckpoints.js';
import { matchRecorded, registry } from '../../support/registry.js';

/**
 * The items each DynamoDB adapter writes, attribute by attribute and in order, as data folders
 * and tables written by earlier releases hold them: written literally here, so a change in how
 * items are built cannot change what is stored, and the adapters still read what was stored.
 */
type Item = Record<string, AttributeValue>;

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
  await Promise.all([
    ensureEventsTable(client, 'events', { relayIndex: true }),
    ensureRuntimeTables(client),
    DynamoReplayCheckpoints.open(client),
  ]);
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

async function scan(table: string): Promise<Item[]> {
  const { Items } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return Items ?? [];
}

async function plant(table: string, item: Item): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: item }));
}

/** The same attributes, of the same types and values, in the same order. */
function expectItem(stored: Item | undefined, expected: Item): void {
  expect(Object.keys(stored ?? {})).toEqual(Object.keys(expected));
  expect(stored).toEqual(expected);
}

describe('items as stored', () => {
  it('a commit: keys, its events as a list of maps (binary fingerprint and data), the relay marker', async () => {
    // Prepare
    const store = new DynamoEventStore({
      client,
      table: 'events',
      registry,
      relayMarker: true,
      now: () => new Date('2026-09-01T12:00:00.000Z'),
    });
    const encoded = registry.encode('MatchRecorded', matchRecorded('m1'));

    // Act
    await store.append('match:m1', 0, [
      {
        event_type: 'MatchRecorded',
        data: matchRecorded('m1'),
        event_id: '00000000-0000-4000-8000-000000000001',
        correlation_id: 'corr-1',
      },
    ]);

    // Assess
    const [stored] = (await scan('events')).filter((i) => i.aggregate_id?.S === 'match:m1');
    expectItem(stored, {
      aggregate_id: { S: 'match:m1' },
      sequence: { N: '1' },
      last_sequence: { N: '1' },
      committed_at: { S: '2026-09-01T12:00:00.000Z' },
      events: {
        L: [
          {
            M: {
              event_id: { S: '00000000-0000-4000-8000-000000000001' },
              event_type: { S: 'MatchRecorded' },
              version: { N: String(encoded.version) },
              fingerprint: { B: new Uint8Array(Buffer.from(encoded.fingerprint, 'hex')) },
              data: { B: new Uint8Array(encoded.bytes) },
              timestamp: { S: '2026-09-01T12:00:00.000Z' },
              correlation_id: { S: 'corr-1' },
              causation_id: { NULL: true },
            },
          },
        ],
      },
      relay_pending: { S: 'pending' },
    });
  });

  it('a commit stored earlier reads back, and counts by type and day', async () => {
    // Prepare
    const encoded = registry.encode('MatchRecorded', matchRecorded('m2'));
    await plant('events', {
      aggregate_id: { S: 'match:m2' },
      sequence: { N: '1' },
      last_sequence: { N: '1' },
      committed_at: { S: '2026-09-02T12:00:00.000Z' },
      events: {
        L: [
          {
            M: {
              event_id: { S: '00000000-0000-4000-8000-000000000002' },
              event_type: { S: 'MatchRecorded' },
              version: { N: String(encoded.version) },
              fingerprint: { B: Buffer.from(encoded.fingerprint, 'hex') },
              data: { B: encoded.bytes },
              timestamp: { S: '2026-09-02T11:00:00.000Z' },
              correlation_id: { S: 'corr-2' },
              causation_id: { S: 'cause-2' },
            },
          },
        ],
      },
    });
    const store = new DynamoEventStore({ client, table: 'events', registry });

    // Act
    const [event] = await store.read('match:m2');
    const counts = await countStoredEvents(client, 'events');

    // Assess
    expect(event).toMatchObject({
      event_id: '00000000-0000-4000-8000-000000000002',
      aggregate_id: 'match:m2',
      sequence: 1,
      timestamp: '2026-09-02T11:00:00.000Z',
      correlation_id: 'corr-2',
      causation_id: 'cause-2',
      data: { match_id: 'm2' },
    });
    expect(counts.by_day['2026-09-02']).toEqual({ MatchRecorded: 1 });
  });

  it("a consumer's positions: consumer, aggregate id, position as a number", async () => {
    // Prepare
    const positions = new DynamoPositionStore(client, 'projector');
    await plant(POSITIONS_TABLE, {
      consumer: { S: 'projector' },
      aggregate_id: { S: 'match:old' },
      position: { N: '7' },
    });

    // Act
    await positions.advance(new Map([['match:new', 3]]));
    const read = await new DynamoPositionStore(client, 'projector').positions([
      'match:old',
      'match:new',
      'match:none',
    ]);

    // Assess
    const stored = (await scan(POSITIONS_TABLE)).find((i) => i.aggregate_id?.S === 'match:new');
    expectItem(stored, {
      consumer: { S: 'projector' },
      aggregate_id: { S: 'match:new' },
      position: { N: '3' },
    });
    expect(read).toEqual(
      new Map([
        ['match:old', 7],
        ['match:new', 3],
        ['match:none', 0],
      ]),
    );
  });

  it("a shard's checkpoint: sequence number only once there is one, finished, updated_at", async () => {
    // Prepare
    const checkpoints = new DynamoCheckpointStore(client);

    // Act
    await checkpoints.set('projector', 'shardId-1', { finished: false });
    await checkpoints.set('projector', 'shardId-2', { sequenceNumber: '4956', finished: true });

    // Assess
    const stored = await scan(CHECKPOINTS_TABLE);
    const of = (shard: string) => stored.find((i) => i.shard_id?.S === shard);
    expectItem(of('shardId-1'), {
      consumer: { S: 'projector' },
      shard_id: { S: 'shardId-1' },
      finished: { BOOL: false },
      updated_at: { S: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown as string },
    });
    expectItem(of('shardId-2'), {
      consumer: { S: 'projector' },
      shard_id: { S: 'shardId-2' },
      sequence_number: { S: '4956' },
      finished: { BOOL: true },
      updated_at: { S: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown as string },
    });
    expect(await checkpoints.get('projector', 'shardId-1')).toEqual({ finished: false });
    expect(await checkpoints.get('projector', 'shardId-2')).toEqual({
      sequenceNumber: '4956',
      finished: true,
    });
    expect(await checkpoints.get('projector', 'shardId-3')).toBeUndefined();
  });

  it('a dead letter: consumer, failed_at#uuid, the letter as JSON text, when it expires; a counter per consumer and day', async () => {
    // Prepare: stored on 2026-12-02; kept to the end of 2026-12-16.
    const queue = new DynamoDeadLetterQueue(client, DEAD_LETTERS_TABLE, () =>
      Date.parse('2026-12-02T09:30:00.000Z'),
    );
    const expires = Date.parse('2026-12-17T00:00:00.000Z') / 1000;
    const letter = {
      consumer: 'bus:main/rule',
      event: { id: 'e1' },
      error: 'refused',
      attempts: 3,
      failed_at: '2026-09-01T12:00:00.000Z',
    };

    // Act
    await queue.send(letter);

    // Assess
    const items = await scan(DEAD_LETTERS_TABLE);
    const stored = items.find((i) => i.consumer?.S === 'bus:main/rule');
    expectItem(stored, {
      consumer: { S: 'bus:main/rule' },
      id: {
        S: expect.stringMatching(/^2026-09-01T12:00:00.000Z#[0-9a-f-]{36}$/) as unknown as string,
      },
      letter: { S: JSON.stringify(letter) },
      expires_at: { N: String(expires) },
    });
    expectItem(
      items.find((i) => i.consumer?.S === '#counts'),
      {
        consumer: { S: '#counts' },
        id: { S: 'bus:main/rule#2026-12-02' },
        letters: { N: '1' },
        expires_at: { N: String(expires) },
      },
    );
    expect(await queue.list('bus:main/rule')).toEqual([letter]);
    expect(await queue.list()).toEqual([letter]);
    expect(await queue.counts()).toEqual({ 'bus:main/rule': 1 });
    // Past its expiry (before TTL has deleted it), neither listed nor counted.
    const later = new DynamoDeadLetterQueue(client, DEAD_LETTERS_TABLE, () => expires * 1000);
    expect(await later.list()).toEqual([]);
    expect(await later.counts()).toEqual({});
  });

  it('a dead letter past 399 KB of JSON: the letter gzipped as binary instead', async () => {
    // Prepare
    const queue = new DynamoDeadLetterQueue(client);
    const letter = {
      consumer: 'consumer:large',
      event: { id: 'e2', detail: 'x'.repeat(420 * 1024) },
      error: 'refused',
      attempts: 3,
      failed_at: '2026-09-01T12:00:00.000Z',
    };

    // Act
    await queue.send(letter);

    // Assess
    const stored = (await scan(DEAD_LETTERS_TABLE)).find((i) => i.consumer?.S === 'consumer:large');
    expect(Object.keys(stored ?? {}).sort()).toEqual(['consumer', 'expires_at', 'id', 'letter_gz']);
    const gz = stored?.letter_gz?.B;
    expect(gz && gunzipSync(gz).toString('utf8')).toBe(JSON.stringify(letter));
    expect(await queue.list('consumer:large')).toEqual([letter]);
  });

  it("a bus's archive: bus, time#id, the event as JSON text", async () => {
    // Prepare
    const archive = new DynamoBusArchive(client);
    const event = { id: 'e1', time: '2026-09-01T12:00:00Z', 'detail-type': 'MatchRecorded' };

    // Act
    await archive.add('soccer', [event]);

    // Assess
    const [stored] = await scan(BUS_ARCHIVE_TABLE);
    expectItem(stored, {
      bus: { S: 'soccer' },
      key: { S: '2026-09-01T12:00:00Z#e1' },
      event: { S: JSON.stringify(event) },
    });
    expect(await archive.between('soccer', '2026-09-01', '2026-09-02')).toEqual([event]);
    expect(await archive.between('soccer', '2026-09-02')).toEqual([]);
  });

  it("a replay's checkpoint: name, the checkpoint as JSON text with the segments not started", async () => {
    // Prepare: segment 0 under way, 1 finished (null), 2 not started (undefined).
    const checkpoints = new DynamoReplayCheckpoints(client);
    const checkpoint = {
      name: 'replay-1',
      status: 'running' as const,
      fingerprint: 'f',
      segments: 3,
      keys: [{ aggregate_id: { S: 'match:m1' }, sequence: { N: '1' } }, null, undefined],
      streams_done: 0,
      target_position: 0,
      events: 1,
      scanned: 1,
      started_at: '2026-09-01T12:00:00.000Z',
      updated_at: '2026-09-01T12:00:01.000Z',
    };

    // Act
    await checkpoints.save(checkpoint);

    // Assess
    const [stored] = await scan(REPLAYS_TABLE);
    expectItem(stored, {
      name: { S: 'replay-1' },
      checkpoint: { S: JSON.stringify({ ...checkpoint, not_started: [2] }) },
    });
    expect(await checkpoints.load('replay-1')).toEqual(checkpoint);
    expect(await checkpoints.load('replay-2')).toBeUndefined();
  });

  it('a document: pk, sk, its JSON as text, or gzipped as binary past 64 KB', async () => {
    // Prepare
    const docs = await DynamoDocumentStore.open(client, 'docs');
    const small = { team: 'A', played: 3 };
    const large = { lines: Array.from({ length: 10_000 }, (_, i) => `line ${i}`) };
    await plant('docs', { pk: { S: 'season#2025' }, sk: { S: 'old' }, doc: { S: '{"old":true}' } });

    // Act
    await docs.write(
      [
        { pk: 'season#2026', sk: 'a', doc: small },
        { pk: 'season#2026', sk: 'b', doc: large },
      ],
      [],
    );

    // Assess
    const stored = await scan('docs');
    const of = (sk: string) => stored.find((i) => i.sk?.S === sk);
    expectItem(of('a'), {
      pk: { S: 'season#2026' },
      sk: { S: 'a' },
      doc: { S: JSON.stringify(small) },
    });
    const zipped = of('b');
    expect(Object.keys(zipped ?? {})).toEqual(['pk', 'sk', 'docz']);
    expect(gunzipSync(zipped?.docz?.B ?? new Uint8Array()).toString('utf8')).toBe(
      JSON.stringify(large),
    );
    expect(await docs.query('season#2026')).toEqual([
      { pk: 'season#2026', sk: 'a', doc: small },
      { pk: 'season#2026', sk: 'b', doc: large },
    ]);
    expect(
      await docs.getMany([
        { pk: 'season#2025', sk: 'old' },
        { pk: 'season#2026', sk: 'b' },
      ]),
    ).toEqual(
      new Map<string, unknown>([
        ['season#2025\u0000old', { old: true }],
        ['season#2026\u0000b', large],
      ]),
    );
  });
});
