import { readFileSync } from 'node:fs';
import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames, type Reject } from '../../../ingest/ingestGames.js';
import { closeSeason } from '../../../ingest/seasons.js';
import { replayArchiveToFile } from '../../../pipeline/archiveFileReplay.js';
import { exportChain } from '../../../pipeline/archiveReplay.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { rebuildReadModel } from '../../../pipeline/rebuild.js';
import { expireClosedSeason } from '../../../pipeline/seasons.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { standingsProjection } from '../../../projections/readModels/standings.js';
import { ArchivedEventStore } from '../../../stream/archive/ArchivedEventStore.js';
import { FolderStorage } from '../../../stream/archive/ArchiveStorage.js';
import { exportTableLocally } from '../../../stream/archive/exportTable.js';
import { listExports } from '../../../stream/archive/readExport.js';
import {
  parseSeasonIndex,
  seasonExpiryKey,
  seasonIndexKey,
} from '../../../stream/archive/seasonIndex.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { CHANGES_STREAM } from '../../../stream/local/EmbeddedRuntime.js';
import { FileTarget } from '../../../stream/replay/FileTarget.js';
import { InMemoryReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import { replay } from '../../../stream/replay/replay.js';
import { StoreError } from '../../../stream/StoreError.js';
import { feedRows } from '../../support/games.js';
import { tempDir } from '../../support/tempDir.js';

let pipeline: EmbeddedPipeline;
let store: ArchivedEventStore;
const folder = tempDir('closed-seasons-');
const storage = new FolderStorage(folder.path('archive'));
const archive = { storage, prefix: 'events' };
/** The local export's clock: a minute on, so the export holds every commit made so far. */
const later = (minutes: number) => () => Date.now() + minutes * 60_000;

async function ingest(seed: number) {
  const season = generateSeason({ teams: 10, gamesPerTeam: 4, seed, season: `S${seed}` });
  return { season, summary: await ingestGames(feedRows(season.games), { store, concurrency: 8 }) };
}

/** Every event of the store, by a replay to a file, in a stable order. */
async function replayed(name: string): Promise<string[]> {
  const path = folder.path(`${name}.jsonl`);
  const summary = await replay({
    source: store,
    target: new FileTarget(path),
    name,
    checkpoints: new InMemoryReplayCheckpoints(),
    segments: 3,
    pageSize: 7,
  });
  expect(summary.completed).toBe(true);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

/**
 * Every event of the store, by a replay to a file through the archive's export chain (the
 * table's commits after it, the expired streams through the store), in a stable order.
 */
async function replayedThroughArchive(
  name: string,
  options: {
    signal?: AbortSignal;
    checkpoints?: InMemoryReplayCheckpoints;
    onRead?: (id: string) => void;
  } = {},
) {
  const path = folder.path(`${name}.jsonl`);
  const summary = await replayArchiveToFile({
    storage,
    chain: exportChain((await listExports(storage, 'events')).exports),
    target: new FileTarget(path),
    name,
    checkpoints: options.checkpoints ?? new InMemoryReplayCheckpoints(),
    codec: new CommitCodec(pipeline.runtime.registry),
    tail: (after) => store.itemsCommittedAfter(after),
    expired: {
      seasons: store.seasons,
      read: (id, o) => {
        options.onRead?.(id);
        return store.read(id, o);
      },
    },
    expiredPerUnit: 6,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .sort();
  return { summary, lines };
}

/** Every document of every read model's active generation. */
async function documents(): Promise<string[]> {
  const out: string[] = [];
  for (const projection of READ_MODELS) {
    const active = await pipeline.registry.active(projection);
    for await (const page of (await pipeline.tableStore(active.table)).scanAll())
      for (const d of page) out.push(`${projection.name} ${d.pk} ${d.sk} ${JSON.stringify(d.doc)}`);
  }
  return out.sort();
}

async function tableItems(): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await pipeline.runtime.dynamo.send(
      new ScanCommand({ TableName: store.table, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function deadLetters(): Promise<number> {
  return (await pipeline.runtime.deadLetters.list()).length;
}

let before: { events: string[]; documents: string[]; reads: Map<string, EventEnvelope[]> };
let corrected: string;
let s1Streams: string[];

beforeAll(async () => {
  pipeline = await startPipeline({ memory: true, debounceMs: 50, archive: storage });
  if (!(pipeline.runtime.store instanceof ArchivedEventStore))
    throw new Error('the pipeline store does not read the archive');
  store = pipeline.runtime.store;
  const { season } = await ingest(1);
  await ingest(2);
  // A corrected result: a match stream of two commits.
  const game = season.games[0];
  if (!game) throw new Error('no game');
  const row = { ...game, homeScore: game.homeScore + 3 };
  async function* rows() {
    yield [{ kind: 'game' as const, line: 2, game: row, fields: {} }];
  }
  await ingestGames(rows(), { store, concurrency: 1 });
  corrected = `match:${game.matchId}`;
  await pipeline.runtime.settle();
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('closed seasons expired from the table', () => {
  it('refuses to expire a season that is not closed, or without a covering verified export', async () => {
    // Prepare: the state every reader must see again after the expiry.
    before = {
      events: await replayed('before'),
      documents: await documents(),
      reads: new Map(),
    };

    // Act + Assess: not closed.
    await expect(
      expireClosedSeason({
        store,
        client: pipeline.runtime.dynamo,
        storage,
        season: 'S1',
        graceMs: 0,
      }),
    ).rejects.toThrow(/season S1 is not closed/);

    // Closed, but no export yet.
    const first = await closeSeason(store, 'S1', { reason: 'season over' });
    const again = await closeSeason(store, 'S1');
    expect(first.already).toBe(false);
    expect(again).toMatchObject({ already: true, closed: { closed_at: first.closed.closed_at } });
    await expect(
      expireClosedSeason({
        store,
        client: pipeline.runtime.dynamo,
        storage,
        season: 'S1',
        graceMs: 0,
      }),
    ).rejects.toThrow(/holds no export/);

    // An export, then a correction of an S1 match it does not hold.
    await exportTableLocally({
      client: pipeline.runtime.dynamo,
      table: store.table,
      storage,
      prefix: 'events',
      now: later(1),
    });
    const version = (await store.read(corrected)).length;
    const last = (await store.read(corrected)).at(-1) as EventEnvelope<'MatchResultCorrected'>;
    await store.append(corrected, version, [
      {
        event_type: 'MatchResultCorrected',
        data: { ...last.data, home_goals: last.data.home_goals + 1, reason: 'typo' },
      },
    ]);
    await pipeline.runtime.settle();
    await expect(
      expireClosedSeason({
        store,
        client: pipeline.runtime.dynamo,
        storage,
        season: 'S1',
        graceMs: 0,
      }),
    ).rejects.toThrow(/does not hold \d+ of the commits of season S1 as the table does \(first: /);
    // Nothing was written nor deleted.
    await expect(storage.read(seasonIndexKey('S1'))).rejects.toThrow(StoreError);

    // The state after the correction is the one to keep.
    before = {
      events: await replayed('before-2'),
      documents: await documents(),
      reads: new Map(),
    };
    expect(before.events.length).toBeGreaterThan(0);
  }, 120_000);

  it('expires, interrupted midway and run again, with every reader seeing the same store', async () => {
    // Prepare: an incremental export covers the correction.
    const { exports } = await listExports(storage, 'events');
    await exportTableLocally({
      client: pipeline.runtime.dynamo,
      table: store.table,
      storage,
      prefix: 'events',
      incremental: { from: exports.at(-1)?.upTo ?? '' },
      now: later(2),
    });
    const itemsBefore = await tableItems();
    // A client whose second BatchWriteItem fails for good: a crash in the middle of deletes.
    const at = await pipeline.runtime.dynamo.config.endpoint?.();
    const failing = dynamoClient({ endpoint: `${at?.protocol}//${at?.hostname}:${at?.port}` });
    let batches = 0;
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchWriteItemCommand' && ++batches === 2)
          throw Object.assign(new Error('injected'), { name: 'AccessDeniedException' });
        return next(args);
      },
      { step: 'initialize' },
    );
    const changes = { kinesis: pipeline.runtime.kinesis, streamName: CHANGES_STREAM };
    const processedBefore =
      pipeline.runtime.consumers.get('read-models')?.mapping.stats.processed ?? 0;

    // Act: interrupted.
    await expect(
      expireClosedSeason({ store, client: failing, storage, season: 'S1', graceMs: 0, changes }),
    ).rejects.toThrow(/AccessDeniedException/);
    failing.destroy();
    const index = parseSeasonIndex(
      (await storage.read(seasonIndexKey('S1'))).toString('utf8'),
      'index',
    );
    s1Streams = index.streams.map((s) => s.aggregate_id);
    const midway = await tableItems();

    // Assess: part is deleted, and readers see the whole store meanwhile.
    expect(midway.length).toBeLessThan(itemsBefore.length);
    expect(midway.length).toBeGreaterThan(itemsBefore.length - index.commit_count);
    expect(await replayed('midway')).toEqual(before.events);
    for (const id of s1Streams) before.reads.set(id, await store.read(id));
    // Read together, as one at a time: those half deleted from the table and the others.
    expect(await store.readMany(s1Streams)).toEqual(s1Streams.map((id) => before.reads.get(id)));

    // Act: run again.
    const summary = await expireClosedSeason({
      store,
      client: pipeline.runtime.dynamo,
      storage,
      season: 'S1',
      graceMs: 0,
      changes,
    });
    await pipeline.runtime.settle();

    // Assess: the season's streams (matches and RPI calculations, not teams nor sagas) are gone.
    expect(summary).toMatchObject({
      index_created: false,
      completed: true,
      remaining: 0,
      kept: [],
    });
    expect(summary.deleted).toBe(index.commit_count - (itemsBefore.length - midway.length));
    expect(s1Streams).toContain(corrected);
    expect(s1Streams.some((id) => id.startsWith('rpi:'))).toBe(true);
    expect(s1Streams.every((id) => id.startsWith('match:') || id.startsWith('rpi:'))).toBe(true);
    const left = await tableItems();
    expect(left).toHaveLength(itemsBefore.length - index.commit_count);
    expect(left.filter((i) => s1Streams.includes(i.aggregate_id?.S ?? ''))).toEqual([]);
    expect(left.some((i) => i.aggregate_id?.S?.startsWith('team:'))).toBe(true);
    expect(await storage.read(seasonExpiryKey('S1'))).toBeDefined();
    // The REMOVE records went through every consumer, ignored: nothing dead-lettered, no
    // read model changed.
    const processed = pipeline.runtime.consumers.get('read-models')?.mapping.stats.processed ?? 0;
    expect(processed - processedBefore).toBeGreaterThanOrEqual(index.commit_count);
    expect(await deadLetters()).toBe(0);
    expect(await documents()).toEqual(before.documents);
  }, 120_000);

  it('reads an expired stream, replays and rebuilds as before the expiry', async () => {
    // Aggregate reads, whole and from a sequence.
    for (const id of s1Streams) expect(await store.read(id)).toEqual(before.reads.get(id));
    const whole = before.reads.get(corrected) ?? [];
    expect(whole.length).toBe(3);
    expect(await store.read(corrected, { fromSequence: 2 })).toEqual(whole.slice(1));

    // A consumer's gap fill reads the earlier events from the archive.
    const applied: EventEnvelope[] = [];
    const sequencer = new AggregateSequencer({
      consumer: 'gap-fill-test',
      store,
      positions: new InMemoryPositionStore(),
      apply: async (events) => {
        applied.push(...events);
      },
    });
    const delivery = await sequencer.deliver(whole.slice(2));
    expect(delivery.filled).toBe(2);
    expect(applied.map((e) => e.sequence)).toEqual([1, 2, 3]);

    // A closed season takes no more events; an append at a stale version is told so, as the
    // table tells it, so its writer reads the stream (through the archive) and decides again.
    await expect(
      store.append(corrected, 3, [
        { event_type: 'MatchCancelled', data: { match_id: 'x', reason: null } },
      ]),
    ).rejects.toMatchObject({ code: 'STREAM_EXPIRED' });
    await expect(
      store.append(corrected, 0, [
        { event_type: 'MatchCancelled', data: { match_id: 'x', reason: null } },
      ]),
    ).rejects.toMatchObject({ code: 'CONCURRENCY', expected: 0, actual: 3 });

    // A replay reads the same events, by a scan and through the archive (whose chain holds
    // the season: its streams written once, from the store).
    expect(await replayed('after')).toEqual(before.events);
    const archived = await replayedThroughArchive('after-archive');
    expect(archived.summary).toMatchObject({ completed: true, expired_streams: s1Streams.length });
    expect(archived.lines).toEqual(before.events);
    // Only the types asked for, by stream.
    const byId = store.readAll({ aggregateIds: [corrected, 'team:nobody'] });
    const batches: EventEnvelope[][] = [];
    for await (const batch of byId) batches.push(batch);
    expect(batches.flat()).toEqual(whole);

    // Rebuilds, from a scan and through the archive, give the same documents.
    const scan = await rebuildReadModel(pipeline, matchesProjection, { segments: 3 });
    expect(scan).toMatchObject({ completed: true, differences: 0, fault: false, switched: true });
    const viaArchive = await rebuildReadModel(pipeline, standingsProjection, { archive });
    expect(viaArchive).toMatchObject({ completed: true, differences: 0, fault: false });
    expect(viaArchive.expired_streams).toBe(s1Streams.length);

    // A full export taken after the expiry does not hold the season: the rebuild reads it
    // through the index.
    await exportTableLocally({
      client: pipeline.runtime.dynamo,
      table: store.table,
      storage,
      prefix: 'events',
      now: later(3),
    });
    const expiredProgress: { kind: string; done: number; total: number }[] = [];
    // A replay through the archive reads the season through the index, in units of 6 streams
    // each checkpointed: interrupted once the second unit is being read, it goes on with it.
    const checkpoints = new InMemoryReplayCheckpoints();
    const controller = new AbortController();
    let firstReads = 0;
    const interrupted = await replayedThroughArchive('after-full-export', {
      checkpoints,
      signal: controller.signal,
      onRead: () => {
        if (++firstReads === 7) controller.abort();
      },
    });
    expect(interrupted.summary.completed).toBe(false);
    const secondReads: string[] = [];
    const resumed = await replayedThroughArchive('after-full-export', {
      checkpoints,
      onRead: (id) => secondReads.push(id),
    });
    expect(resumed.summary).toMatchObject({
      resumed: true,
      completed: true,
      expired_streams: s1Streams.length,
    });
    expect(resumed.lines).toEqual(before.events);
    const inOrder = [...s1Streams].sort();
    expect(secondReads.sort()).toEqual(inOrder.slice(6));

    const afterExport = await rebuildReadModel(pipeline, matchesProjection, {
      archive,
      onProgress: (p) => {
        if (p.streams?.kind === 'expired') expiredProgress.push(p.streams);
      },
    });
    expect(afterExport).toMatchObject({ completed: true, differences: 0, fault: false });
    expect(afterExport.events).toBeGreaterThan(0);
    // The expired season's streams are counted as they are applied.
    expect(expiredProgress.at(-1)).toEqual({
      kind: 'expired',
      done: s1Streams.length,
      total: s1Streams.length,
    });
    expect(await documents()).toEqual(before.documents);
    expect(await deadLetters()).toBe(0);
  }, 180_000);

  it("recognises an expired stream's events appended again, and ingests the season's feed again as unchanged but for a changed result, refused", async () => {
    // Prepare: the first commit of an expired stream, as it was appended.
    const [recorded] = before.reads.get(corrected) ?? [];
    if (recorded?.event_type !== 'MatchRecorded') throw new Error('no MatchRecorded');
    const again = {
      event_type: recorded.event_type,
      event_id: recorded.event_id,
      data: recorded.data,
    };

    // Act + Assess: the same event at the same position is a repeat, stored nowhere.
    const repeat = await store.append(corrected, 0, [again]);
    expect(repeat).toMatchObject({ duplicate: true, version: 1 });
    expect(repeat.events).toEqual([recorded]);

    // Act: season S1's feed again, its first match as corrected since (twice: 3 goals, then
    // 1), then that match with another score.
    const rejects: Reject[] = [];
    const season = generateSeason({ teams: 10, gamesPerTeam: 4, seed: 1, season: 'S1' });
    const [first, ...others] = season.games;
    if (!first) throw new Error('no game');
    const feed = [
      { ...first, homeScore: first.homeScore + 4 },
      ...others,
      { ...first, homeScore: first.homeScore + 9 },
    ];
    const summary = await ingestGames(feedRows(feed), {
      store,
      concurrency: 8,
      onReject: (r) => rejects.push(r),
    });

    // Assess: every row the season holds is unchanged; the one that would change a result is
    // rejected with why, not a store failure; nothing is appended to the season.
    expect(summary).toMatchObject({
      read: feed.length,
      appended: 0,
      unchanged: feed.length - 1,
      corrected: 0,
      rejected: 1,
      failed: 0,
      events_appended: 0,
    });
    expect(rejects).toEqual([
      {
        line: feed.length + 1,
        reason: `refused: stream ${corrected} was expired from the table with the closed season S1: a closed season takes no more events`,
        fields: {},
      },
    ]);
    expect((await tableItems()).filter((i) => s1Streams.includes(i.aggregate_id?.S ?? ''))).toEqual(
      [],
    );
    expect(await store.read(corrected)).toEqual(before.reads.get(corrected));
  }, 60_000);

  it('reads expired streams together as it reads them one at a time, asking the table a hundred keys a request', async () => {
    // Prepare: count the requests sent to the events table for the expired season's streams
    // from here on (the pipeline's other work, its sagas reading their own streams among it,
    // shares the client).
    const sent: string[] = [];
    const dynamo = pipeline.runtime.dynamo;
    const expired = new Set(s1Streams);
    type Key = { aggregate_id?: { S?: string } };
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as {
          TableName?: string;
          RequestItems?: Record<string, { Keys?: Key[] }>;
          ExpressionAttributeValues?: Record<string, { S?: string }>;
        };
        const named = [
          ...(input.TableName === store.table ? [input.ExpressionAttributeValues?.[':id']?.S] : []),
          ...(input.RequestItems?.[store.table]?.Keys ?? []).map((k) => k.aggregate_id?.S),
        ];
        if (named.some((id) => id !== undefined && expired.has(id)))
          sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
    const live = (await tableItems()).find((i) => i.aggregate_id?.S?.startsWith('match:'))
      ?.aggregate_id?.S;
    if (!live) throw new Error('no stream of S2 in the table');
    const one = s1Streams.find((id) => id !== corrected && id.startsWith('match:')) as string;
    const other = s1Streams.find((id) => id !== corrected && id !== one && id.startsWith('match:'));
    if (!other) throw new Error('too few streams in S1');
    const codec = new CommitCodec(pipeline.runtime.registry);
    const put = (commit: ReturnType<CommitCodec['build']>) =>
      dynamo.send(new PutItemCommand({ TableName: store.table, Item: toItem(commit) }));
    const remove = (id: string, sequence: number) =>
      dynamo.send(
        new DeleteItemCommand({
          TableName: store.table,
          Key: { aggregate_id: { S: id }, sequence: { N: String(sequence) } },
        }),
      );
    const cancelled = {
      event_type: 'MatchCancelled' as const,
      data: { match_id: 'x', reason: null },
    };
    try {
      // Act + Assess: the expired season's streams, with none of them in the table, come back
      // as each read gives them, without a Query: BatchGetItem of their commits' keys.
      const ids = [...s1Streams].sort();
      const many = await store.readMany(ids);
      expect(many).toEqual(ids.map((id) => before.reads.get(id)));
      expect(sent.filter((c) => c === 'QueryCommand')).toEqual([]);
      const indexed = await store.seasons.all();
      const keys = ids.reduce((n, id) => n + (indexed.get(id)?.stream.commits.length ?? 0) + 1, 0);
      expect(sent.filter((c) => c === 'BatchGetItemCommand').length).toBe(Math.ceil(keys / 100));

      // With a stream still in the table, one no store holds and one asked for twice (DynamoDB
      // refuses a BatchGetItem that names a key twice): each read as `read` does.
      sent.length = 0;
      const mixed = [one, live, 'match:nowhere', corrected, one];
      expect(await store.readMany(mixed)).toEqual(
        await Promise.all(mixed.map((id) => store.read(id))),
      );

      // Events appended after the index, and a stream written again from its start by a
      // writer that read it as empty: the table's commits are read, as `read` reads them.
      await put(codec.build(one, before.reads.get(one)?.length ?? 0, [cancelled]));
      await put(codec.build(other, 0, [cancelled]));
      const [tail, restarted] = await store.readMany([one, other]);
      expect(tail).toEqual(await store.read(one));
      expect(tail?.map((e) => e.event_type)).toEqual([
        ...(before.reads.get(one) ?? []).map((e) => e.event_type),
        'MatchCancelled',
      ]);
      expect(restarted).toEqual(await store.read(other));
      expect(restarted?.map((e) => e.event_type)).toEqual(['MatchCancelled']);
    } finally {
      dynamo.middlewareStack.remove('countRequests');
      await remove(one, (before.reads.get(one)?.length ?? 0) + 1);
      await remove(other, 1);
    }
  }, 60_000);
});
