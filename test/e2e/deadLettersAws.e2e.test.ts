import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterSources } from '../../pipeline/aws/deadLetterSources.js';
import { deployedClients, readDeployedLetters } from '../../pipeline/aws/deployedLetters.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../projections/DynamoDocumentStore.js';
import { matchesOfSeason } from '../../projections/readModels/matches.js';
import { getTeam } from '../../projections/readModels/teams.js';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { batchWriteReliably } from '../../stream/aws/dynamoBatch.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { eventBridgeClient } from '../../stream/aws/eventBridgeClient.js';
import { s3Client } from '../../stream/aws/s3InvocationRecords.js';
import { sqsClient } from '../../stream/aws/sqsClient.js';
import { busEntryOf } from '../../stream/buses/BusPublisher.js';
import { fitted } from '../../stream/buses/claimCheck.js';
import { DOMAINS } from '../../stream/buses/domains.js';
import { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import { invocationRecord, invocationRecordKey } from '../../stream/consumer/invocationRecord.js';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import { type Commit, CommitCodec } from '../../stream/eventStore/Commit.js';
import { toItem } from '../../stream/eventStore/commitItem.js';
import { ensureEventsTable } from '../../stream/eventStore/eventsTable.js';
import { ensureBreakersTable, ensureKeyValueTable } from '../../stream/local/localTables.js';
import { busEvent } from '../support/busEvents.js';
import { runCli } from '../support/cli.js';
import { kinesisRecordOf } from '../support/kinesisRecords.js';
import {
  drainQueue,
  type Moto,
  motoAvailable,
  motoBusToQueue,
  startMoto,
} from '../support/moto.js';
import { createMotoFunction } from '../support/motoFunction.js';
import { corruptCommit, matchRecorded, registry, teamRegistered } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const codec = new CommitCodec(registry);
const tmp = tempDir('dead-letters-aws-');
const ACCOUNT = '123456789012';
const BUCKET = 'dl-failures';
const TABLES = {
  events: 'dl-events',
  positions: 'dl-positions',
  deadLetters: 'dl-dead-letters',
  breakers: 'dl-breakers',
};
const SAGA_TABLES = {
  work: 'dl-work',
  directory: 'dl-directory',
  cache: 'dl-cache',
  notifications: 'dl-notifications',
};
const READ_MODEL_TABLES = Object.fromEntries(READ_MODELS.map((p) => [p.name, `dl-rm-${p.name}`]));
const BUSES = Object.fromEntries(DOMAINS.map((d) => [d, `dl-${d}`]));
const FUNCTIONS = {
  readModels: 'dl-read-models',
  busRouter: 'dl-bus-router',
  metadata: 'dl-metadata-handler',
};
const RULE = 'metadata-event-handler';

interface Listed {
  id: string;
  consumer: string;
  kind: string;
  attempts: number;
  error: string;
  events: { aggregate_id: string; sequence: number }[];
  events_unknown?: string;
  kept_in: { place: string; where: string }[];
}

interface Summary {
  dry_run: boolean;
  letters: number;
  redriven: { id: string; consumer: string; through: string; events: number }[];
  still_failing: { id: string; consumer: string; error: string; attempts: number }[];
  skipped: { id: string; consumer: string; why: string; removed: boolean }[];
}

// A deployed stack's places of failure, made on moto_server as the CDK app makes them (the
// bucket, the tables, the bus handler's dead-letter queue, the sweep's, the functions'
// configurations), holding a letter of each kind; the command run on them as users run it.
describe.runIf(motoAvailable())('matchstream dead-letters --aws on moto_server', () => {
  let moto: Moto;
  let dynamo: DynamoDBClient;
  let s3: S3Client;
  let sqs: SQSClient;
  let events: EventBridgeClient;
  let sources: DeadLetterSources;
  let places: ReturnType<typeof deployedClients>;
  let sourcesFile: string;
  let deadLetters: string;
  let metadataBusQueue: string;
  /** The events each letter is about, by stream. */
  const envelopes = new Map<string, EventEnvelope>();

  const cli = (args: readonly string[]) =>
    runCli([
      'dead-letters',
      ...args,
      '--aws',
      '--sources',
      sourcesFile,
      '--endpoint',
      moto.endpoint,
    ]);
  /** The letters as `list --json` lists them, read in-process through the same code. */
  const list = async (): Promise<Listed[]> => {
    const found = await readDeployedLetters(sources, places, { holdSeconds: 5 });
    try {
      return found.letters.map((l) => ({
        id: l.id,
        consumer: l.consumer,
        kind: l.kind,
        attempts: l.attempts,
        error: l.error,
        events: l.events.map((e) => ({ aggregate_id: e.aggregate_id, sequence: e.sequence })),
        ...(l.unknown !== undefined ? { events_unknown: l.unknown } : {}),
        kept_in: l.copies.map((c) => ({ place: c.place, where: c.where })),
      }));
    } finally {
      await found.release();
    }
  };
  const redrive = async (...args: string[]) => {
    const run = await cli(['redrive', '--json', '--no-progress', ...args]);
    return { run, summary: JSON.parse(run.stdout || '{}') as Summary };
  };
  /**
   * The letters less what every read changes: the receive count of a message an inbox's
   * redrive policy moved, which moto does not name the inbox of (AWS does, and the count is
   * then the inbox's maxReceiveCount).
   */
  const steady = (letters: readonly Listed[]) =>
    letters.map((l) =>
      l.error.startsWith('gave up after') ? { ...l, error: 'gave up after', attempts: 0 } : l,
    );
  const byStream = (letters: readonly Listed[], stream: string) =>
    letters.filter((l) => l.events[0]?.aggregate_id === stream);
  const visibleMessages = async () => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deadLetters,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages);
  };
  const directory = () => new DynamoDocumentStore(dynamo, SAGA_TABLES.directory);

  /** Stores commits in the events table, as the stack's store writes them. */
  async function store(...commits: Commit[]): Promise<void> {
    await batchWriteReliably(
      dynamo,
      TABLES.events,
      commits.map((c) => ({ put: toItem(c) })),
      ['aggregate_id', 'sequence'],
    );
    for (const c of commits) for (const e of codec.envelopes(c)) envelopes.set(e.aggregate_id, e);
  }

  /** An invocation record of the read-models consumer's mapping, in the bucket. */
  async function givenUp(commit: Commit, minute: number): Promise<void> {
    const at = new Date(Date.UTC(2026, 11, 1, 10, minute));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: invocationRecordKey(
          '6b9cf1a2-2bd4-4f3e-9a51-0c1d2e3f4a5b',
          'shardId-000000000000',
          at,
        ),
        Body: JSON.stringify(
          invocationRecord({
            functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FUNCTIONS.readModels}`,
            condition: 'RetryAttemptsExhausted',
            invokeCount: 6,
            records: [kinesisRecordOf(commit, 'shardId-000000000000', TABLES.events)],
            at,
          }),
        ),
      }),
    );
  }

  const send = (
    queue: string,
    body: string,
    attributes: Record<string, string> = {},
  ): Promise<unknown> =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: queue,
        MessageBody: body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([k, v]): [string, MessageAttributeValue] => [
            k,
            { DataType: 'String', StringValue: v },
          ]),
        ),
      }),
    );
  const teamEvent = (team: string) => {
    const envelope = envelopes.get(`team:${team}`);
    if (!envelope) throw new Error(`no event of team:${team}`);
    return busEvent(envelope);
  };

  beforeAll(async () => {
    moto = await startMoto();
    dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    s3 = s3Client({ endpoint: moto.endpoint });
    sqs = sqsClient({ endpoint: moto.endpoint });
    events = eventBridgeClient({ endpoint: moto.endpoint });
    places = deployedClients({ endpoint: moto.endpoint });
    const lambda = new LambdaClient(clientConfig({ endpoint: moto.endpoint }));

    // The tables; the team directory is missing: the metadata handler fails until it is made.
    await ensureEventsTable(dynamo, TABLES.events);
    await ensureKeyValueTable(dynamo, TABLES.positions, 'consumer', 'aggregate_id');
    await ensureKeyValueTable(dynamo, TABLES.deadLetters, 'consumer', 'id');
    await ensureBreakersTable(dynamo, TABLES.breakers);
    for (const table of [
      ...Object.values(READ_MODEL_TABLES),
      SAGA_TABLES.work,
      SAGA_TABLES.cache,
      SAGA_TABLES.notifications,
    ])
      await DynamoDocumentStore.open(dynamo, table);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const d of DOMAINS)
      if (d !== 'metadata') await events.send(new CreateEventBusCommand({ Name: BUSES[d] }));
    metadataBusQueue = await motoBusToQueue(
      events,
      sqs,
      BUSES.metadata ?? '',
      'matchstream.metadata',
    );

    // The functions, configured as the stack configures them.
    const common = {
      EVENTS_TABLE: TABLES.events,
      POSITIONS_TABLE: TABLES.positions,
      DEAD_LETTERS_TABLE: TABLES.deadLetters,
      BREAKERS_TABLE: TABLES.breakers,
    };
    await createMotoFunction(moto.endpoint, lambda, FUNCTIONS.readModels, {
      ...common,
      CONSUMER: 'read-models',
      READ_MODEL_TABLES: JSON.stringify(READ_MODEL_TABLES),
    });
    await createMotoFunction(moto.endpoint, lambda, FUNCTIONS.busRouter, {
      ...common,
      CONSUMER: 'bus-router',
      BUS_NAMES: JSON.stringify(BUSES),
    });
    await createMotoFunction(moto.endpoint, lambda, FUNCTIONS.metadata, {
      EVENTS_TABLE: TABLES.events,
      DEAD_LETTERS_TABLE: TABLES.deadLetters,
      BREAKERS_TABLE: TABLES.breakers,
      READ_MODEL_TABLES: JSON.stringify(READ_MODEL_TABLES),
      SAGA_TABLES: JSON.stringify(SAGA_TABLES),
      BUS_HANDLER: 'metadata',
    });
    lambda.destroy();

    // The events: three teams, a match, a commit no release can read.
    await store(
      ...['A', 'B', 'C', 'P'].map((t) =>
        codec.build(`team:${t}`, 0, [{ event_type: 'TeamRegistered', data: teamRegistered(t) }]),
      ),
      codec.build('match:m1', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('m1') }]),
    );
    const corrupt = corruptCommit('match:bad', 1, 'MatchRecorded', 'e-bad');
    await batchWriteReliably(
      dynamo,
      TABLES.events,
      [{ put: toItem(corrupt) }],
      ['aggregate_id', 'sequence'],
    );

    // The read-models consumer gave up on m1 (a bug since fixed) and on the corrupt commit.
    await givenUp(
      codec.build('match:m1', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('m1') }]),
      1,
    );
    await givenUp(corrupt, 2);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'aws/lambda/6b9cf1a2/shardId-000000000000/2026/12/01/2026-12-01T10.03.00-x',
        Body: 'truncated {',
      }),
    );

    // The bus router's refused PutEvents entry for team P.
    const p = envelopes.get('team:P');
    if (!p) throw new Error('no event of team:P');
    await new DynamoDeadLetterQueue(dynamo, TABLES.deadLetters).send({
      consumer: `publish:${BUSES.metadata}`,
      event: fitted(busEntryOf(p), BUSES.metadata ?? '').request,
      error: 'ThrottlingException: Rate exceeded',
      attempts: 8,
      failed_at: '2026-12-01T10:04:00.000Z',
    });

    // The metadata handler's dead-letter queue: what its rule could not deliver (A), what its
    // function gave up on (B, as Lambda's on-failure destination writes it), what its inbox
    // gave up on after its receive count (C), and a body nobody can read.
    deadLetters =
      (await sqs.send(new CreateQueueCommand({ QueueName: 'dl-metadata-dead-letters' })))
        .QueueUrl ?? '';
    await send(deadLetters, JSON.stringify(teamEvent('A')), {
      ERROR_CODE: 'SDK_CLIENT_ERROR',
      ERROR_MESSAGE: 'Unable to invoke Lambda function',
      EXHAUSTED_RETRY_CONDITION: 'MaxRetryAttempts',
      RETRY_ATTEMPTS: '185',
      RULE_ARN: `arn:aws:events:us-east-1:${ACCOUNT}:rule/${BUSES.metadata}/${RULE}`,
      TARGET_ARN: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FUNCTIONS.metadata}`,
    });
    await send(
      deadLetters,
      JSON.stringify({
        version: '1.0',
        timestamp: '2026-12-01T10:05:00.000Z',
        requestContext: {
          requestId: 'r-1',
          functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FUNCTIONS.metadata}:$LATEST`,
          condition: 'RetriesExhausted',
          approximateInvokeCount: 3,
        },
        requestPayload: teamEvent('B'),
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          functionError: 'Unhandled',
        },
        responsePayload: { errorMessage: 'the directory is down', errorType: 'Error' },
      }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetters, AttributeNames: ['QueueArn'] }),
    );
    const inbox =
      (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: 'dl-metadata-inbox',
            Attributes: {
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: Attributes?.QueueArn,
                maxReceiveCount: 2,
              }),
            },
          }),
        )
      ).QueueUrl ?? '';
    await send(inbox, JSON.stringify(teamEvent('C')));
    for (let i = 0; i < 3; i++)
      await sqs.send(new ReceiveMessageCommand({ QueueUrl: inbox, VisibilityTimeout: 0 }));
    await send(deadLetters, 'not json{');

    // The sweep's queue: a scheduled invocation its function gave up on.
    const sweep =
      (await sqs.send(new CreateQueueCommand({ QueueName: 'dl-sweep-dead-letters' }))).QueueUrl ??
      '';
    await send(
      sweep,
      JSON.stringify({
        version: '1.0',
        timestamp: '2026-12-01T10:06:00.000Z',
        requestContext: {
          requestId: 'r-2',
          functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:dl-saga-sweep:$LATEST`,
          condition: 'RetriesExhausted',
          approximateInvokeCount: 3,
        },
        requestPayload: {
          version: '0',
          id: 'schedule-1',
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          time: '2026-12-01T10:06:00Z',
          detail: {},
        },
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          functionError: 'Unhandled',
        },
        responsePayload: { errorMessage: 'Task timed out after 60.00 seconds' },
      }),
    );

    sources = {
      eventsTable: TABLES.events,
      failureBucket: BUCKET,
      deadLettersTable: TABLES.deadLetters,
      consumers: { 'read-models': FUNCTIONS.readModels, 'bus-router': FUNCTIONS.busRouter },
      handlers: { [RULE]: { function: FUNCTIONS.metadata, deadLetters } },
      otherQueues: { 'saga-sweep': sweep },
    };
    sourcesFile = tmp.file('sources.json', JSON.stringify(sources));
  }, 120_000);

  afterAll(async () => {
    for (const client of [dynamo, s3, sqs, events]) client?.destroy();
    places?.destroy();
    await moto?.stop();
  });

  it("leaves another consumer's unreadable letter out of --consumer, a bucket object's (whose it is unsaid) in", async () => {
    // Act: the bad message is of the bus rule's queue, the bad object of the bucket.
    const run = await cli(['list', '--consumer', 'read-models']);

    // Assess
    expect(run.code).toBe(3);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([
      'matchstream: 1 dead letter of other consumers could not be read ("matchstream dead-letters list" without --consumer lists them)',
      expect.stringMatching(/^matchstream: s3:\/\/dl-failures\/\S+T10\.03\.00-x: not JSON/),
      'matchstream: 1 dead letter could not be read (listed with why, never redriven)',
    ]);
  });

  it('lists a letter of every place and kind, with ids stable across reads, taking nothing', async () => {
    // Act
    const first = await cli(['list', '--json']);
    const text = await cli(['list']);
    const again = await list();

    // Assess: every letter, the unreadable ones with why (and on standard error).
    const letters = JSON.parse(first.stdout) as Listed[];
    expect(first.code).toBe(3);
    expect(first.stderr).toMatch(
      /dl-metadata-dead-letters message \S+: the message body is not JSON/,
    );
    expect(first.stderr).toMatch(/s3:\/\/dl-failures\/\S+T10\.03\.00-x: not JSON/);
    expect(first.stderr).toContain('matchstream: 2 dead letters could not be read');
    expect(letters.map((l) => l.id).sort()).toEqual(again.map((l) => l.id).sort());
    expect(letters.length).toBe(9);
    const bus = letters.filter((l) => l.consumer === `bus:${RULE}`);
    expect(bus.length).toBe(4);
    expect(byStream(bus, 'team:A')[0]).toMatchObject({
      kind: 'bus-event',
      attempts: 186,
      error: expect.stringContaining('Unable to invoke Lambda function (SDK_CLIENT_ERROR'),
      kept_in: [{ place: 'dead-letter-queue' }],
    });
    expect(byStream(bus, 'team:B')[0]).toMatchObject({
      attempts: 3,
      error: 'the directory is down (Error)',
    });
    expect(byStream(bus, 'team:C')[0]?.error).toMatch(/^gave up after \d+ receives/);
    expect(bus.find((l) => l.events.length === 0)?.events_unknown).toBe(
      'the message body is not JSON',
    );
    expect(byStream(letters, 'match:m1')[0]).toMatchObject({
      consumer: 'read-models',
      kind: 'kinesis-records',
      attempts: 6,
      kept_in: [{ place: 'failure-bucket' }],
    });
    expect(byStream(letters, 'match:bad')[0]?.consumer).toBe('read-models');
    expect(byStream(letters, 'team:P')[0]).toMatchObject({
      consumer: `publish:${BUSES.metadata}`,
      kind: 'put-events-entry',
      kept_in: [{ place: 'dead-letter-table' }],
    });
    expect(letters.find((l) => l.consumer === 'saga-sweep')?.error).toBe(
      'Task timed out after 60.00 seconds',
    );
    expect(text.stdout).toMatch(/^ID +FAILED AT +CONSUMER +ATTEMPTS +EVENTS +ERROR\n/);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('9 dead letters');
    // Nothing was taken: every message is back in the queue, visible.
    expect(await visibleMessages()).toBe(4);
  });

  it('shows one letter whole', async () => {
    const a = byStream(await list(), 'team:A')[0];
    const shown = await cli(['show', a?.id ?? '?']);
    const json = await cli(['show', a?.id ?? '?', '--json']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`id: ${a?.id}\nconsumer: bus:${RULE}\nkind: bus-event\n`);
    expect(shown.stdout).toContain('kept in: dl-metadata-dead-letters message ');
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: a?.id,
      body: {
        message_attributes: { ERROR_CODE: 'SDK_CLIENT_ERROR' },
        body: { source: 'matchstream.metadata' },
      },
    });
    expect(await visibleMessages()).toBe(4);
  });

  it('refuses a --consumer no letter of the stack could name, as on a data folder (exit 2)', async () => {
    const before = await list();
    for (const command of [['list'], ['redrive', '--no-progress']]) {
      const run = await cli([...command, '--consumer', 'bus:metadata-event-handlr']);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('unknown consumer "bus:metadata-event-handlr"');
      expect(run.stderr).toContain(`bus:${RULE}, `);
      expect(run.stderr).toContain('publish:<bus>');
    }
    // The stack's names, and a publish of a bus of its own (none kept), are taken (exit 3: the
    // stack keeps letters that cannot be read).
    const handler = await cli(['list', '--json', '--consumer', `bus:${RULE}`]);
    expect(handler.code).toBe(3);
    expect((JSON.parse(handler.stdout) as Listed[]).length).toBeGreaterThan(0);
    const publish = await cli(['list', '--consumer', 'publish:dl-soccer']);
    expect([publish.code, publish.stdout]).toEqual([3, 'no dead letters\n']);
    expect(steady(await list())).toEqual(steady(before));
    expect(await visibleMessages()).toBe(4);
  });

  it('names an id no letter has, pointing at the list of the same stack, not of a data folder', async () => {
    const lister = `matchstream dead-letters list --aws --sources ${sourcesFile} --endpoint ${moto.endpoint}`;
    const shown = await cli(['show', 'abcabcabcabc']);
    const redriven = await cli(['redrive', '--no-progress', '--ids', 'abcabcabcabc']);

    expect([shown.code, shown.stdout]).toEqual([1, '']);
    expect(shown.stderr).toBe(
      `matchstream: no dead letter abcabcabcabc in the places of ${sourcesFile} (redriven, expired, or never there; "${lister}" lists them)\n`,
    );
    expect(redriven.code).toBe(1);
    expect(redriven.stderr).toContain(
      `matchstream: no dead letter abcabcabcabc ("${lister}" lists them); nothing was redriven\n`,
    );
    expect(await visibleMessages()).toBe(4);
  });

  it('a dry run says what it would do and changes nothing', async () => {
    const before = await list();
    const { run, summary } = await redrive('--dry-run');
    expect(run.code).toBe(0);
    expect(summary).toMatchObject({ dry_run: true, letters: 9 });
    expect(summary.redriven.map((r) => r.through).sort()).toEqual([
      `PutEvents onto ${BUSES.metadata}`,
      'read-models',
      `the ${RULE} handler`,
      `the ${RULE} handler`,
      `the ${RULE} handler`,
    ]);
    expect(summary.still_failing.map((f) => f.consumer)).toEqual(['read-models']);
    expect(steady(await list())).toEqual(steady(before));
    expect(await visibleMessages()).toBe(4);
    expect(
      await matchesOfSeason(
        new DynamoDocumentStore(dynamo, READ_MODEL_TABLES.matches ?? ''),
        '2026',
      ),
    ).toEqual([]);
  });

  it('applies what goes through and removes it; keeps what fails again with the new reason', async () => {
    // Prepare
    const before = await list();
    const bad = byStream(before, 'match:bad')[0];

    // Act: the team directory is still missing.
    const { run, summary } = await redrive();
    const after = await list();

    // Assess
    expect(run.code).toBe(3);
    expect(summary.redriven.map((r) => [r.consumer, r.events]).sort()).toEqual([
      [`publish:${BUSES.metadata}`, 1],
      ['read-models', 1],
    ]);
    expect(summary.still_failing.map((f) => f.consumer).sort()).toEqual([
      `bus:${RULE}`,
      `bus:${RULE}`,
      `bus:${RULE}`,
      'read-models',
    ]);
    expect(summary.still_failing.find((f) => f.consumer === 'read-models')?.error).toMatch(
      /CORRUPT_DATA|cannot decode/,
    );
    expect(summary.still_failing.find((f) => f.consumer === `bus:${RULE}`)?.error).toMatch(
      /dl-directory|non-existent table|resource not found/i,
    );
    expect(summary.skipped.map((s) => [s.consumer, s.removed]).sort()).toEqual([
      ['?', false],
      [`bus:${RULE}`, false],
      ['saga-sweep', false],
    ]);
    expect(summary.skipped.find((s) => s.consumer === 'saga-sweep')?.why).toMatch(
      /scheduled invocation/,
    );
    // m1 applied through the read-models consumer, its record deleted; P published.
    expect(
      await matchesOfSeason(
        new DynamoDocumentStore(dynamo, READ_MODEL_TABLES.matches ?? ''),
        '2026',
      ),
    ).toMatchObject([{ match_id: 'm1' }]);
    const arrived = await drainQueue<{ detail: { aggregate_id: string } }>(sqs, metadataBusQueue, {
      count: 1,
    });
    expect(arrived.map((e) => e.detail.aggregate_id)).toEqual(['team:P']);
    expect(after.map((l) => l.id).sort()).toEqual(
      before
        .filter((l) => !summary.redriven.some((r) => r.id === l.id))
        .map((l) => l.id)
        .sort(),
    );
    // The corrupt commit's record rewritten with the new reason; the queue's messages kept.
    const kept = after.find((l) => l.id === bad?.id);
    expect(kept?.attempts).toBe((bad?.attempts ?? 0) + 1);
    expect(kept?.error).toMatch(/CORRUPT_DATA|cannot decode/);
    const key = kept?.kept_in[0]?.where.slice(`s3://${BUCKET}/`.length) ?? '';
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(JSON.parse((await object.Body?.transformToString()) ?? '{}')).toMatchObject({
      redrive: { attempts: (bad?.attempts ?? 0) + 1 },
    });
    expect(await visibleMessages()).toBe(4);
  });

  it('sends the handler letters through once the fix is in; redriving again changes nothing more', async () => {
    // Prepare: the team directory made.
    await DynamoDocumentStore.open(dynamo, SAGA_TABLES.directory);
    const before = await list();

    // Act
    const first = await redrive('--consumer', `bus:${RULE}`);
    const teams = await Promise.all(['A', 'B', 'C'].map((t) => getTeam(directory(), t)));
    // Again, with the same event dead-lettered once more (a later delivery that failed): what
    // was redriven is gone, and the repeat is applied again to the same effect.
    await send(deadLetters, JSON.stringify(teamEvent('A')), {
      ERROR_CODE: 'SDK_CLIENT_ERROR',
      ERROR_MESSAGE: 'Unable to invoke Lambda function',
    });
    const again = await redrive('--consumer', `bus:${RULE}`);
    const after = await list();

    // Assess
    expect(first.run.code).toBe(3); // the unreadable one is kept
    expect(first.summary.redriven.map((r) => r.events)).toEqual([1, 1, 1]);
    expect(first.summary.skipped.map((s) => s.why)).toEqual(['the message body is not JSON']);
    expect(teams.map((t) => t?.name)).toEqual(['A', 'B', 'C']);
    expect(again.summary).toMatchObject({ letters: 2, still_failing: [] });
    expect(again.summary.redriven).toEqual([
      expect.objectContaining({ consumer: `bus:${RULE}`, events: 1 }),
    ]);
    expect(await Promise.all(['A', 'B', 'C'].map((t) => getTeam(directory(), t)))).toEqual(teams);
    expect(after.length).toBe(before.length - 3);
    expect(after.filter((l) => l.consumer === `bus:${RULE}`).map((l) => l.events_unknown)).toEqual([
      'the message body is not JSON',
    ]);
    expect(await visibleMessages()).toBe(1);
  });

  it('removes a consumer letter whose events were applied meanwhile', async () => {
    await givenUp(
      codec.build('match:m1', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('m1') }]),
      7,
    );
    const { summary } = await redrive('--consumer', 'read-models');
    // A stream's first event leaves no read-models position (its read models ignore a
    // repeat), so the letter cannot be told applied: its event is applied again, changing
    // nothing, and the letter removed as redriven. (A letter of a later event is skipped as
    // already applied: the embedded runtime's redrive test.)
    expect(summary.skipped).toEqual([]);
    expect(summary.redriven).toEqual([
      expect.objectContaining({ consumer: 'read-models', events: 1 }),
    ]);
    expect(summary.still_failing.length).toBe(1); // the corrupt commit, still
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(Contents.length).toBe(2); // the corrupt commit's record and the unreadable object
  });

  it('reads the places from the stack output, and says in one line what is wrong', async () => {
    // Prepare: a stack with the output, and one deployed before it existed.
    const cloudFormation = new CloudFormationClient(clientConfig({ endpoint: moto.endpoint }));
    const template = (outputs: object) =>
      JSON.stringify({
        Resources: { Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
        Outputs: outputs,
      });
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'dl-stack',
        TemplateBody: template({ DeadLetterSources: { Value: JSON.stringify(sources) } }),
      }),
    );
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'dl-old-stack',
        TemplateBody: template({ Other: { Value: 'x' } }),
      }),
    );
    cloudFormation.destroy();
    const aws = ['--aws', '--endpoint', moto.endpoint];

    // Act
    const viaStack = await runCli([
      'dead-letters',
      'list',
      '--json',
      ...aws,
      '--stack',
      'dl-stack',
    ]);
    // These read no queue but one (`show` of an id no letter has): run side by side.
    const [missing, old, none, notJson, bare, stray] = await Promise.all([
      cli(['show', '000000000000']),
      runCli(['dead-letters', 'list', ...aws, '--stack', 'dl-old-stack']),
      runCli(['dead-letters', 'list', ...aws, '--stack', 'dl-no-such-stack']),
      runCli([
        'dead-letters',
        'list',
        ...aws,
        '--sources',
        tmp.file('bad.json', '{"eventsTable": '),
      ]),
      runCli(['dead-letters', 'list', '--aws']),
      runCli(['dead-letters', 'list', '--stack', 'dl-stack']),
    ]);
    const noQueue = await runCli([
      'dead-letters',
      'list',
      ...aws,
      '--sources',
      tmp.file(
        'gone.json',
        JSON.stringify({
          ...sources,
          otherQueues: { 'saga-sweep': `${moto.endpoint}/${ACCOUNT}/gone` },
        }),
      ),
    ]);
    const noTable = await runCli([
      'dead-letters',
      'list',
      ...aws,
      '--sources',
      tmp.file('no-table.json', JSON.stringify({ ...sources, deadLettersTable: 'dl-gone' })),
    ]);

    // Assess
    expect(viaStack.code).toBe(3);
    expect((JSON.parse(viaStack.stdout) as Listed[]).length).toBe((await list()).length);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^matchstream: no dead letter 000000000000 in the places of .*sources\.json/,
    );
    expect([old.code, old.stderr]).toEqual([
      1,
      'matchstream: the stack dl-old-stack has no output DeadLetterSources (deployed by an older version: deploy it again, or give --sources FILE)\n',
    ]);
    expect(none.code).toBe(1);
    // DescribeStacks answers a stack that is not there with a ValidationError
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
    expect(none.stderr).toBe(
      `matchstream: no stack "dl-no-such-stack" in ${process.env.AWS_REGION ?? 'us-east-1'}: give the name of the deployed stack with --stack (and its region with AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config), or its DeadLetterSources output with --sources FILE\n`,
    );
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^matchstream: .*bad\.json: DeadLetterSources: not JSON/);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--aws takes --stack NAME');
    expect(stray.code).toBe(2);
    expect(noQueue.code).toBe(1);
    // DynamoDB answers a table that is not there with ResourceNotFoundException, "Requested
    // resource not found" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html).
    expect([noTable.code, noTable.stdout]).toEqual([1, '']);
    expect(noTable.stderr).toBe(
      `matchstream: the table dl-gone is not there in ${process.env.AWS_REGION ?? 'us-east-1'}: check the places DeadLetterSources names (--stack NAME, the deployed stack's output, or --sources FILE) and the stack's region (AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config)\n`,
    );
    // SQS answers a queue that is not there with QueueDoesNotExist
    // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
    expect(noQueue.stderr).toBe(
      `matchstream: the queue gone is not there in ${process.env.AWS_REGION ?? 'us-east-1'}: check the places DeadLetterSources names (--stack NAME, the deployed stack's output, or --sources FILE) and the stack's region (AWS_REGION, or the region of your profile in the shared config file, ~/.aws/config)\n`,
    );
    // The failed read let go of what it held: every message is visible.
    expect(await visibleMessages()).toBe(1);
  });
});
