import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observed } from '../../../infra/handlers/observed.js';
import { busRouterHandler, readModelsHandler } from '../../../pipeline/aws/consumers.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { matchesOfSeason } from '../../../projections/readModels/matches.js';
import { getTeam } from '../../../projections/readModels/teams.js';
import { batchWriteReliably } from '../../../stream/aws/dynamoBatch.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { eventBridgeClient } from '../../../stream/aws/eventBridgeClient.js';
import { DOMAINS } from '../../../stream/buses/domains.js';
import { type Commit, CommitCodec } from '../../../stream/eventStore/Commit.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureBreakersTable, ensureKeyValueTable } from '../../../stream/local/localTables.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import {
  drainQueue,
  type Moto,
  motoAvailable,
  motoBusToQueue,
  startMoto,
} from '../../support/moto.js';
import { matchRecorded, registry, teamRegistered } from '../../support/registry.js';

const codec = new CommitCodec(registry);

/** Commits of a small history: two teams, a match recorded then corrected. */
function history(): Commit[] {
  return [
    codec.build('team:A', 0, [{ event_type: 'TeamRegistered', data: teamRegistered('A') }]),
    codec.build('team:B', 0, [{ event_type: 'TeamRegistered', data: teamRegistered('B') }]),
    codec.build('match:m1', 0, [
      {
        event_type: 'MatchRecorded',
        data: { ...matchRecorded('m1'), home_team: 'A', away_team: 'B' },
      },
    ]),
    codec.build('match:m1', 1, [
      {
        event_type: 'MatchResultCorrected',
        data: { ...matchRecorded('m1', 3, 1), home_team: 'A', away_team: 'B', reason: 'typo' },
      },
    ]),
  ];
}

