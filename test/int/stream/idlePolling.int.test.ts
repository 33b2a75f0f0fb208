import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { ensureStream, kinesisClient } from '../../../stream/aws/kinesisClient.js';
import { putRecordsReliably } from '../../../stream/aws/putRecordsReliably.js';
import { InMemoryCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable, RELAY_INDEX } from '../../../stream/eventStore/eventsTable.js';
import { ChangeRelay } from '../../../stream/local/ChangeRelay.js';
import { EventSourceMapping } from '../../../stream/local/EventSourceMapping.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import {
  type EmbeddedKinesis,
  startEmbeddedKinesis,
} from '../../../stream/local/embeddedKinesis.js';
import { matchRecorded, registry } from '../../support/registry.js';

// An idle embedded pipeline should cost next to nothing: the relay and the consumers look
// less and less often while nothing comes, and are woken when something does. These tests
// count requests, and use waits far longer than the tests, so that a wake-up missed is a
// record that never arrives, not a slower one.

const NEVER = 600_000;

let dynamoServer: EmbeddedDynamo;
let kinesisServer: EmbeddedKinesis;
let kinesis: KinesisClient;
let n = 0;

beforeAll(async () => {
  dynamoServer = await startEmbeddedDynamo();
  kinesisServer = await startEmbeddedKinesis();
  kinesis = kinesisClient({ endpoint: kinesisServer.endpoint });
});

afterAll(async () => {
  kinesis?.destroy();
  await kinesisServer?.stop();
  await dynamoServer?.stop();
});

/**
 * A fresh events table and stream, a client of its own whose relay queries are counted (and,
 * once armed, followed by `afterQuery` before the relay sees the answer), and a store whose
 * commits notify the relay.
 */
async function relayed(options: { pollIntervalMs: number; maxPollIntervalMs: number }) {
  const id = ++n;
  const table = `idle-events-${id}`;
  const streamName = `idle-changes-${id}`;
  const dynamo: DynamoDBClient = dynamoClient({ endpoint: dynamoServer.endpoint });
  await ensureEventsTable(dynamo, table, { relayIndex: true });
  await ensureStream(kinesis, streamName, 1);
  const probe = { queries: 0, afterQuery: undefined as (() => Promise<void>) | undefined };
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { IndexName?: string };
      if (context.commandName !== 'QueryCommand' || input.IndexName !== RELAY_INDEX)
        return next(args);
      probe.queries++;
      const answer = await next(args);
      const after = probe.afterQuery;
      probe.afterQuery = undefined;
      await after?.();
      return answer;
    },
    { step: 'initialize' },
  );
  const relay = new ChangeRelay({ dynamo, table, kinesis, streamName, ...options });
  const store = new DynamoEventStore({
    client: dynamo,
    table,
    registry,
    relayMarker: true,
    onCommit: () => relay.notify(),
  });
  const append = (match: string) =>
    store.append(`match:${match}`, 0, [
      { event_type: 'MatchRecorded', data: matchRecorded(match) },
    ]);
  return { relay, append, probe, close: () => dynamo.destroy() };
}

describe('the change relay when idle', () => {
  it('looks less and less often while nothing is pending, and at once when a commit says so', async () => {
    // Arrange: a relay that would look every 20 ms, backing off to 400 ms.
    const { relay, append, probe, close } = await relayed({
      pollIntervalMs: 20,
      maxPollIntervalMs: 400,
    });
    relay.start();

    // Act: 1.5 s idle (75 passes at a fixed 20 ms; 20, 40, 80, 160, 320, then 400 ms apart).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const idlePasses = probe.queries;
    await append('woken');
    await vi.waitFor(() => expect(relay.stats.forwarded).toBe(1), { timeout: 10_000 });
    await relay.stop();
    close();

    // Assess
    expect(idlePasses).toBeGreaterThanOrEqual(5);
    expect(idlePasses).toBeLessThanOrEqual(12);
  });

  it('forwards a commit notified while a pass was under way, without waiting for the next look', async () => {
    // Arrange: a relay whose idle wait outlasts the test; its first pass answers empty, and
    // only then (before the relay reads the answer) a commit is stored and notified.
    const { relay, append, probe, close } = await relayed({
      pollIntervalMs: NEVER,
      maxPollIntervalMs: NEVER,
    });
    let appended = false;
    probe.afterQuery = async () => {
      await append('during-pass');
      appended = true;
    };

    // Act
    relay.start();

    // Assess: forwarded by the pass that follows at once (the next look is 10 minutes away).
    await vi.waitFor(() => expect(relay.stats.forwarded).toBe(1), { timeout: 10_000 });
    expect(appended).toBe(true);
    expect(probe.queries).toBeGreaterThanOrEqual(2);
    await relay.stop();
    close();
  });
});

describe('the local event source mapping when idle', () => {
  it('polls a shard again at once when woken while its poll was under way', async () => {
    // Arrange: an empty stream; the mapping's idle wait outlasts the test. Its first poll
    // answers empty, then a record is put and the mapping woken before it reads the answer.
    const streamName = `idle-wake-${++n}`;
    await ensureStream(kinesis, streamName, 1);
    const client = kinesisClient({ endpoint: kinesisServer.endpoint });
    const received: string[] = [];
    let polls = 0;
    let mapping: EventSourceMapping | undefined;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const answer = await next(args);
        if (context.commandName === 'GetRecordsCommand' && ++polls === 1) {
          await putRecordsReliably(client, streamName, [
            { data: Buffer.from('late'), partitionKey: 'k' },
          ]);
          mapping?.wake();
        }
        return answer;
      },
      { step: 'initialize' },
    );
    mapping = new EventSourceMapping({
      consumer: 'idle',
      kinesis: client,
      streamName,
      handler: async (event) => {
        for (const r of event.Records)
          received.push(Buffer.from(r.kinesis.data, 'base64').toString());
        return { batchItemFailures: [] };
      },
      checkpoints: new InMemoryCheckpointStore(),
      deadLetters: new InMemoryDeadLetterQueue(),
      pollIntervalMs: NEVER,
      maxPollIntervalMs: NEVER,
    });

    // Act
    await mapping.start();

    // Assess
    await vi.waitFor(() => expect(received).toEqual(['late']), { timeout: 10_000 });
    await mapping.stop();
    client.destroy();
  });
});
