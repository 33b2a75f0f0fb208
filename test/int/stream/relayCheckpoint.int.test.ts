import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { ChangeRelay } from '../../../stream/local/ChangeRelay.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { ensureRuntimeTables, RELAY_TABLE } from '../../../stream/local/localTables.js';
import { ConcurrencyError, StoreError } from '../../../stream/StoreError.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { partitionKeys } from '../../support/streamRecords.js';

let dynamoServer: EmbeddedDynamo;
let kinesisServer: EmbeddedKinesis;
let n = 0;

beforeAll(async () => {
  [dynamoServer, kinesisServer] = await Promise.all([
    startEmbeddedDynamo(),
    startEmbeddedKinesis(),
  ]);
  const dynamo = dynamoClient({ endpoint: dynamoServer.endpoint });
  await ensureRuntimeTables(dynamo);
  dynamo.destroy();
});
afterAll(async () => {
  await Promise.all([kinesisServer?.stop(), dynamoServer?.stop()]);
});

/** What the clients saw, and the faults they make on demand. */
interface Seen {
  /** Calls by operation and table (`Operation table`). */
  readonly calls: Map<string, number>;
  /** PutRecords calls still to refuse. */
  refusePuts: number;
  /** Checkpoint writes still to fail (as a process killed would leave the last one). */
  failCheckpoints: number;
  /** Commit writes to answer with an error after they were stored. */
  failAfterStoring: number;
  /** Commit writes whose answer is lost, so that they are sent again (as the SDK retries). */
  loseAnswers: number;
  /** Commit writes to fail with a timeout before they reach the server, kept in `delayed`. */
  delay: number;
  /** The commit writes `delay` held back: they may still land (`landLate`). */
  readonly delayed: PutItemCommandInput[];
  /** The commit write of a stream to hold until a promise settles. */
  hold?: { readonly id: string; readonly until: Promise<void> };
  /** The `committed_at` of the commit held. */
  held?: string;
}

/** A table and a stream of their own, and clients that count calls and fail on demand. */
async function setUp() {
  const table = `checkpoint-${++n}`;
  const streamName = `checkpoint-${n}`;
  const seen: Seen = {
    calls: new Map(),
    refusePuts: 0,
    failCheckpoints: 0,
    failAfterStoring: 0,
    loseAnswers: 0,
    delay: 0,
    delayed: [],
  };
  const dynamo: DynamoDBClient = dynamoClient({ endpoint: dynamoServer.endpoint });
  const kinesis: KinesisClient = kinesisClient({ endpoint: kinesisServer.endpoint });
  await ensureEventsTable(dynamo, table, { relayIndex: true });
  await ensureStream(kinesis, streamName, 1);
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; RequestItems?: object };
      const target = input.TableName ?? Object.keys(input.RequestItems ?? {}).join(',');
      const name = `${context.commandName?.replace(/Command$/, '')} ${target}`;
      seen.calls.set(name, (seen.calls.get(name) ?? 0) + 1);
      if (name === `PutItem ${RELAY_TABLE}` && seen.failCheckpoints > 0) {
        seen.failCheckpoints--;
        throw Object.assign(new Error('the process is gone'), { name: 'InternalServerError' });
      }
      const item = (input as { Item?: Record<string, { S?: string }> }).Item;
      if (name === `PutItem ${table}` && seen.hold && item?.aggregate_id?.S === seen.hold.id) {
        seen.held = item.committed_at?.S ?? '';
        await seen.hold.until;
      }
      if (name === `PutItem ${table}` && seen.delay > 0) {
        seen.delay--;
        seen.delayed.push(args.input as PutItemCommandInput);
        throw Object.assign(new Error('no answer in time'), { name: 'TimeoutError' });
      }
      if (name === `PutItem ${table}` && seen.loseAnswers > 0) {
        seen.loseAnswers--;
        await next(args);
      }
      const result = await next(args);
      if (name === `PutItem ${table}` && seen.failAfterStoring > 0) {
        seen.failAfterStoring--;
        throw Object.assign(new Error('connection reset'), { name: 'TimeoutError' });
      }
      return result;
    },
    { step: 'initialize', name: 'seeCalls' },
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
  const errors: string[] = [];
  const newRelay = (options: { doubtMs?: number; lingerMs?: number; lingerReadMs?: number } = {}) =>
    new ChangeRelay({
      dynamo,
      table,
      kinesis,
      streamName,
      pollIntervalMs: 10,
      checkpointTable: RELAY_TABLE,
      onError: (error) => errors.push(error.message),
      ...options,
    });
  /** The writes `delay` held back reach the server after all, as a request in flight would. */
  const landLate = async () => {
    const plain = dynamoClient({ endpoint: dynamoServer.endpoint });
    for (const input of seen.delayed.splice(0)) await plain.send(new PutItemCommand(input));
    plain.destroy();
  };
  const storeOf = (relay: ChangeRelay | undefined, now?: () => Date) =>
    new DynamoEventStore({
      client: dynamo,
      table,
      registry,
      relayMarker: true,
      ...(relay ? { relay } : {}),
      ...(now ? { now } : {}),
    });
  /** The partition keys of every record on the stream, sorted. */
  const records = () => partitionKeys(kinesis, streamName);
  const checkpoint = async () =>
    (
      await dynamo.send(
        new GetItemCommand({
          TableName: RELAY_TABLE,
          Key: { relay: { S: table } },
          ConsistentRead: true,
        }),
      )
    ).Item;
  const items = async () =>
    (await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
  const append = (s: DynamoEventStore, id: string) =>
    s.append(`match:${id}`, 0, [{ event_type: 'MatchRecorded', data: matchRecorded(id) }]);
  return {
    table,
    dynamo,
    seen,
    errors,
    newRelay,
    landLate,
    storeOf,
    records,
    checkpoint,
    items,
    append,
  };
}

