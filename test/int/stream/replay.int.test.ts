import { readFileSync } from 'node:fs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { LocalBusPublisher } from '../../../stream/buses/LocalBusPublisher.js';
import { LocalEventBus } from '../../../stream/buses/LocalEventBus.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import type { UnreadableEvent } from '../../../stream/eventStore/UnreadableEvents.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { BusTarget } from '../../../stream/replay/BusTarget.js';
import { FileTarget } from '../../../stream/replay/FileTarget.js';
import { InMemoryReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import {
  RateLimiter,
  type ReplayCheckpoints,
  type ReplayTarget,
  replay,
} from '../../../stream/replay/replay.js';
import { corruptCommit, registry } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
let dynamo: EmbeddedDynamo;
let store: DynamoEventStore;
let client: ReturnType<typeof dynamoClient>;
const TEAMS = 40;
const UPDATES = 3;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
  await ensureEventsTable(client, 'events');
  store = new DynamoEventStore({ client, table: 'events', registry });
  // 40 team streams: a registration, then three updates appended one by one (one commit each).
  for (let t = 0; t < TEAMS; t++) {
    const id = `team:T${t}`;
    await store.append(id, 0, [
      {
        event_type: 'TeamRegistered',
        correlation_id: 'c',
        data: { team_id: `T${t}`, name: `T${t}`, conference: null, division: 'I', region: null },
      },
    ]);
    for (let u = 1; u <= UPDATES; u++) {
      await store.append(id, u, [
        {
          event_type: 'TeamMetadataUpdated',
          correlation_id: 'c',
          data: { team_id: `T${t}`, name: null, conference: `C${u}`, division: null, region: null },
        },
      ]);
    }
  }
}, 60_000);

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

const TOTAL = TEAMS * (UPDATES + 1);

/** Events of a JSON Lines file. */
function lines(path: string): EventEnvelope[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EventEnvelope);
}

