import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import {
  GetAliasCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../infra/buildApp.js';
import { seasonOfStream } from '../../../ingest/seasons.js';
import {
  activeReadModelStores,
  generationFeederHandler,
} from '../../../pipeline/aws/generations.js';
import {
  COMPARE_SEGMENTS,
  type CompareSegmentInput,
  rebuildControl,
} from '../../../pipeline/aws/rebuildControl.js';
import { rebuildFileHandlers } from '../../../pipeline/aws/rebuildFiles.js';
import { segmentComparison } from '../../../pipeline/compareTables.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { Projector } from '../../../projections/Projector.js';
import { ReadModelRegistry } from '../../../projections/ReadModelRegistry.js';
import { standingsProjection } from '../../../projections/readModels/standings.js';
import { FolderStorage, S3Storage } from '../../../stream/archive/ArchiveStorage.js';
import { expireSeason } from '../../../stream/archive/expireSeason.js';
import { APPEND_LANDS_WITHIN_MS, exportTableLocally } from '../../../stream/archive/exportTable.js';
import { clientConfig } from '../../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { s3Client } from '../../../stream/aws/s3InvocationRecords.js';
import {
  BREAKERS_TABLE,
  DynamoBreakerStateStore,
} from '../../../stream/breaker/BreakerStateStore.js';
import type { DependencyUnavailable } from '../../../stream/breaker/DependencyUnavailable.js';
import { DEAD_LETTERS_TABLE } from '../../../stream/consumer/DeadLetterQueue.js';
import { POSITIONS_TABLE } from '../../../stream/consumer/DynamoPositionStore.js';
import type { KinesisStreamRecord } from '../../../stream/consumer/kinesisEvent.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { fromItem } from '../../../stream/eventStore/commitItem.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { ensureRuntimeTables } from '../../../stream/local/localTables.js';
import { definitionOf, runDefinition } from '../../support/aslRunner.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { createMotoFunction } from '../../support/motoFunction.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { uploadArchive } from '../../support/s3Archive.js';
import { tempDir } from '../../support/tempDir.js';

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template
type Json = any;

const BUCKET = 'archive';
const REGISTRY = 'registry';
const PREFIX = 'matchstream-test-rm-';
const FIRST = Object.fromEntries(READ_MODELS.map((p) => [p.name, `stack-rm-${p.name}`]));

// The rebuild state machine as the stack synthesizes it, each Task running this project's
// handler code against moto_server (DynamoDB, S3, Lambda, CloudWatch, Kinesis): moto runs no
// Lambda functions, so `runDefinition` walks the definition and calls the handlers in
// process. What the mappings it creates would then invoke, the generation feeder, is called
// here with Kinesis records as Lambda would pass them.
describe.runIf(motoAvailable())('the rebuild state machine on moto_server', () => {
  let moto: Moto;
  let dynamo: DynamoDBClient;
  let s3: S3Client;
  let lambda: LambdaClient;
  let cloudWatch: CloudWatchClient;
  let store: DynamoEventStore;
  let definition: Json;
  let controlEnvKeys: string[];
  let feederEnvKeys: string[];
  let env: Record<string, string>;
  /** The feeder's environment, as the stack gives it (the settings it shares with the control). */
  let feederEnv: Record<string, string>;
  let clock = Date.now();
  const folder = tempDir('rebuild-aws-');

  beforeAll(async () => {
    moto = await startMoto();
    // The deployed code makes some clients itself (the archive reader of the feeder's event
    // store): the environment points them at moto, as Lambda's points them at AWS.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: moto.endpoint,
    });
    dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    s3 = s3Client({ endpoint: moto.endpoint });
    lambda = new LambdaClient(clientConfig({ endpoint: moto.endpoint }));
    cloudWatch = new CloudWatchClient(clientConfig({ endpoint: moto.endpoint }));
    const kinesis = new KinesisClient(clientConfig({ endpoint: moto.endpoint }));
    await Promise.all([
      ensureEventsTable(dynamo, 'events'),
      ensureRuntimeTables(dynamo),
      DynamoDocumentStore.open(dynamo, REGISTRY),
      ...Object.values(FIRST).map((t) => DynamoDocumentStore.open(dynamo, t)),
      s3.send(new CreateBucketCommand({ Bucket: BUCKET })),
      kinesis.send(new CreateStreamCommand({ StreamName: 'changes', ShardCount: 1 })),
    ]);
    await dynamo.send(
      new UpdateContinuousBackupsCommand({
        TableName: 'events',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: 'changes' }),
    );
    kinesis.destroy();
    // The feeder, whose aliases and mappings the run makes.
    await createMotoFunction(moto.endpoint, lambda, 'feeder');

    // The live generation: what the read-models consumer built from the events.
    store = new DynamoEventStore({ client: dynamo, table: 'events', registry });
    for (let i = 1; i <= 9; i++) {
      const id = `match:2026-${i}`;
      await store.append(id, 0, [
        { event_type: 'MatchRecorded', data: matchRecorded(id, i % 3, 1) },
      ]);
      if (i % 3 === 0)
        await store.append(id, 1, [{ event_type: 'MatchRecorded', data: matchRecorded(id, 1, 1) }]);
    }
    const live = new Projector(
      standingsProjection,
      new DynamoDocumentStore(dynamo, FIRST.standings as string),
    );
    for await (const batch of store.readAll()) await live.apply(batch);
    // The archive: an export in DynamoDB's layout, in the bucket, a minute old.
    const local = new FolderStorage(folder.dir);
    await exportTableLocally({ client: dynamo, table: 'events', storage: local, prefix: 'events' });
    await uploadArchive(local, s3, BUCKET);

    // The state machine and the control function's environment, as the stack synthesizes them.
    const { app, stack } = buildApp(
      { stage: 'test', 'aws:cdk:bundling-stacks': [] },
      folder.path('cdk.out'),
    );
    const template = app.synth().getStackByName(stack.stackName).template;
    const [machineId] = Object.entries(template.Resources as Json).find(
      ([, r]: [string, Json]) => r.Type === 'AWS::StepFunctions::StateMachine',
    ) as [string, Json];
    definition = definitionOf(template, machineId);
    const control = Object.values(template.Resources as Json).find(
      (r: Json) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties.Environment?.Variables?.FEEDER_FUNCTION !== undefined,
    ) as Json;
    controlEnvKeys = Object.keys(control.Properties.Environment.Variables)
      .filter((k) => !k.startsWith('POWERTOOLS_'))
      .sort();
    const [, feeder] = Object.entries(template.Resources as Json).find(
      ([id, r]: [string, Json]) =>
        r.Type === 'AWS::Lambda::Function' && id.startsWith('RebuildFeederFunction'),
    ) as [string, Json];
    feederEnvKeys = Object.keys(feeder.Properties.Environment.Variables)
      .filter((k) => !k.startsWith('POWERTOOLS_'))
      .sort();
    env = {
      EVENTS_TABLE: 'events',
      POSITIONS_TABLE,
      DEAD_LETTERS_TABLE,
      REGISTRY_TABLE: REGISTRY,
      READ_MODEL_TABLES: JSON.stringify(FIRST),
      STAGE: 'test',
      RM_TABLE_PREFIX: PREFIX,
      KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
      ARCHIVE_BUCKET: BUCKET,
      FEEDER_FUNCTION: 'feeder',
      STREAM_ARN: StreamDescriptionSummary?.StreamARN ?? '',
      STREAM_RETENTION_HOURS: '24',
      FAILURE_BUCKET_ARN: 'arn:aws:s3:::failures',
      FEED_SETTINGS: JSON.stringify(
        JSON.parse(control.Properties.Environment.Variables.FEED_SETTINGS),
      ),
    };
    feederEnv = {
      EVENTS_TABLE: 'events',
      POSITIONS_TABLE,
      DEAD_LETTERS_TABLE,
      REGISTRY_TABLE: REGISTRY,
      READ_MODEL_TABLES: JSON.stringify(FIRST),
      ARCHIVE_BUCKET: BUCKET,
      BREAKERS_TABLE,
    };
  }, 180_000);

  afterAll(async () => {
    for (const c of [dynamo, s3, lambda, cloudWatch]) c?.destroy();
    await moto?.stop();
  });

  /**
   * What the stream holds after the archive's end: while the run waits for its catch-up, each
   * generation's mapping (once the run has made it) hands these to the feeder.
   */
  const streamTail: KinesisStreamRecord[] = [];
  const fed = new Set<string>();
  const deliverTail = async () => {
    for (const generation of [2, 3, 4, 5, 6]) {
      const alias = `standings-g${generation}`;
      if (fed.has(alias)) continue;
      const aliasArn = `arn:aws:lambda:us-east-1:123456789012:function:feeder:${alias}`;
      const { EventSourceMappings } = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: aliasArn }),
      );
      if (!EventSourceMappings?.length) continue;
      fed.add(alias);
      const handler = await generationFeederHandler(feederEnv, dynamo, {
        projection: 'standings',
        generation,
      });
      if (streamTail.length > 0) await handler({ Records: [...streamTail] });
    }
  };

  const run = (
    request: Json,
    trace: string[] = [],
    parts: {
      compareBudgetMs?: number;
      comparePageItems?: number;
      fileBudgetMs?: number;
      filePageItems?: number;
      deferredBudgetMs?: number;
      deferredChunk?: number;
    } = {},
  ) => {
    const { fileBudgetMs, filePageItems, ...comparing } = parts;
    const clients = {
      dynamo,
      s3,
      lambda,
      cloudWatch,
      now: () => clock,
      sleep: async () => {},
      ...comparing,
    };
    const control = rebuildControl(env, clients);
    const files = rebuildFileHandlers(env, {
      dynamo,
      s3,
      now: () => clock,
      ...(fileBudgetMs === undefined ? {} : { fileBudgetMs }),
      ...(filePageItems === undefined ? {} : { filePageItems }),
    });
    const functionId = (prefix: string) =>
      Object.keys(functionsOf(definition)).find((id) => id.startsWith(prefix)) as string;
    // Started as `rebuild --aws` starts it: the request alone; the name is the execution's.
    return runDefinition(definition, request, {
      execution: `standings-${clock}`,
      functions: {
        [functionId('RebuildControlFunction')]: (input) => control(input),
        [functionId('RebuildFilesFunction')]: (input) => files.file(input),
      },
      s3,
      buckets: { [archiveRef(definition)]: BUCKET },
      onWait: async (seconds) => {
        clock += seconds * 1000;
        await deliverTail();
      },
      trace,
    });
  };

  it('is given by the stack every setting the control step and the feeder read', () => {
    expect(controlEnvKeys).toEqual(Object.keys(env).sort());
    expect(feederEnvKeys).toEqual(Object.keys(feederEnv).sort());
  });

  it('builds a new generation from the archive, feeds it from the chain end, compares it and switches', async () => {
    // Act
    const trace: string[] = [];
    const summary = await run({ projection: 'standings' }, trace);

    // Assess: the steps ran in order, each export's files by the map, no export was needed;
    // the comparison one pass of its map (every live segment looked up, every rebuilt one
    // counted, each in one call), no second pass, since the rebuilt table held no extras.
    const inner = new Set([
      'CompareSegment',
      'SegmentDone?',
      'SegmentCompared',
      'FileDone?',
      'FileApplied',
    ]);
    expect(
      trace.filter(
        (s) => s !== 'WaitForCatchUp' && s !== 'CatchUp' && s !== 'CaughtUp?' && !inner.has(s),
      ),
    ).toEqual([
      'Prepare',
      'ExportDone?',
      'ListFiles',
      'ApplyFiles',
      ...Array(4).fill('ApplyFile'),
      'ApplyDeferredStreams',
      'DeferredDone?',
      'MoreExports?',
      'Feed',
      'Verify',
      'CompareMore?',
      'CompareSegments',
      'Verify',
      'CompareMore?',
      'Switch',
      'Done',
    ]);
    expect(trace.filter((s) => s === 'CompareSegment')).toHaveLength(2 * COMPARE_SEGMENTS);
    expect(trace.filter((s) => s === 'SegmentCompared')).toHaveLength(2 * COMPARE_SEGMENTS);
    expect(summary).toMatchObject({
      projection: 'standings',
      source: 'archive',
      generation: 2,
      table: `${PREFIX}standings-v${standingsProjection.version}-g2`,
      previous_generation: 1,
      completed: true,
      switched: true,
      events: 12,
      scanned: 12,
      differences: 0,
      fault: false,
    });
    expect(summary.exports).toHaveLength(1);
    // The active generation was a new table's: so is the new one, with nothing pre-warmed.
    expect(summary.warm_throughput).toEqual({ reads: 12_000, writes: 4_000 });
    // The local rebuild's keys, and the table's warm throughput.
    expect(Object.keys(summary).sort()).toEqual(
      [
        'warm_throughput',
        'projection',
        'source',
        'exports',
        'deferred_streams',
        'expired_streams',
        'generation',
        'table',
        'previous_generation',
        'projection_version',
        'previous_version',
        'resumed',
        'completed',
        'switched',
        'events',
        'scanned',
        'replay_seconds',
        'scanned_per_second',
        'seconds',
        'events_per_second',
        'unreadable',
        'flushes',
        'peak_folded_mb',
        'caught_up',
        'differences',
        'difference_samples',
        'fault',
      ].sort(),
    );
    const entry = await new ReadModelRegistry(new DynamoDocumentStore(dynamo, REGISTRY)).entry(
      standingsProjection,
    );
    expect(entry.active).toBe(2);
    // The generation's own mapping, on its alias, from the instant the archive ends.
    const alias = await lambda.send(
      new GetAliasCommand({ FunctionName: 'feeder', Name: 'standings-g2' }),
    );
    const { EventSourceMappings } = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: alias.AliasArn }),
    );
    expect(EventSourceMappings).toHaveLength(1);
    expect(EventSourceMappings?.[0]).toMatchObject({
      EventSourceArn: env.STREAM_ARN,
      StartingPosition: 'AT_TIMESTAMP',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  }, 120_000);

  it('feeds the switched generation through its alias, and the readers follow the switch', async () => {
    // Prepare: a result appended after the export, as its change record reaches the mapping.
    const appended = await store.append('match:2026-10', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('match:2026-10', 4, 0) },
    ]);
    const { Item } = await dynamo.send(
      new GetItemCommand({
        TableName: 'events',
        Key: { aggregate_id: { S: 'match:2026-10' }, sequence: { N: '1' } },
      }),
    );
    const record = kinesisRecordOf(fromItem(Item ?? {}, 'events'));
    streamTail.push(record);
    const handler = await generationFeederHandler(feederEnv, dynamo, {
      projection: 'standings',
      generation: 2,
    });

    // Act
    const response = await handler({ Records: [record] });

    // Assess: applied to generation 2, which the readers read now.
    expect(appended.version).toBe(1);
    expect(response.batchItemFailures).toEqual([]);
    const reader = activeReadModelStores(env, dynamo).get('standings');
    const target = await reader?.target();
    expect((target as DynamoDocumentStore).table).toBe(
      `${PREFIX}standings-v${standingsProjection.version}-g2`,
    );
    const expected = new Projector(
      standingsProjection,
      new DynamoDocumentStore(dynamo, FIRST.standings as string),
    );
    await expected.apply(appended.events);
    const docs = async (table: string) => {
      const out: Json[] = [];
      for await (const page of new DynamoDocumentStore(dynamo, table).scanAll()) out.push(...page);
      return out.sort((a, b) => `${a.pk}/${a.sk}`.localeCompare(`${b.pk}/${b.sk}`));
    };
    expect(await docs(`${PREFIX}standings-v${standingsProjection.version}-g2`)).toEqual(
      await docs(FIRST.standings as string),
    );
  }, 60_000);

  it('keeps the active generation when the new one differs from it although the same version built both', async () => {
    // Prepare: in the live generation (now generation 2), a document lost (extra in the new
    // one), one changed, and one the rebuild will not make (missing from the new one).
    const liveTable = `${PREFIX}standings-v${standingsProjection.version}-g2`;
    const liveStore = new DynamoDocumentStore(dynamo, liveTable);
    const [first, second] = await collect(liveStore);
    await liveStore.write(
      [
        { pk: second.pk, sk: second.sk, doc: { changed: true } },
        { pk: 'only-live', sk: 'x', doc: { n: 1 } },
      ],
      [{ pk: first.pk, sk: first.sk }],
    );

    // Act: every call on a data file one page of two items, and of the comparison one page of
    // one item, so each file and each segment takes calls.
    const trace: string[] = [];
    const summary = await run({ projection: 'standings' }, trace, {
      compareBudgetMs: 0,
      comparePageItems: 1,
      fileBudgetMs: 0,
      filePageItems: 2,
    });

    // Assess: a second pass named the extra; the segments went on over several calls each.
    expect(summary).toMatchObject({ generation: 3, switched: false, fault: true, differences: 3 });
    const sorted = (list: Json[]) => [...list].sort((a, b) => (a.kind < b.kind ? -1 : 1));
    expect(sorted(summary.difference_samples)).toEqual([
      { pk: second.pk, sk: second.sk, kind: 'changed' },
      { pk: first.pk, sk: first.sk, kind: 'extra' },
      { pk: 'only-live', sk: 'x', kind: 'missing' },
    ]);
    // The files were applied in parts (a call stopping before its page's last stream, which
    // the next call takes whole), every event once, and built the same generation: the
    // differences are those made above, no more.
    expect(summary).toMatchObject({ events: 12, scanned: 12, deferred_streams: 0 });
    expect(trace.filter((s) => s === 'FileApplied')).toHaveLength(4);
    expect(trace.filter((s) => s === 'ApplyFile').length).toBeGreaterThan(4);
    expect(trace.filter((s) => s === 'CompareSegments')).toHaveLength(2);
    expect(trace.filter((s) => s === 'SegmentCompared')).toHaveLength(3 * COMPARE_SEGMENTS);
    const documents = (await collect(liveStore)).length;
    // Each segment's pass: a call per page of one item, and one more that finds no next page.
    expect(trace.filter((s) => s === 'CompareSegment').length).toBeGreaterThan(
      3 * COMPARE_SEGMENTS + documents,
    );
    const entry = await new ReadModelRegistry(new DynamoDocumentStore(dynamo, REGISTRY)).entry(
      standingsProjection,
    );
    expect(entry.active).toBe(2);
    expect(entry.generations.find((g) => g.generation === 3)?.status).toBe('live');
  }, 120_000);

  it('refuses a comparison map iteration whose segment is not one the verify step lists, naming what is wrong', async () => {
    const control = rebuildControl(env, { dynamo, s3, lambda, cloudWatch });
    const table = FIRST.standings as string;
    const good = segmentComparison('live', { live: table, rebuilt: table }, 0, 16, 63);
    const refused = (segment: unknown) =>
      control({ action: 'compareSegment', segment } as CompareSegmentInput).then(
        () => 'accepted',
        (e: Error) => e.message,
      );

    expect(await refused(undefined)).toMatch(/"segment" is missing or not an object/);
    expect(await refused({ ...good, pass: 'all' })).toMatch(
      /has pass "all", not live, count or extras/,
    );
    expect(await refused({ ...good, segment: 16 })).toMatch(/has segment 16 of 16/);
    expect(await refused({ ...good, rebuilt: '' })).toMatch(/names no live or rebuilt table/);
    expect(await refused({ ...good, scanned: -1 })).toMatch(/has scanned -1/);
    // The good one compares the table with itself: every document found, none differing.
    const done = await control({ action: 'compareSegment', segment: good } as CompareSegmentInput);
    expect(done).toMatchObject({ done: true, calls: 1, count: 0 });
  });

  it('fails a run whose export DynamoDB would refuse, switching nothing, and says why', async () => {
    // Prepare: the archive's chain is hours old, so the run asks for an incremental export
    // from its end, before point-in-time recovery (turned on after the events) reaches back.
    clock += 2 * 3_600_000;

    // Act + Assess
    await expect(run({ projection: 'standings' })).rejects.toThrow(
      /point-in-time recovery of table events reaches back to .* only, not to .* where the incremental export would start: take a full export instead/,
    );
    const entry = await new ReadModelRegistry(new DynamoDocumentStore(dynamo, REGISTRY)).entry(
      standingsProjection,
    );
    expect(entry.active).toBe(2);
    expect(entry.generations.find((g) => g.generation === 4)?.status).toBe('building');
  }, 120_000);

  it('continues, in a new run, the generation a failed run left building', async () => {
    // Prepare: a fresh export in the archive (the cause of the failure fixed).
    const local = new FolderStorage(folder.dir);
    await exportTableLocally({ client: dynamo, table: 'events', storage: local, prefix: 'events' });
    await uploadArchive(local, s3, BUCKET);
    clock = Date.now();

    // Act: not compared (the active generation lost a document above), switched.
    const summary = await run({ projection: 'standings', verify: false });

    // Assess
    expect(summary).toMatchObject({
      generation: 4,
      resumed: true,
      switched: true,
      differences: null,
      events: 13,
    });
    const entry = await new ReadModelRegistry(new DynamoDocumentStore(dynamo, REGISTRY)).entry(
      standingsProjection,
    );
    expect(entry.active).toBe(4);
    expect(await collect(new DynamoDocumentStore(dynamo, summary.table))).toEqual(
      await collect(new DynamoDocumentStore(dynamo, FIRST.standings as string)),
    );
  }, 120_000);

  it("makes the new generation's table as warm as the active one's, and warmer when asked", async () => {
    // Prepare: the active generation of `teams` (the stack's table) grown by its use to
    // 30,000 reads a second, as DescribeTable reports a table DynamoDB has scaled.
    await dynamo.send(
      new UpdateTableCommand({
        TableName: FIRST.teams,
        WarmThroughput: { ReadUnitsPerSecond: 30_000, WriteUnitsPerSecond: 4_000 },
      }),
    );
    const control = rebuildControl(env, { dynamo, s3, lambda, cloudWatch, now: () => clock });
    const table = `${PREFIX}teams-v${READ_MODELS.find((p) => p.name === 'teams')?.version}-g2`;
    const warmth = async () =>
      (await dynamo.send(new DescribeTableCommand({ TableName: table }))).Table?.WarmThroughput;

    // Act: the first step of a run, as the state machine calls it.
    const prepared = await control({
      action: 'prepare',
      run: { projection: 'teams' },
      execution: 'teams-warm-1',
    });

    // Assess
    expect(prepared.generation).toEqual({ generation: 2, table });
    expect(prepared.warm_throughput).toEqual({ reads: 30_000, writes: 4_000 });
    expect(await warmth()).toMatchObject({
      ReadUnitsPerSecond: 30_000,
      WriteUnitsPerSecond: 4_000,
    });

    // Act: a run that continues the generation and asks for 40,000 writes a second.
    const resumed = await control({
      action: 'prepare',
      run: { projection: 'teams', warm: { writes: 40_000 } },
      execution: 'teams-warm-2',
    });

    // Assess: the table found made is raised, its reads kept.
    expect(resumed).toMatchObject({ resumed: true, generation: { generation: 2, table } });
    expect(resumed.warm_throughput).toEqual({ reads: 30_000, writes: 40_000 });
    expect(await warmth()).toMatchObject({
      ReadUnitsPerSecond: 30_000,
      WriteUnitsPerSecond: 40_000,
    });

    // Act: a third run asks for more while DynamoDB still warms the table (as DescribeTable
    // reports it here: moto finishes at once), which takes no other request meanwhile.
    const updates: string[] = [];
    const warming = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    warming.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateTableCommand') updates.push(table);
        const out = await next(args);
        const described = (out.output as Json).Table;
        if (context.commandName === 'DescribeTableCommand' && described?.TableName === table)
          described.WarmThroughput = { ...described.WarmThroughput, Status: 'UPDATING' };
        return out;
      },
      { step: 'initialize' },
    );
    const third = await rebuildControl(env, {
      dynamo: warming,
      s3,
      lambda,
      cloudWatch,
      now: () => clock,
    })({
      action: 'prepare',
      run: { projection: 'teams', warm: { writes: 60_000 } },
      execution: 'teams-warm-3',
    });
    warming.destroy();

    // Assess: no update sent; the run goes on at what the table has.
    expect(updates).toEqual([]);
    expect(third.warm_throughput).toEqual({ reads: 30_000, writes: 40_000 });

    // A request that is not whole units a second is refused before anything is made.
    for (const warm of [{ writes: 0 }, { writes: 2.5 }, { writes: '40000' }, { write: 9 }, [1]])
      await expect(
        control({
          action: 'prepare',
          run: { projection: 'teams', warm } as Json,
          execution: 'teams-warm-4',
        }),
      ).rejects.toThrow(/"warm(\.writes)?" (must|has)/);
  }, 120_000);

  it("holds a batch while the generation's table is out, and applies it once the table answers again", async () => {
    // Prepare: two results after the archive, for the active generation (4, from the run
    // above), whose table then goes out (503 on every call, the SDK not retrying).
    const table = `${PREFIX}standings-v${standingsProjection.version}-g4`;
    const before = await collect(new DynamoDocumentStore(dynamo, table));
    const appended = [];
    const records: KinesisStreamRecord[] = [];
    for (const id of ['match:2026-11', 'match:2026-12']) {
      appended.push(
        ...(
          await store.append(id, 0, [
            { event_type: 'MatchRecorded', data: matchRecorded(id, 2, 2) },
          ])
        ).events,
      );
      const { Item } = await dynamo.send(
        new GetItemCommand({
          TableName: 'events',
          Key: { aggregate_id: { S: id }, sequence: { N: '1' } },
        }),
      );
      records.push(kinesisRecordOf(fromItem(Item ?? {}, 'events')));
    }
    const first = records[0]?.kinesis.sequenceNumber;
    const outage = { down: false, calls: 0 };
    const out = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 1 });
    failWhileDown(out, table, outage);
    const held: DependencyUnavailable[] = [];
    let remaining = 0;
    const observer = {
      held: (h: DependencyUnavailable) => held.push(h),
      remainingMs: () => remaining,
    };
    const target = { projection: 'standings', generation: 4 };
    const handler = await generationFeederHandler(feederEnv, out, target, observer);
    const breaker = 'read-model:standings:g4/read-model-tables';

    // Act 1: the table out, no time to wait in the invocation.
    outage.down = true;
    let failures = 0;
    let heldBack: Awaited<ReturnType<typeof handler>> | undefined;
    while (!heldBack && failures < 3) {
      try {
        heldBack = await handler({ Records: records });
      } catch {
        failures++; // a failure before the breaker opens (it opens at the second in a row)
      }
    }
    // Another instance of the feeder, once the opening is shared, holds without a call.
    const shared = new DynamoBreakerStateStore(dynamo, BREAKERS_TABLE);
    for (let looks = 0; looks < 50 && (await shared.get(breaker))?.state !== 'open'; looks++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const callsBefore = outage.calls;
    const other = await generationFeederHandler(feederEnv, out, target, observer);
    const heldByOther = await other({ Records: records });
    const callsByOther = outage.calls - callsBefore;
    const whileOut = await collect(new DynamoDocumentStore(dynamo, table));

    // Act 2: the table back, time enough to wait for the trial within the invocation.
    outage.down = false;
    remaining = 60_000;
    const applied = await handler({ Records: records });

    // Assess: held, the first record reported so the mapping keeps the whole batch (not
    // thrown: no bisecting, nothing to the on-failure bucket), nothing written meanwhile...
    expect(failures).toBeLessThanOrEqual(1);
    expect(heldBack).toEqual({ batchItemFailures: [{ itemIdentifier: first }] });
    expect(heldByOther).toEqual({ batchItemFailures: [{ itemIdentifier: first }] });
    expect(callsByOther).toBe(0);
    expect(held.map((h) => h.breaker)).toEqual([breaker, breaker]);
    expect(whileOut).toEqual(before);
    // ...then applied once the table answers, as the live generation applies it.
    expect(applied).toEqual({ batchItemFailures: [] });
    expect(held).toHaveLength(2);
    await new Projector(
      standingsProjection,
      new DynamoDocumentStore(dynamo, FIRST.standings as string),
    ).apply(appended);
    expect(await collect(new DynamoDocumentStore(dynamo, table))).toEqual(
      await collect(new DynamoDocumentStore(dynamo, FIRST.standings as string)),
    );
    out.destroy();
  }, 120_000);

  it('applies the streams an incremental export continues after a gap, from the events table, in parts', async () => {
    // Prepare: a full export of every commit so far, then corrections of seven streams of one
    // result each, committed after it, and an incremental export that holds them.
    const local = new FolderStorage(folder.dir);
    const L = APPEND_LANDS_WITHIN_MS;
    const full = await exportTableLocally({
      client: dynamo,
      table: 'events',
      storage: local,
      prefix: 'events',
      now: () => Date.now() + 2 * L,
    });
    const later = new DynamoEventStore({
      client: dynamo,
      table: 'events',
      registry,
      now: () => new Date(Date.now() + 3 * L),
    });
    const corrected = [1, 2, 4, 5, 7, 11, 12].map((i) => `match:2026-${i}`);
    const corrections = [];
    for (const id of corrected)
      corrections.push(
        ...(
          await later.append(id, 1, [
            { event_type: 'MatchRecorded', data: matchRecorded(id, 7, 0) },
          ])
        ).events,
      );
    await exportTableLocally({
      client: dynamo,
      table: 'events',
      storage: local,
      prefix: 'events',
      incremental: { from: full.exportTime as string },
      now: () => Date.now() + 5 * L,
    });
    await uploadArchive(local, s3, BUCKET);
    clock = Date.now() + 5 * L;

    // Act: not compared (the active generation is not fed these corrections here); the
    // deferred streams applied two a call.
    const trace: string[] = [];
    const summary = await run({ projection: 'standings', verify: false }, trace, {
      deferredBudgetMs: 0,
      deferredChunk: 2,
    });

    // Assess: the incremental export's files deferred the seven streams (the generation
    // keeps no position for a stream of one event); the control step applied them from the
    // store in four calls, after one for the full export's files, which deferred none. The
    // generation holds the documents of every event applied in order.
    expect(summary).toMatchObject({ generation: 5, switched: true, deferred_streams: 7 });
    expect(summary.exports).toHaveLength(2);
    expect(trace.filter((s) => s === 'ApplyDeferredStreams')).toHaveLength(1 + 4);
    expect(trace.filter((s) => s === 'DeferredDone?')).toHaveLength(1 + 4);
    const expected = new DynamoDocumentStore(dynamo, FIRST.standings as string);
    await new Projector(standingsProjection, expected).apply(corrections);
    expect(await collect(new DynamoDocumentStore(dynamo, summary.table))).toEqual(
      await collect(expected),
    );
  }, 120_000);

  it("applies, after the last export's files, the streams of a season expired from the table, from the archive, in parts", async () => {
    // Prepare: season 2026 (every stream here) expired into the archive, then a full export of
    // the table, which no longer holds it: the chain's files hold none of its events.
    let stored = 0;
    for await (const batch of store.readAll()) stored += batch.length;
    const expired = await expireSeason({
      client: dynamo,
      table: 'events',
      codec: new CommitCodec(registry),
      storage: new S3Storage(s3, BUCKET),
      prefix: 'events',
      season: '2026',
      seasonOf: seasonOfStream,
      graceMs: 0,
    });
    const local = new FolderStorage(folder.dir);
    const after = Date.now() + 7 * APPEND_LANDS_WITHIN_MS;
    const full = await exportTableLocally({
      client: dynamo,
      table: 'events',
      storage: local,
      prefix: 'events',
      now: () => after,
    });
    await uploadArchive(local, s3, BUCKET);
    clock = after;

    // Act: the expired streams applied five a call.
    const trace: string[] = [];
    const summary = await run({ projection: 'standings', verify: false }, trace, {
      deferredBudgetMs: 0,
      deferredChunk: 5,
    });

    // Assess: one export, of nothing; the season's twelve streams read from the archive by the
    // control step in three calls, every stored event applied once; the generation holds the
    // documents of every event.
    expect(expired).toMatchObject({ completed: true, remaining: 0, streams: 12 });
    expect(full.itemCount).toBe(0);
    expect(summary).toMatchObject({
      generation: 6,
      exports: [expect.any(String)],
      deferred_streams: 0,
      expired_streams: 12,
      events: stored,
    });
    expect(trace.filter((s) => s === 'ApplyDeferredStreams')).toHaveLength(3);
    expect(await collect(new DynamoDocumentStore(dynamo, summary.table))).toEqual(
      await collect(new DynamoDocumentStore(dynamo, FIRST.standings as string)),
    );
  }, 120_000);
});