describe('the read-models Lambda handler, wired as the CDK app configures it', () => {
  let dynamo: EmbeddedDynamo;
  let client: ReturnType<typeof dynamoClient>;
  const tables = Object.fromEntries(READ_MODELS.map((p) => [p.name, `stage-rm-${p.name}`]));
  const env = {
    CONSUMER: 'read-models',
    EVENTS_TABLE: 'stage-events',
    POSITIONS_TABLE: 'stage-positions',
    DEAD_LETTERS_TABLE: 'stage-dead-letters',
    BREAKERS_TABLE: 'stage-breakers',
    READ_MODEL_TABLES: JSON.stringify(tables),
  };

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    client = dynamoClient({ endpoint: dynamo.endpoint });
    await ensureEventsTable(client, env.EVENTS_TABLE);
    await ensureKeyValueTable(client, env.POSITIONS_TABLE, 'consumer', 'aggregate_id');
    await ensureBreakersTable(client, env.BREAKERS_TABLE);
    for (const table of Object.values(tables)) await DynamoDocumentStore.open(client, table);
  });

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  it('applies a batch from the stream once, fills a gap from the store, and ignores a redelivery', async () => {
    // Prepare: the history stored; the stream delivers the correction before the recording.
    const commits = history();
    await batchWriteReliably(
      client,
      env.EVENTS_TABLE,
      commits.map((c) => ({ put: toItem(c) })),
      ['aggregate_id', 'sequence'],
    );
    const [teamA, teamB, recorded, corrected] = commits.map((c) => kinesisRecordOf(c));
    if (!teamA || !teamB || !recorded || !corrected) throw new Error('no records');
    const handler = readModelsHandler(env, client);

    // Act
    const first = await handler({ Records: [teamA, teamB, corrected] });
    const again = await handler({ Records: [recorded, corrected] });

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    const matches = new DynamoDocumentStore(client, tables.matches ?? '');
    expect(await matchesOfSeason(matches, '2026')).toMatchObject([
      { match_id: 'm1', status: 'corrected', home_goals: 3, corrections: 1 },
    ]);
    expect(await getTeam(new DynamoDocumentStore(client, tables.teams ?? ''), 'A')).toMatchObject({
      name: 'A',
    });
  });

  it('logs what went wrong and where, never a payload or a credential', async () => {
    // Prepare: credentials in the environment, as Lambda sets them; a good commit, a commit
    // with corrupt Avro and a record that is not JSON, each carrying a recognisable payload.
    const secrets = {
      AWS_ACCESS_KEY_ID: 'AKIAMARKERKEYID00000',
      AWS_SECRET_ACCESS_KEY: 'secret-access-key-marker',
      AWS_SESSION_TOKEN: 'session-token-marker',
    };
    const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets);
    // Ids are logged (they say where to look); the name is payload.
    const good = codec.build('team:T77', 0, [
      {
        event_type: 'TeamRegistered',
        data: { ...teamRegistered('T77'), name: 'PayloadMarkerTeam' },
      },
    ]);
    const team = registry.encode('TeamRegistered', teamRegistered('PayloadMarkerTeam'));
    const corrupt = codec.build('team:Poisoned', 0, [
      { event_type: 'TeamRegistered', data: teamRegistered('Poisoned') },
    ]);
    const corruptEvent = corrupt.events[0];
    if (!corruptEvent) throw new Error('no event');
    const poisoned: Commit = {
      ...corrupt,
      events: [
        {
          ...corruptEvent,
          fingerprint: team.fingerprint,
          data: Buffer.concat([
            Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x7f]),
            Buffer.from('PayloadMarkerBytes'),
          ]),
        },
      ],
    };
    await batchWriteReliably(
      client,
      env.EVENTS_TABLE,
      [good, poisoned].map((c) => ({ put: toItem(c) })),
      ['aggregate_id', 'sequence'],
    );
    const junk = kinesisRecordOf(good);
    const notJson = {
      ...junk,
      kinesis: {
        ...junk.kinesis,
        data: Buffer.from('PayloadMarkerJunk{"not": json').toString('base64'),
      },
    };
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: never[]) => {
        written.push(String(chunk));
        return rest.length >= 0;
      }) as typeof stream.write;
      return () => {
        stream.write = original as typeof stream.write;
      };
    };
    const restore = [capture(process.stdout), capture(process.stderr)];
    try {
      const { handler } = observed('read-models', (observer) =>
        readModelsHandler(env, client, observer),
      );

      // Act
      const first = await handler({ Records: [kinesisRecordOf(good), kinesisRecordOf(poisoned)] });
      const second = await handler({ Records: [notJson] });

      // Assess: both failures logged with where they are; no payload, no credential.
      expect(first.batchItemFailures).toHaveLength(1);
      expect(second.batchItemFailures).toHaveLength(1);
    } finally {
      for (const r of restore) r();
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    const logs = written.join('');
    expect(logs).toContain('record not processed');
    expect(logs).toContain('team:Poisoned');
    expect(logs).toContain('cannot decode the stored bytes');
    expect(logs).toContain('the record data is not JSON');
    for (const secret of [...Object.values(secrets), 'PayloadMarker'])
      expect(logs).not.toContain(secret);
  });

  it('logs a batch it fails on at error, with the consumer, the records, streams and event ids, and fails the invocation', async () => {
    // Prepare: a teams table that is not there, so the batch's delivery fails.
    const commit = codec.build('team:T88', 0, [
      { event_type: 'TeamRegistered', data: teamRegistered('T88') },
    ]);
    await batchWriteReliably(
      client,
      env.EVENTS_TABLE,
      [{ put: toItem(commit) }],
      ['aggregate_id', 'sequence'],
    );
    const record = kinesisRecordOf(commit);
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      }) as typeof stream.write;
      return () => {
        stream.write = original as typeof stream.write;
      };
    };
    const restore = [capture(process.stdout), capture(process.stderr)];
    let outcome: unknown;
    try {
      const { handler } = observed('read-models', (observer) =>
        readModelsHandler(
          { ...env, READ_MODEL_TABLES: JSON.stringify({ ...tables, teams: 'stage-no-teams' }) },
          client,
          observer,
        ),
      );

      // Act
      outcome = await handler({ Records: [record] }).catch((error: unknown) => error);
    } finally {
      for (const r of restore) r();
    }

    // Assess: the invocation fails (Lambda's Errors, which the consumer's alarm watches), and
    // one error line says where.
    expect(outcome).toBeInstanceOf(Error);
    const lines = written
      .join('')
      .split('\n')
      .filter((l) => l.includes('batch not processed'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      consumer: 'read-models',
      shard: record.eventID.split(':')[0],
      records: 1,
      firstSequenceNumber: record.kinesis.sequenceNumber,
      lastSequenceNumber: record.kinesis.sequenceNumber,
      streams: ['team:T88@1'],
      eventIds: [commit.events[0]?.event_id],
      error: (outcome as Error).message,
    });
    // Its lag is reported as a good batch's is: a rebuild's catch-up takes a consumer that
    // reports none for 5 minutes as caught up.
    const emf = written
      .join('')
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf.some((m) => typeof m.IteratorLagMs === 'number')).toBe(true);
  });

  it('names a missing setting', () => {
    expect(() => readModelsHandler({ ...env, READ_MODEL_TABLES: '{}' }, client)).toThrow(
      'READ_MODEL_TABLES names no table for teams',
    );
    expect(() => readModelsHandler({ ...env, EVENTS_TABLE: undefined }, client)).toThrow(
      'environment variable EVENTS_TABLE is not set',
    );
  });
});

