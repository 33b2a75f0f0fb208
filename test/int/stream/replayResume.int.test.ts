import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { DynamoReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import { type ReplayTarget, replay } from '../../../stream/replay/replay.js';
import { registry } from '../../support/registry.js';

let dynamo: EmbeddedDynamo;
let client: ReturnType<typeof dynamoClient>;
let store: DynamoEventStore;
const TEAMS = 30;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  client = dynamoClient({ endpoint: dynamo.endpoint });
  await ensureEventsTable(client, 'events');
  store = new DynamoEventStore({ client, table: 'events', registry });
  for (let t = 0; t < TEAMS; t++) {
    await store.append(`team:T${t}`, 0, [
      {
        event_type: 'TeamRegistered',
        data: { team_id: `T${t}`, name: `T${t}`, conference: null, division: 'I', region: null },
      },
    ]);
  }
}, 60_000);

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

/** A target that keeps what it gets. */
function collecting(): ReplayTarget & { readonly events: EventEnvelope[] } {
  const events: EventEnvelope[] = [];
  return {
    description: 'collected events',
    concurrent: true,
    events,
    async deliver(page) {
      events.push(...page);
    },
  };
}

describe('a replay with its checkpoints in DynamoDB', () => {
  it('resumed after dying before its segments delivered anything, replays every segment', async () => {
    // Prepare: a first run dies (its target never answers, like a killed process) once its
    // scan has started: the checkpoint it leaves has every segment not started.
    let reached: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const dying: ReplayTarget = {
      description: 'collected events',
      concurrent: true,
      deliver: () => {
        reached();
        return new Promise<void>(() => {});
      },
    };
    const options = { source: store, name: 'died-at-start', segments: 4, pageSize: 5 };
    // It never ends; should a scan of it fail once the servers stop, that is no news.
    replay({
      ...options,
      target: dying,
      checkpoints: await DynamoReplayCheckpoints.open(client),
    }).catch(() => {});
    await started;

    // Act: the next run, in a new process, goes on from that checkpoint.
    const target = collecting();
    const summary = await replay({
      ...options,
      target,
      checkpoints: await DynamoReplayCheckpoints.open(client),
    });

    // Assess
    expect(summary).toMatchObject({ resumed: true, completed: true, events: TEAMS });
    expect(new Set(target.events.map((e) => e.aggregate_id)).size).toBe(TEAMS);
  });
});