/** A relay started, once its checkpoint is open (it takes commits from then on). */
async function started(relay: ChangeRelay): Promise<ChangeRelay> {
  relay.start();
  await relay.opened();
  return relay;
}

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

describe('the change relay taking commits over from its store', () => {
  it('writes them once, without the marker, and forwards each once with nothing written back', async () => {
    const { table, seen, newRelay, storeOf, records, items, append, checkpoint } = await setUp();
    const relay = await started(newRelay());
    const store = storeOf(relay);

    for (const id of ids('t', 30)) await append(store, id);
    await relay.drain();
    await relay.stop();

    expect(await records()).toEqual(ids('match:t', 30));
    expect(relay.stats).toMatchObject({ taken: 30, forwarded: 30, recovered: 0 });
    expect((await items()).filter((i) => i.relay_pending)).toEqual([]);
    expect(seen.calls.get(`PutItem ${table}`)).toBe(30);
    expect(seen.calls.get(`BatchWriteItem ${table}`)).toBeUndefined();
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
  });

  it('keeps its checkpoint at or before a commit still being written, then moves it on', async () => {
    const { seen, newRelay, storeOf, records, checkpoint, append } = await setUp();
    const relay = await started(newRelay());
    const store = storeOf(relay);
    let release = () => {};
    seen.hold = { id: 'match:held', until: new Promise<void>((resolve) => (release = resolve)) };
    const held = append(store, 'held');
    await until(() => seen.held !== undefined);

    // Commits after it, over more than a second, each forwarded while it is being written.
    for (const id of ids('later', 5)) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await append(store, id);
    }
    await relay.drain();
    await until(() => relay.stats.checkpoints >= 2);
    const whileHeld = (await checkpoint())?.watermark?.S ?? '';

    release();
    expect((await held).version).toBe(1);
    await relay.drain();
    const written = relay.stats.checkpoints;
    await until(() => relay.stats.checkpoints > written);
    const afterwards = (await checkpoint())?.watermark?.S ?? '';
    await relay.stop();

    const stamped = seen.held ?? '';
    expect(whileHeld <= stamped).toBe(true);
    expect(afterwards > stamped).toBe(true);
    expect(await records()).toEqual(['match:held', ...ids('match:later', 5)]);
  });

  it('after an unclean stop, the next relay finds and forwards what the first took and never forwarded', async () => {
    const { table, seen, newRelay, storeOf, records, checkpoint, append } = await setUp();
    const first = await started(newRelay());
    const store = storeOf(first);
    seen.refusePuts = Number.MAX_SAFE_INTEGER;
    for (const id of ids('lost', 10)) await append(store, id);
    // The process dies: nothing forwarded, the checkpoint as it was opened.
    seen.failCheckpoints = Number.MAX_SAFE_INTEGER;
    await first.stop();
    expect((await checkpoint())?.open).toEqual({ BOOL: true });
    seen.failCheckpoints = 0;
    seen.refusePuts = 0;
    expect(await records()).toEqual([]);

    const second = await started(newRelay());
    await second.drain();
    await second.stop();
    const scansBefore = seen.calls.get(`Scan ${table}`) ?? 0;
    const third = await started(newRelay());
    await third.stop();

    expect(second.stats.recovered).toBe(10);
    expect(await records()).toEqual(ids('match:lost', 10));
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
    // A checkpoint closed cleanly: the next relay scans nothing.
    expect(seen.calls.get(`Scan ${table}`) ?? 0).toBe(scansBefore);
    expect(scansBefore).toBe(4);
  });

  it('leaves a commit stamped before its checkpoint to the marker and the index', async () => {
    const { table, seen, newRelay, storeOf, records, items, append } = await setUp();
    const relay = await started(newRelay());
    const past = storeOf(relay, () => new Date('2026-09-01T20:00:00Z'));

    await append(past, 'old');
    const before = (await items()).map((i) => i.relay_pending?.S);
    await relay.drain();
    await relay.stop();

    expect(before).toEqual(['pending']);
    expect(relay.stats.taken).toBe(0);
    expect(await records()).toEqual(['match:old']);
    expect((await items()).map((i) => i.relay_pending)).toEqual([undefined]);
    expect(seen.calls.get(`BatchWriteItem ${table}`)).toBe(1);
  });

  it('leaves a commit stamped before its checkpoint moved (a clock stepped back) to the marker', async () => {
    const { newRelay, storeOf, items, append, checkpoint } = await setUp();
    const relay = await started(newRelay());
    let clock = Date.now() + 600_000;
    const store = storeOf(relay, () => new Date(clock));
    await append(store, 'ahead');
    await relay.drain();
    const stamped = new Date(clock).toISOString();
    await until(() => relay.stats.checkpoints >= 2);
    const moved = (await checkpoint())?.watermark?.S;

    clock -= 300_000;
    await append(store, 'behind');
    const behind = (await items()).find((i) => i.aggregate_id?.S === 'match:behind');
    await relay.drain();
    await relay.stop();

    expect(moved).toBe(stamped);
    expect(behind?.relay_pending?.S).toBe('pending');
    expect(relay.stats).toMatchObject({ taken: 1, forwarded: 2 });
  });

  it('reads back a write that failed after storing, and forwards it once', async () => {
    const { seen, newRelay, storeOf, records, append, checkpoint } = await setUp();
    const relay = await started(newRelay());
    const store = storeOf(relay);
    seen.failAfterStoring = 1;

    await expect(append(store, 'unsure')).rejects.toBeInstanceOf(StoreError);
    await append(store, 'sure');
    await relay.drain();
    await relay.stop();

    expect(relay.stats).toMatchObject({ taken: 2, forwarded: 2 });
    expect(await records()).toEqual(['match:sure', 'match:unsure']);
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
  });

  it('keeps reading a write of unknown outcome it did not find, and forwards it once it lands', async () => {
    const { seen, newRelay, landLate, storeOf, records, append, checkpoint } = await setUp();
    const relay = await started(newRelay());
    const store = storeOf(relay);
    seen.delay = 1;

    await expect(append(store, 'late')).rejects.toBeInstanceOf(StoreError);
    const stamped = seen.delayed[0]?.Item?.committed_at?.S ?? '';
    await append(store, 'onTime');
    await relay.drain();
    // Read and not found; later commits forwarded, the checkpoint moved up to it, not past.
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    await relay.drain();
    const whileInDoubt = (await checkpoint())?.watermark?.S ?? '';
    const before = await records();

    await landLate();
    await until(() => relay.stats.forwarded === 2);
    await relay.stop();

    expect(stamped).not.toBe('');
    expect(whileInDoubt <= stamped).toBe(true);
    expect(before).toEqual(['match:onTime']);
    expect(await records()).toEqual(['match:late', 'match:onTime']);
    expect(relay.stats.abandoned).toBe(0);
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
  });

  it('stops with a write in doubt listed in its closed checkpoint, and the next run looks it up by key', async () => {
    const { seen, errors, newRelay, landLate, storeOf, records, append, checkpoint } =
      await setUp();
    const first = await started(newRelay());
    seen.delay = 1;
    await expect(append(storeOf(first), 'late')).rejects.toBeInstanceOf(StoreError);
    const stamped = seen.delayed[0]?.Item?.committed_at?.S ?? '';
    await first.drain();
    await first.stop();
    const left = await checkpoint();

    await landLate();
    const second = await started(newRelay());
    await until(() => second.stats.forwarded === 1);
    await second.stop();

    expect(left?.open).toEqual({ BOOL: false });
    expect(left?.doubts?.L?.map((d) => d.M)).toEqual([
      expect.objectContaining({
        aggregate_id: { S: 'match:late' },
        sequence: { N: '1' },
        committed_at: { S: stamped },
      }),
    ]);
    // No scan: the commit is found by its key.
    expect(second.stats).toMatchObject({ recovered: 0, foundLate: 1 });
    expect(await records()).toEqual(['match:late']);
    expect(
      errors.some((e) => e.includes('stopped with 1 write whose outcome it could not learn')),
    ).toBe(true);
    const after = await checkpoint();
    expect(after?.open).toEqual({ BOOL: false });
    expect(after?.doubts).toBeUndefined();
  });

  it('scans after a checkpoint an earlier release left open, counting writes in doubt without naming them', async () => {
    const {
      seen,
      errors,
      dynamo,
      table,
      newRelay,
      landLate,
      storeOf,
      records,
      append,
      checkpoint,
    } = await setUp();
    const first = await started(newRelay());
    seen.delay = 1;
    await expect(append(storeOf(first), 'late')).rejects.toBeInstanceOf(StoreError);
    await first.drain();
    await first.stop();
    // The checkpoint as the earlier release wrote it: left open, a count, no list.
    const left = await checkpoint();
    await dynamo.send(
      new PutItemCommand({
        TableName: RELAY_TABLE,
        Item: {
          relay: { S: table },
          watermark: left?.watermark ?? { S: '' },
          open: { BOOL: true },
          written_at: { S: new Date().toISOString() },
          doubtful: { N: '1' },
        },
      }),
    );

    await landLate();
    const second = await started(newRelay());
    await second.drain();
    await second.stop();

    expect(second.stats).toMatchObject({ recovered: 1, foundLate: 0 });
    expect(await records()).toEqual(['match:late']);
    expect(
      errors.some(
        (e) =>
          e.includes('stopped with 1 write whose outcome it could not learn') &&
          e.includes('found in'),
      ),
    ).toBe(true);
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
  });

  it('past its time in doubt, moves its checkpoint on and keeps looking the write up, forwarding it when it lands', async () => {
    const { seen, errors, newRelay, landLate, storeOf, records, append, checkpoint } =
      await setUp();
    const relay = await started(newRelay({ doubtMs: 300, lingerReadMs: 50 }));
    const store = storeOf(relay);
    seen.delay = 1;

    await expect(append(store, 'slow')).rejects.toBeInstanceOf(StoreError);
    const stamped = seen.delayed[0]?.Item?.committed_at?.S ?? '';
    await until(() => relay.stats.lingered === 1);
    await append(store, 'after');
    await relay.drain();
    // The checkpoint moves (at most once a second, as the relay's loop comes by) past it.
    let meanwhile = await checkpoint();
    for (let i = 0; i < 100 && (meanwhile?.watermark?.S ?? '') <= stamped; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      meanwhile = await checkpoint();
    }

    await landLate();
    await until(() => relay.stats.foundLate === 1);
    await relay.stop();

    expect((meanwhile?.watermark?.S ?? '') > stamped).toBe(true);
    expect(meanwhile?.doubts?.L?.map((d) => d.M?.aggregate_id)).toEqual([{ S: 'match:slow' }]);
    expect(
      errors.filter((e) => e.startsWith('relay: match:slow #1') && e.includes('looked up every')),
    ).toHaveLength(1);
    expect(relay.stats.abandoned).toBe(0);
    expect(await records()).toEqual(['match:after', 'match:slow']);
    expect((await checkpoint())?.doubts).toBeUndefined();
  });

  it('gives up on a write in doubt after its time and the time it is looked up for, and says so', async () => {
    const { seen, errors, newRelay, storeOf, records, append, checkpoint } = await setUp();
    const relay = await started(newRelay({ doubtMs: 300, lingerMs: 300, lingerReadMs: 50 }));
    const store = storeOf(relay);
    seen.delay = 1;

    await expect(append(store, 'gone')).rejects.toBeInstanceOf(StoreError);
    const stamped = seen.delayed[0]?.Item?.committed_at?.S ?? '';
    await until(() => relay.stats.abandoned === 1);
    await append(store, 'after');
    await relay.drain();
    await relay.stop();

    expect(relay.stats.lingered).toBe(1);
    expect(errors.filter((e) => e.startsWith('relay: gave up on match:gone #1'))).toHaveLength(1);
    expect(await records()).toEqual(['match:after']);
    expect(((await checkpoint())?.watermark?.S ?? '') > stamped).toBe(true);
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
    expect((await checkpoint())?.doubts).toBeUndefined();
  });

  it('lets go of a write in doubt once another commit holds its key', async () => {
    const { seen, newRelay, storeOf, records, append, checkpoint } = await setUp();
    const relay = await started(newRelay());
    const store = storeOf(relay);
    seen.delay = 1;

    await expect(append(store, 'retried')).rejects.toBeInstanceOf(StoreError);
    await relay.drain();
    // The caller appends again at the same position: written with the marker, then forwarded.
    await append(store, 'retried');
    await relay.drain();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await relay.drain();
    await relay.stop();

    expect(await records()).toEqual(['match:retried']);
    expect(relay.stats.abandoned).toBe(0);
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
  });

  it('forwards a commit stored by an attempt whose answer was lost, which the next attempt finds', async () => {
    const { seen, newRelay, storeOf, records, append } = await setUp();
    const relay = await started(newRelay());
    const store = storeOf(relay);
    seen.loseAnswers = 1;

    const result = await append(store, 'resent');
    await relay.drain();
    await relay.stop();

    expect(result.duplicate).toBe(true);
    expect(relay.stats).toMatchObject({ taken: 1, forwarded: 1 });
    expect(await records()).toEqual(['match:resent']);
  });

  it('lets go of a commit its condition refused, and forwards the one stored', async () => {
    const { newRelay, storeOf, records, append, checkpoint } = await setUp();
    const relay = await started(newRelay());
    const store = storeOf(relay);

    await append(store, 'twice');
    await relay.drain();
    // The same stream at the same position, other events: DynamoDB refuses the condition.
    await expect(append(store, 'twice')).rejects.toBeInstanceOf(ConcurrencyError);
    await relay.drain();
    await relay.stop();

    expect(relay.stats).toMatchObject({ taken: 2, forwarded: 1 });
    expect(await records()).toEqual(['match:twice']);
    expect((await checkpoint())?.open).toEqual({ BOOL: false });
  });

  it('takes nothing before its checkpoint is open', async () => {
    const { newRelay, storeOf, items, append } = await setUp();
    const relay = newRelay();
    const store = storeOf(relay);
    const marker = async (id: string) =>
      (await items()).find((i) => i.aggregate_id?.S === `match:${id}`)?.relay_pending?.S;
    await append(store, 'early');
    const early = await marker('early');
    await started(relay);
    await append(store, 'opened');
    const opened = await marker('opened');
    await relay.drain();
    await relay.stop();

    expect([early, opened]).toEqual(['pending', undefined]);
    expect(relay.stats).toMatchObject({ taken: 1, forwarded: 2 });
  });
});