describe('replay', () => {
  it('sends every event once, each stream in order, across a parallel scan', async () => {
    const path = tmp.path('all.jsonl');

    const summary = await replay({
      source: store,
      target: new FileTarget(path),
      name: 'all',
      checkpoints: new InMemoryReplayCheckpoints(),
      segments: 3,
      pageSize: 7,
    });

    const events = lines(path);
    expect(summary).toMatchObject({ completed: true, resumed: false, events: TOTAL });
    expect(new Set(events.map((e) => e.event_id)).size).toBe(TOTAL);
    for (let t = 0; t < TEAMS; t++) {
      const sequences = events
        .filter((e) => e.aggregate_id === `team:T${t}`)
        .map((e) => e.sequence);
      expect(sequences).toEqual([1, 2, 3, 4]);
    }
  });

  it('continues an interrupted replay from its checkpoint, writing nothing twice', async () => {
    const path = tmp.path('resumed.jsonl');
    const checkpoints = new InMemoryReplayCheckpoints();
    const controller = new AbortController();
    const options = {
      source: store,
      name: 'resumable',
      checkpoints,
      segments: 2,
      pageSize: 5,
      checkpointEveryMs: 0,
    };

    const first = await replay({
      ...options,
      target: new FileTarget(path),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.events >= 30) controller.abort();
      },
    });
    const written = lines(path);
    const second = await replay({ ...options, target: new FileTarget(path) });
    const resumed = lines(path);
    const third = await replay({ ...options, target: new FileTarget(path) });

    // The interrupted run wrote part of the file; the resumed one the rest, nothing twice.
    expect(first.completed).toBe(false);
    expect(first.events).toBeLessThan(TOTAL);
    expect(written.length).toBeGreaterThanOrEqual(first.events);
    expect(written.length).toBeLessThan(TOTAL);
    expect(second).toMatchObject({ resumed: true, completed: true, events: TOTAL });
    expect(resumed).toHaveLength(TOTAL);
    expect(new Set(resumed.map((e) => e.event_id)).size).toBe(TOTAL);
    expect(resumed.slice(0, first.events)).toEqual(written.slice(0, first.events));
    for (let t = 0; t < TEAMS; t++)
      expect(resumed.filter((e) => e.aggregate_id === `team:T${t}`).map((e) => e.sequence)).toEqual(
        [1, 2, 3, 4],
      );
    // A finished replay run again starts over and rewrites the file, the same events.
    expect(third).toMatchObject({ resumed: false, completed: true, events: TOTAL });
    const rewritten = lines(path);
    expect(rewritten).toHaveLength(TOTAL);
    expect(new Set(rewritten.map((e) => e.event_id))).toEqual(
      new Set(resumed.map((e) => e.event_id)),
    );
  });

  it('delivers no page waiting for the rate once interrupted, and the resumed run writes it', async () => {
    // Prepare: 10 events a second over two segments of 5-commit pages: a second's worth
    // goes at once, then each page waits for the rate.
    const path = tmp.path('paced.jsonl');
    const checkpoints = new InMemoryReplayCheckpoints();
    const controller = new AbortController();
    const options = { source: store, name: 'paced', checkpoints, segments: 2, pageSize: 5 };

    // Act: Ctrl-C while the pages after the first second wait.
    const first = await replay({
      ...options,
      target: new FileTarget(path),
      ratePerSecond: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.events >= 10) setTimeout(() => controller.abort(), 100);
      },
    });
    const written = lines(path);
    const second = await replay({ ...options, target: new FileTarget(path) });

    // Assess: the first run wrote the first second's worth, not the pages it was holding back.
    expect(first).toMatchObject({ completed: false, events: 10 });
    expect(written).toHaveLength(10);
    expect(second).toMatchObject({ resumed: true, completed: true, events: TOTAL });
    expect(new Set(lines(path).map((e) => e.event_id)).size).toBe(TOTAL);
  });

  it('continues a replay that died between writing a page and saving its checkpoint, writing that page once', async () => {
    // Prepare: checkpoints that die on their fourth save, after the page it was for is written.
    const path = tmp.path('died.jsonl');
    const checkpoints = new InMemoryReplayCheckpoints();
    let saves = 0;
    const dying: ReplayCheckpoints = {
      load: (name) => checkpoints.load(name),
      save: async (checkpoint) => {
        if (++saves === 4) throw new Error('killed');
        await checkpoints.save(checkpoint);
      },
    };
    const options = { source: store, name: 'died', segments: 1, pageSize: 5, checkpointEveryMs: 0 };

    const target = new FileTarget(path);
    let closed = 0;
    const close = target.close.bind(target);
    target.close = () => {
      closed++;
      return close();
    };

    // Act
    const died = await replay({ ...options, checkpoints: dying, target })
      .then(() => 'finished')
      .catch((error: Error) => error.message);
    const written = lines(path);
    const saved = await checkpoints.load('died');
    const resumed = await replay({ ...options, checkpoints, target: new FileTarget(path) });
    const events = lines(path);

    // Assess: the file held a page the checkpoint did not; the resumed replay cut it off and
    // wrote every event once.
    expect(died).toBe('killed');
    // The failed run let go of its file.
    expect(closed).toBe(1);
    expect(written.length).toBeGreaterThan(saved?.events ?? 0);
    expect(resumed).toMatchObject({ resumed: true, completed: true, events: TOTAL });
    expect(events).toHaveLength(TOTAL);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(TOTAL);
  });

  it('refuses to continue a replay under the same name with other settings', async () => {
    const checkpoints = new InMemoryReplayCheckpoints();
    const controller = new AbortController();
    controller.abort();
    await replay({
      source: store,
      target: new FileTarget(tmp.path('x.jsonl')),
      name: 'same-name',
      checkpoints,
      signal: controller.signal,
    });

    await expect(
      replay({
        source: store,
        target: new FileTarget(tmp.path('y.jsonl')),
        name: 'same-name',
        checkpoints,
      }),
    ).rejects.toThrow(/replay "same-name" was interrupted with other settings/);
  });

  it('filters by event type, by stream and by time', async () => {
    const seen: EventEnvelope[][] = [];
    const collect: ReplayTarget = {
      description: 'memory',
      concurrent: true,
      deliver: async (events) => {
        seen.push([...events]);
      },
    };
    const run = (name: string, filters: NonNullable<Parameters<typeof replay>[0]['filters']>) =>
      replay({
        source: store,
        target: collect,
        name,
        checkpoints: new InMemoryReplayCheckpoints(),
        filters,
      });

    const registered = await run('types', { eventTypes: ['TeamRegistered'] });
    const two = await run('ids', { aggregateIds: ['team:T1', 'team:T2'] });
    const none = await run('time', { from: '2999-01-01T00:00:00Z' });

    expect(registered.events).toBe(TEAMS);
    expect(two.events).toBe(2 * (UPDATES + 1));
    expect(none.events).toBe(0);
    expect(seen.flat().filter((e) => e.event_type === 'TeamRegistered')).toHaveLength(TEAMS + 2);
  });

  it('marks events replayed on the buses, where a handler can tell', async () => {
    const deadLetters = new InMemoryDeadLetterQueue();
    const bus = new LocalEventBus('matchstream-metadata', { deadLetters });
    const received: { replayed?: boolean }[] = [];
    bus.register({
      name: 'spy',
      pattern: { source: ['matchstream.metadata'] },
      handler: async (event) => {
        received.push(event.detail as { replayed?: boolean });
      },
    });
    const publisher = new LocalBusPublisher({ metadata: bus } as never, deadLetters);
    const target = new BusTarget(publisher, ['metadata']);

    const summary = await replay({
      source: store,
      target,
      name: 'bus',
      checkpoints: new InMemoryReplayCheckpoints(),
      filters: { aggregateIds: ['team:T3'] },
    });

    expect(summary.events).toBe(UPDATES + 1);
    expect(received).toHaveLength(UPDATES + 1);
    expect(received.every((d) => d.replayed === true)).toBe(true);
    expect(target.stats).toMatchObject({ published: UPDATES + 1, dead_lettered: 0 });
  });
});