/**
 * Fails each request to `table` with a 503 while `outage.down` (inside the SDK's retries),
 * counting them, as the chaos scenario `dependency-outage` takes the tables out.
 */
function failWhileDown(
  client: DynamoDBClient,
  table: string,
  outage: { down: boolean; calls: number },
): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TableName?: unknown; RequestItems?: Record<string, unknown> };
      const tables =
        typeof input.TableName === 'string'
          ? [input.TableName]
          : Object.keys(input.RequestItems ?? {});
      if (outage.down && tables.includes(table)) {
        outage.calls++;
        throw Object.assign(new Error(`injected outage of ${table}`), {
          name: 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
        });
      }
      return next(args);
    },
    { step: 'deserialize', name: 'feederOutage' },
  );
}

/** Every document of a table, in key order. */
async function collect(store: DynamoDocumentStore): Promise<Json[]> {
  const out: Json[] = [];
  for await (const page of store.scanAll()) out.push(...page);
  return out.sort((a, b) => `${a.pk}\u0000${a.sk}`.localeCompare(`${b.pk}\u0000${b.sk}`));
}

/** The functions a definition's Task states name (`function:<logical id>`), nested maps too. */
function functionsOf(definition: Json): Record<string, true> {
  const out: Record<string, true> = {};
  const walk = (machine: Json) => {
    for (const state of Object.values(machine.States) as Json[]) {
      if (state.Type === 'Task') out[String(state.Resource).replace(/^function:/, '')] = true;
      if (state.ItemProcessor) walk(state.ItemProcessor);
    }
  };
  walk(definition);
  return out;
}

/** The archive bucket's logical id, as the map's item reader names it. */
function archiveRef(definition: Json): string {
  const map = Object.values(definition.States).find((s: Json) => s.Type === 'Map') as Json;
  return map.ItemReader.Parameters.Bucket;
}