describe.runIf(motoAvailable())(
  'the bus-router Lambda handler on moto (DynamoDB, EventBridge, SQS)',
  () => {
    let moto: Moto;

    beforeAll(async () => {
      moto = await startMoto();
    });

    afterAll(async () => {
      await moto?.stop();
    });

    it('puts every event on its domain bus', async () => {
      // Prepare: the tables, four buses and a queue behind the soccer bus.
      const dynamo = dynamoClient({ endpoint: moto.endpoint });
      const events = eventBridgeClient({ endpoint: moto.endpoint });
      const sqs = new SQSClient({
        endpoint: moto.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const env = {
        CONSUMER: 'bus-router',
        EVENTS_TABLE: 'moto-events',
        POSITIONS_TABLE: 'moto-positions',
        DEAD_LETTERS_TABLE: 'moto-dead-letters',
        BREAKERS_TABLE: 'moto-breakers',
        BUS_NAMES: JSON.stringify(Object.fromEntries(DOMAINS.map((d) => [d, `moto-${d}`]))),
      };
      await ensureEventsTable(dynamo, env.EVENTS_TABLE);
      await ensureKeyValueTable(dynamo, env.POSITIONS_TABLE, 'consumer', 'aggregate_id');
      await ensureKeyValueTable(dynamo, env.DEAD_LETTERS_TABLE, 'consumer', 'id');
      await ensureBreakersTable(dynamo, env.BREAKERS_TABLE);
      for (const d of DOMAINS)
        if (d !== 'soccer') await events.send(new CreateEventBusCommand({ Name: `moto-${d}` }));
      const QueueUrl = await motoBusToQueue(events, sqs, 'moto-soccer', 'matchstream.soccer');
      const commits = history();
      await batchWriteReliably(
        dynamo,
        env.EVENTS_TABLE,
        commits.map((c) => ({ put: toItem(c) })),
        ['aggregate_id', 'sequence'],
      );
      const handler = busRouterHandler(env, { dynamo, eventBridge: events });

      // Act
      const result = await handler({ Records: commits.map((c) => kinesisRecordOf(c)) });
      const received = await drainQueue<{ 'detail-type': string }>(sqs, QueueUrl, { count: 2 });

      // Assess: the two match events reach the soccer bus's queue; nothing is dead-lettered.
      expect(result).toEqual({ batchItemFailures: [] });
      expect(received.map((e) => e['detail-type']).sort()).toEqual([
        'MatchRecorded',
        'MatchResultCorrected',
      ]);
      const letters = await dynamo.send(new ScanCommand({ TableName: env.DEAD_LETTERS_TABLE }));
      expect(letters.Count).toBe(0);
      dynamo.destroy();
      events.destroy();
      sqs.destroy();
    }, 60_000);
  },
);