describe('replay past unreadable events', () => {
  it('skips and reports an event it cannot decode and holds back the rest of its stream; without a handler it stops', async () => {
    // Prepare: three team streams of four events; in the second, event 2 is corrupt Avro.
    await ensureEventsTable(client, 'poisoned');
    const poisoned = new DynamoEventStore({ client, table: 'poisoned', registry });
    const registered = (t: string) => ({
      event_type: 'TeamRegistered' as const,
      data: { team_id: t, name: t, conference: null, division: 'I', region: null },
    });
    const updated = (t: string, u: number) => ({
      event_type: 'TeamMetadataUpdated' as const,
      data: { team_id: t, name: null, conference: `C${u}`, division: null, region: null },
    });
    for (const t of ['P0', 'P1', 'P2']) {
      await poisoned.append(`team:${t}`, 0, [registered(t)]);
      for (let u = 1; u <= 3; u++) await poisoned.append(`team:${t}`, u, [updated(t, u)]);
    }
    await client.send(
      new PutItemCommand({
        TableName: 'poisoned',
        Item: toItem(
          corruptCommit(
            'team:P1',
            2,
            'TeamMetadataUpdated',
            '66666666-6666-4666-8666-666666666666',
          ),
        ),
      }),
    );
    const delivered: EventEnvelope[] = [];
    const target: ReplayTarget = {
      description: 'memory',
      concurrent: true,
      deliver: async (events) => {
        delivered.push(...events);
      },
    };
    const reported: UnreadableEvent[] = [];
    const checkpoints = new InMemoryReplayCheckpoints();

    // Act
    const summary = await replay({
      source: poisoned,
      target,
      name: 'poisoned',
      checkpoints,
      segments: 2,
      pageSize: 1,
      onUnreadable: async (event) => {
        reported.push(event);
      },
    });

    // Assess: P0 and P2 whole, P1 up to event 1; event 2 unreadable, event 3 and 4 held back.
    expect(summary).toMatchObject({ completed: true, events: 9, unreadable: 3 });
    expect(delivered.filter((e) => e.aggregate_id === 'team:P1').map((e) => e.sequence)).toEqual([
      1,
    ]);
    expect(reported.map((e) => [e.sequence, e.held_back])).toEqual([
      [2, false],
      [3, true],
      [4, true],
    ]);
    expect(reported[0]?.error).toMatch(
      /cannot decode the stored bytes.*event 66666666-6666-4666-8666-666666666666/,
    );
    expect(reported[1]?.error).toBe(
      'held back: event 66666666-6666-4666-8666-666666666666 at sequence 2 of team:P1 cannot be read',
    );
    expect(checkpoints.saved.get('poisoned')?.poisoned_streams).toHaveProperty('team:P1');
    await expect(
      replay({ source: poisoned, target, name: 'strict', checkpoints, segments: 2 }),
    ).rejects.toThrow(/cannot decode the stored bytes/);
  });
});

describe('RateLimiter', () => {
  it('lets a second of events through at once, then holds to the rate', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new RateLimiter(100, {
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });

    await limiter.take(100);
    await limiter.take(50);
    await limiter.take(50);

    expect(waits.reduce((a, b) => a + b, 0)).toBeCloseTo(1000, -1);
    expect(now).toBeGreaterThanOrEqual(990);
  });
});
