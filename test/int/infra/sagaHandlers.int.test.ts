import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../api/createApi.js';
import { inboxHandler } from '../../../pipeline/aws/busInbox.js';
import { readModelsHandler } from '../../../pipeline/aws/consumers.js';
import {
  AWS_ANSWERS_KEPT_MS,
  awsQueryService,
  busEventHandler,
  sagaConsumerHandler,
  sagaSweepHandler,
} from '../../../pipeline/aws/sagas.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { DynamoDocumentStore } from '../../../projections/DynamoDocumentStore.js';
import { CALCULATION_EVENTS_PATTERN } from '../../../sagas/handlers/CalculationEventHandler.js';
import { MATCH_EVENTS_PATTERN } from '../../../sagas/handlers/MatchEventHandler.js';
import { METADATA_EVENTS_PATTERN } from '../../../sagas/handlers/MetadataEventHandler.js';
import { sagaStream } from '../../../sagas/SagaCoordinator.js';
import { foldSaga } from '../../../sagas/sagaState.js';
import { batchWriteReliably } from '../../../stream/aws/dynamoBatch.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { domainOf, sourceOf } from '../../../stream/buses/domains.js';
import { matchesPattern } from '../../../stream/buses/eventPattern.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { type Commit, CommitCodec } from '../../../stream/eventStore/Commit.js';
import { fromItem, toItem } from '../../../stream/eventStore/commitItem.js';
import { DynamoEventStore } from '../../../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../../../stream/eventStore/eventsTable.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { ensureBreakersTable, ensureKeyValueTable } from '../../../stream/local/localTables.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { matchRecorded, registry, teamRegistered } from '../../support/registry.js';

const codec = new CommitCodec(registry);
const TEAMS = ['A', 'B', 'C', 'D'];
const GAMES: [string, string, number, number][] = [
  ['A', 'B', 2, 0],
  ['B', 'C', 1, 1],
  ['C', 'D', 0, 3],
  ['D', 'A', 1, 2],
  ['A', 'C', 4, 1],
  ['B', 'D', 0, 1],
];

