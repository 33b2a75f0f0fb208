import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { batchWriteReliably } from '../../../stream/aws/dynamoBatch.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import type { KinesisStreamEvent } from '../../../stream/consumer/kinesisEvent.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureBreakersTable, ensureKeyValueTable } from '../../../stream/local/localTables.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { registry, teamRegistered } from '../../support/registry.js';

const codec = new CommitCodec(registry);

/** The EMF documents a run of `act` printed on standard output, as Lambda would ship them. */
async function emfOf(act: () => Promise<unknown>): Promise<EmfDocument[]> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"CloudWatchMetrics"'))
    .map((l) => JSON.parse(l) as EmfDocument);
}

interface EmfDocument {
  readonly _aws: { readonly CloudWatchMetrics: { Dimensions: string[][]; Namespace: string }[] };
  readonly [key: string]: unknown;
}

/** Every dimension set of a document, with the values it gives them. */
function dimensionsOf(doc: EmfDocument): Record<string, unknown>[] {
  return doc._aws.CloudWatchMetrics.flatMap((m) =>
    m.Dimensions.map((set) => Object.fromEntries(set.map((name) => [name, doc[name]]))),
  );
}

/**
 * The Lambda entry points as Lambda loads them: once per execution environment, then invoked
 * again and again. Every invocation's metrics must carry the `consumer` dimension the alarms
 * select on, not only a container's first.
 */
describe('the metrics of the Lambda entry points', () => {
  let dynamo: EmbeddedDynamo;
  let client: ReturnType<typeof dynamoClient>;
  const readModelTables = Object.fromEntries(READ_MODELS.map((p) => [p.name, `m-rm-${p.name}`]));
  const sagaTables = {
    work: 'm-work',
    directory: 'm-directory',
    cache: 'm-cache',
    notifications: 'm-notifications',
  };
  const env = {
    EVENTS_TABLE: 'm-events',
    POSITIONS_TABLE: 'm-positions',
    DEAD_LETTERS_TABLE: 'm-dead-letters',
    BREAKERS_TABLE: 'm-breakers',
    READ_MODEL_TABLES: JSON.stringify(readModelTables),
    SAGA_TABLES: JSON.stringify(sagaTables),
  };
  const saved = { ...process.env };

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    client = dynamoClient({ endpoint: dynamo.endpoint });
    await ensureEventsTable(client, env.EVENTS_TABLE);
    await ensureKeyValueTable(client, env.POSITIONS_TABLE, 'consumer', 'aggregate_id');
    await ensureKeyValueTable(client, env.DEAD_LETTERS_TABLE, 'consumer', 'id');
    await ensureBreakersTable(client, env.BREAKERS_TABLE);
    for (const table of [...Object.values(readModelTables), ...Object.values(sagaTables)])
      await DynamoDocumentStore.open(client, table);
    // The entry points build their clients from the environment, as on Lambda.
    Object.assign(process.env, env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    process.env = saved;
    client?.destroy();
    await dynamo?.stop();
  });

  it('the read-models consumer: two invocations in one container both emit with consumer=read-models', async () => {
    // Prepare: two teams stored, each delivered in its own invocation.
    process.env.CONSUMER = 'read-models';
    const { handler } = await import('../../../infra/handlers/readModelsFunction.js');
    const commits = ['A', 'B'].map((t) =>
      codec.build(`team:${t}`, 0, [{ event_type: 'TeamRegistered', data: teamRegistered(t) }]),
    );
    await batchWriteReliably(
      client,
      env.EVENTS_TABLE,
      commits.map((c) => ({ put: toItem(c) })),
      ['aggregate_id', 'sequence'],
    );
    const invoke = (i: number): Promise<unknown> => {
      const commit = commits[i];
      if (!commit) throw new Error(`no commit ${i}`);
      const event: KinesisStreamEvent = { Records: [kinesisRecordOf(commit)] };
      return handler(event);
    };

    // Act
    const first = await emfOf(() => invoke(0));
    const second = await emfOf(() => invoke(1));

    // Assess
    for (const docs of [first, second]) {
      expect(docs).toHaveLength(1);
      const doc = docs[0] as EmfDocument;
      expect(doc.EventsApplied).toBe(1);
      expect(dimensionsOf(doc)).toEqual([{ service: 'matchstream', consumer: 'read-models' }]);
    }
  });

  it('the saga sweep: two scheduled runs in one container both emit with consumer=sagas', async () => {
    // Prepare
    const { handler } = await import('../../../infra/handlers/sagaSweepFunction.js');
    const context = { getRemainingTimeInMillis: () => 60_000 };

    // Act
    const first = await emfOf(() => handler({}, context));
    const second = await emfOf(() => handler({}, context));

    // Assess
    for (const docs of [first, second]) {
      expect(docs).toHaveLength(1);
      const doc = docs[0] as EmfDocument;
      expect(doc.SagasSwept).toBe(0);
      expect(dimensionsOf(doc)).toEqual([{ service: 'matchstream', consumer: 'sagas' }]);
    }
  });
});