/** An API Gateway HTTP API (payload 2.0) request, as an IAM-signed caller's. */
function request(
  method: 'GET' | 'POST',
  path: string,
  query = '',
  body?: unknown,
): Extract<LambdaEvent, { rawPath: string; version: string }> {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: query,
    headers: { host: 'api.example.com', 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      authentication: null,
      authorizer: {
        iam: {
          accessKey: 'AKIA',
          accountId: '123456789012',
          callerId: 'AIDA',
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: 'arn:aws:iam::123456789012:user/operator',
          userId: 'AIDA',
        },
      },
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '27/Nov/2026:09:00:00 +0000',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

describe('the saga side on AWS (saga consumer, sweep, bus handlers, query API), wired as the CDK app configures it', () => {
  let dynamo: EmbeddedDynamo;
  let client: ReturnType<typeof dynamoClient>;
  const readModelTables = Object.fromEntries(READ_MODELS.map((p) => [p.name, `s-rm-${p.name}`]));
  const sagaTables = {
    work: 's-work',
    directory: 's-directory',
    cache: 's-cache',
    notifications: 's-notifications',
  };
  const env = {
    EVENTS_TABLE: 's-events',
    POSITIONS_TABLE: 's-positions',
    DEAD_LETTERS_TABLE: 's-dead-letters',
    BREAKERS_TABLE: 's-breakers',
    READ_MODEL_TABLES: JSON.stringify(readModelTables),
    SAGA_TABLES: JSON.stringify(sagaTables),
    DEBOUNCE_MS: '60000',
  };
  /** The sagas' clock, moved by hand: it stands still while the results are handled. */
  const clock = { at: Date.parse('2026-12-01T12:00:00.000Z') };
  const now = () => clock.at;
  /** Items already delivered by the simulated change stream. */
  const delivered = new Set<string>();

  /** The change stream: every commit stored since the last call, as Kinesis records. */
  async function newCommits(): Promise<Commit[]> {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: env.EVENTS_TABLE }));
    const commits = Items.map((item) => fromItem(item, env.EVENTS_TABLE)).filter(
      (c) => !delivered.has(`${c.aggregate_id}#${c.sequence}`),
    );
    for (const c of commits) delivered.add(`${c.aggregate_id}#${c.sequence}`);
    return commits;
  }

  /** What the bus router would put on the buses for these commits. */
  function busEvents(commits: readonly Commit[]) {
    return commits.flatMap((c) =>
      codec.envelopes(c).map((e: EventEnvelope) => ({
        id: e.event_id,
        source: sourceOf(domainOf(e.event_type)),
        'detail-type': e.event_type,
        detail: JSON.parse(JSON.stringify(e)),
      })),
    );
  }

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    client = dynamoClient({ endpoint: dynamo.endpoint });
    await ensureEventsTable(client, env.EVENTS_TABLE);
    await ensureKeyValueTable(client, env.POSITIONS_TABLE, 'consumer', 'aggregate_id');
    await ensureKeyValueTable(client, env.DEAD_LETTERS_TABLE, 'consumer', 'id');
    await ensureBreakersTable(client, env.BREAKERS_TABLE);
    for (const table of [...Object.values(readModelTables), ...Object.values(sagaTables)])
      await DynamoDocumentStore.open(client, table);
  });

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  it('runs an RPI saga from a recorded match to the cached rankings, the notifications and the API', async () => {
    // Prepare: teams and results stored, the read models and the team directory applied.
    const stored = [
      ...TEAMS.map((t) =>
        codec.build(`team:${t}`, 0, [{ event_type: 'TeamRegistered', data: teamRegistered(t) }]),
      ),
      ...GAMES.map(([home, away, h, a], i) =>
        codec.build(`match:m${i}`, 0, [
          {
            event_type: 'MatchRecorded',
            data: { ...matchRecorded(`m${i}`, h, a), home_team: home, away_team: away },
          },
        ]),
      ),
    ];
    await batchWriteReliably(
      client,
      env.EVENTS_TABLE,
      stored.map((c) => ({ put: toItem(c) })),
      ['aggregate_id', 'sequence'],
    );
    const readModels = readModelsHandler({ ...env, CONSUMER: 'read-models' }, client);
    const sagas = sagaConsumerHandler({ ...env, CONSUMER: 'sagas' }, client, {
      remainingMs: () => 300_000,
      now,
    });
    const stream = async () => {
      const commits = await newCommits();
      const records = commits.map((c) => kinesisRecordOf(c));
      expect(await readModels({ Records: records })).toEqual({ batchItemFailures: [] });
      expect(await sagas({ Records: records })).toEqual({ batchItemFailures: [] });
      return busEvents(commits);
    };
    const first = await stream();
    const metadata = busEventHandler('metadata', env, client, { now });
    const match = busEventHandler('match', env, client, { now });
    const calculation = busEventHandler('calculation', env, client, { now });
    // Each handler gets what its rule lets through.
    for (const e of first.filter((e) => matchesPattern(METADATA_EVENTS_PATTERN, e)))
      await metadata(e);

    // Act: the soccer bus delivers the results, all within the debounce of the first; once it
    // is over, the saga consumer runs the saga they started.
    for (const e of first.filter((e) => matchesPattern(MATCH_EVENTS_PATTERN, e))) await match(e);
    clock.at += 60_000;
    const sagaEvents = await stream();
    const published = (await stream()).concat(await stream());
    for (const e of [...sagaEvents, ...published].filter((e) =>
      matchesPattern(CALCULATION_EVENTS_PATTERN, e),
    ))
      await calculation(e);
    await stream();
    const api = handle(createApi(awsQueryService(env, client), { gateway: 'iam' }));
    const rankings = await api(request('GET', '/rankings', 'season=2026'));
    const notifications = await api(request('GET', '/notifications', 'season=2026'));

    // Assess: one saga for the six results, completed; rankings served from the cache.
    const started = sagaEvents.filter((e) => e['detail-type'] === 'SagaStarted');
    expect(started).toHaveLength(1);
    const sagaId = String(started[0]?.detail.data.saga_id);
    const store = new DynamoEventStore({ client, table: env.EVENTS_TABLE, registry });
    expect(foldSaga(await store.read(sagaStream(sagaId)))?.status).toBe('completed');
    expect(rankings.statusCode).toBe(200);
    const served = JSON.parse(rankings.body);
    expect(served).toMatchObject({ season: '2026', source: 'cache', games_counted: 6 });
    expect(served.rankings.map((r: { team: string }) => r.team).sort()).toEqual(TEAMS);
    expect(notifications.statusCode).toBe(200);
    expect(
      JSON.parse(notifications.body).notifications.map((n: { kind: string }) => n.kind),
    ).toEqual(['entered', 'entered', 'entered', 'entered']);
    const saga = await api(request('GET', `/sagas/${sagaId}`));
    expect(JSON.parse(saga.body)).toMatchObject({
      saga_id: sagaId,
      saga_type: 'rpi_calculation',
      status: 'completed',
      data: { calculation_date: expect.any(String), date_range: { start: '2026-09-01' } },
    });
    // What expires carries expires_at (the tables' TTL attribute): the saga's snapshots a
    // month on, each notification a year after its calculation; the request slot and the
    // season's top 25 never.
    const items = async (table: string) =>
      (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
    const work = await items(sagaTables.work);
    const snapshots = work.filter((i) => i.pk?.S === `saga#${sagaId}`);
    expect(snapshots.length).toBeGreaterThan(0);
    const month = Date.now() / 1000 + 30 * 86_400;
    for (const snapshot of snapshots)
      expect(Number(snapshot.expires_at?.N)).toBeGreaterThan(month - 120);
    expect(work.filter((i) => !i.pk?.S?.startsWith('saga#')).map((i) => i.expires_at)).toEqual(
      work.filter((i) => !i.pk?.S?.startsWith('saga#')).map(() => undefined),
    );
    const notes = await items(sagaTables.notifications);
    const announced = notes.filter((i) => i.expires_at);
    expect(announced).toHaveLength(4);
    for (const note of announced) {
      const at = JSON.parse(note.doc?.S ?? '{}').at as string;
      expect(Number(note.expires_at?.N)).toBe(Math.ceil(Date.parse(at) / 1000) + 365 * 86_400);
    }
    expect(notes.length - announced.length).toBe(1);
    // The saga consumer keeps positions for the saga's stream only: the streams of teams,
    // matches and calculations it leaves alone. The read-models consumer keeps them for the
    // streams past their first event (the saga's, the calculation's), none for a stream whose
    // one event is its first (the match's, the team's): its read models ignore a repeat.
    const positions = await items(env.POSITIONS_TABLE);
    const positioned = (consumer: string) =>
      positions.filter((i) => i.consumer?.S === consumer).map((i) => i.aggregate_id?.S);
    expect(positioned('sagas')).toEqual([sagaStream(sagaId)]);
    expect(positioned('read-models')).toEqual(expect.arrayContaining([sagaStream(sagaId)]));
    expect(positioned('read-models')).not.toEqual(expect.arrayContaining(['match:m0']));
    expect(positioned('read-models')).not.toEqual(expect.arrayContaining(['team:A']));
  }, 60_000);

  it('appends POST /sagas without running it; the sweep drives it to the end', async () => {
    // Prepare
    const api = handle(createApi(awsQueryService(env, client), { gateway: 'iam' }));
    const store = new DynamoEventStore({ client, table: env.EVENTS_TABLE, registry });

    // Act
    const posted = await api(
      request('POST', '/sagas', '', { season: '2026', as_of: '2026-09-01' }),
    );
    const answer = JSON.parse(posted.body) as { saga_id: string };
    const sagaId = answer.saga_id;
    const before = foldSaga(await store.read(sagaStream(sagaId)));
    // The sagas read model learns of it from the stream; the sweep reads that.
    const readModels = readModelsHandler({ ...env, CONSUMER: 'read-models' }, client);
    await readModels({ Records: (await newCommits()).map((c) => kinesisRecordOf(c)) });
    const swept = await sagaSweepHandler(env, client, { remainingMs: () => 300_000 })();

    // Assess
    expect(posted.statusCode).toBe(202);
    expect(answer).toMatchObject({
      saga_type: 'rpi_calculation',
      status: 'in_progress',
      data: { season: '2026', calculation_date: '2026-09-01', date_range: { end: '2026-09-01' } },
    });
    expect(before?.steps.every((s) => s.status === 'pending')).toBe(true);
    expect(swept.driven).toBe(1);
    expect(foldSaga(await store.read(sagaStream(sagaId)))?.status).toBe('completed');
    // A calculation as of a day is kept for that day: the season's rankings stay the whole season's.
    const rankings = await api(request('GET', '/rankings', 'season=2026'));
    const dated = await api(request('GET', '/rankings', 'season=2026&as_of=2026-09-01'));
    expect(JSON.parse(rankings.body)).toMatchObject({ as_of: null, games_counted: 6 });
    expect(JSON.parse(dated.body)).toMatchObject({ saga_id: sagaId, as_of: '2026-09-01' });
  }, 60_000);

  it('keeps the standings it worked out for the rest of the 5 s window, then reads them again', async () => {
    let queries = 0;
    const counting = dynamoClient({ endpoint: dynamo.endpoint });
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        const table = (args.input as { TableName?: string }).TableName;
        if (context.commandName === 'QueryCommand' && table === readModelTables.standings)
          queries++;
        return next(args);
      },
      { step: 'initialize' },
    );
    const at = { ms: Math.ceil(Date.now() / AWS_ANSWERS_KEPT_MS) * AWS_ANSWERS_KEPT_MS };
    const api = handle(
      createApi(awsQueryService(env, counting, {}, { now: () => at.ms }), { gateway: 'iam' }),
    );
    const ask = async () =>
      JSON.parse((await api(request('GET', '/standings', 'season=2026'))).body);

    const first = await ask();
    at.ms += AWS_ANSWERS_KEPT_MS - 1;
    const kept = await ask();
    at.ms += 1;
    const again = await ask();

    expect(first.conferences.flatMap((c: { teams: unknown[] }) => c.teams)).toHaveLength(4);
    expect(kept).toEqual(first);
    expect(again).toEqual(first);
    expect(queries).toBe(2);
    counting.destroy();
  });

  it('refuses POST /sagas that reached the function without an IAM identity', async () => {
    const api = handle(createApi(awsQueryService(env, client), { gateway: 'iam' }));
    const unsigned = request('POST', '/sagas', '', { season: '2026' });
    const { iam: _, ...withoutIam } = unsigned.requestContext.authorizer;

    const answer = await api({
      ...unsigned,
      requestContext: { ...unsigned.requestContext, authorizer: withoutIam },
    });

    expect(answer.statusCode).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: { status: 403, message: 'this route needs an IAM-signed request' },
    });
  });

  it('refuses what is not an EventBridge event, and names a setting that is missing', async () => {
    await expect(busEventHandler('match', env, client)({ nothing: 1 })).rejects.toThrow(
      'not an EventBridge event: no detail',
    );
    expect(() => awsQueryService({ ...env, SAGA_TABLES: '{"work": "w"}' }, client)).toThrow(
      'SAGA_TABLES names no table for directory',
    );
    expect(() => awsQueryService({ ...env, RPI_PROFILE: 'chess' }, client)).toThrow(
      'environment variable RPI_PROFILE: no profile "chess"',
    );
    expect(() => awsQueryService({ ...env, DEBOUNCE_MAX_MS: '1.5' }, client)).toThrow(
      'environment variable DEBOUNCE_MAX_MS must be a whole number of milliseconds',
    );
  });
  it('handles the results of a queue batch at once: one read of the matches and one look at the saga for the batch', async () => {
    // Prepare: two seasons of 40 results each, stored and applied by the read models; each
    // goes to a match handler of its own behind its queue, in batches of 10, the clock
    // moving past the saga's wait between batches (nothing drives the saga here, so it waits
    // and takes every result in). The first handles a batch's events one at a time, the
    // second at once (the default).
    const seasons = { '2031': 1, '2032': undefined } as const;
    const commits = Object.keys(seasons).flatMap((season) =>
      Array.from({ length: 40 }, (_, i) =>
        codec.build(`match:${season}-${i}`, 0, [
          {
            event_type: 'MatchRecorded',
            data: {
              ...matchRecorded(`${season}-${i}`, i % 3, 1),
              season,
              home_team: TEAMS[i % 4] as string,
              away_team: TEAMS[(i + 1) % 4] as string,
            },
          },
        ]),
      ),
    );
    await batchWriteReliably(
      client,
      env.EVENTS_TABLE,
      commits.map((c) => ({ put: toItem(c) })),
      ['aggregate_id', 'sequence'],
    );
    const readModels = readModelsHandler({ ...env, CONSUMER: 'read-models' }, client);
    const fresh = await newCommits();
    expect(await readModels({ Records: fresh.map((c) => kinesisRecordOf(c)) })).toEqual({
      batchItemFailures: [],
    });
    const results = busEvents(fresh);

    // Act
    const reads: Record<string, Record<string, number>> = {};
    for (const [season, concurrency] of Object.entries(seasons)) {
      const counted: Record<string, number> = {};
      reads[season] = counted;
      const counting = dynamoClient({ endpoint: dynamo.endpoint });
      counting.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { TableName?: string; RequestItems?: object };
          const table = input.TableName ?? Object.keys(input.RequestItems ?? {}).join('+');
          const read = /^(Get|BatchGet|Query)/.test(context.commandName ?? '');
          if (read && table !== env.BREAKERS_TABLE) counted[table] = (counted[table] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize' },
      );
      const inbox = inboxHandler(busEventHandler('match', env, counting, { now }), {
        requeue: async () => {
          throw new Error('nothing is held here');
        },
        ...(concurrency ? { concurrency } : {}),
      });
      const ofSeason = results.filter((e) => e.detail.data.season === season);
      for (let i = 0; i < ofSeason.length; i += 10) {
        const Records = ofSeason
          .slice(i, i + 10)
          .map((e) => ({ messageId: String(e.id), body: JSON.stringify(e) }));
        expect(await inbox({ Records })).toEqual({ batchItemFailures: [] });
        clock.at += 61_000;
      }
      counting.destroy();
    }

    // Assess: one saga each, which took every result in.
    const store = new DynamoEventStore({ client, table: env.EVENTS_TABLE, registry });
    const sagas = busEvents(await newCommits()).filter((e) => e['detail-type'] === 'SagaStarted');
    expect(sagas.map((e) => JSON.parse(e.detail.data.data).season).sort()).toEqual([
      '2031',
      '2032',
    ]);
    for (const saga of sagas)
      expect(foldSaga(await store.read(sagaStream(String(saga.detail.data.saga_id))))?.status).toBe(
        'in_progress',
      );
    const total = (season: string) =>
      Object.values(reads[season] ?? {}).reduce((sum, n) => sum + n, 0);
    // One at a time: the matches read for each result; past the saga's wait, its slot and its
    // stream read for each result too (101 reads for the 40 results when written).
    expect(reads['2031']?.['s-rm-matches']).toBe(40);
    // At once: one read of the matches a batch, and one look at the slot and the saga (13).
    expect(reads['2032']?.['s-rm-matches']).toBe(4);
    expect(reads['2032']?.[sagaTables.work]).toBeLessThanOrEqual(5);
    expect(total('2032') * 5).toBeLessThan(total('2031'));
  });
});
