import {
  type AttributeValue,
  GetItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { runMatchstream } from '../../../chaos/command.js';
import { seededRng } from '../../../chaos/rng.js';
import { GAMES_CSV_HEADER, gameCsvRow } from '../../../feeds/writeGames.js';
import { READ_MODELS_CONSUMER } from '../../../pipeline/embeddedPipeline.js';
import type { StoredDoc } from '../../../projections/Projection.js';
import { generationTable } from '../../../projections/ReadModelRegistry.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { standingsProjection } from '../../../projections/readModels/standings.js';
import { teamsProjection } from '../../../projections/readModels/teams.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import { EVENTS_TABLE, RELAY_INDEX, RELAY_MARKER } from '../../../stream/eventStore/eventsTable.js';
import { CHANGES_STREAM, EmbeddedRuntime } from '../../../stream/local/EmbeddedRuntime.js';
import { RELAY_TABLE } from '../../../stream/local/localTables.js';
import { CLI_MODULES } from '../../support/cli.js';
import { folderState, seasonAndCorrections } from '../../support/killedRuns.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
const fast = { consumerDefaults: { pollIntervalMs: 20, shardRefreshMs: 200 } };

function logger(into: Map<string, number[]>) {
  return async (events: readonly EventEnvelope[]) => {
    for (const e of events)
      into.set(e.aggregate_id, [...(into.get(e.aggregate_id) ?? []), e.sequence]);
  };
}

describe('the change relay across a crash', () => {
  it('forwards on restart what was stored but never forwarded, and nothing twice', async () => {
    // Prepare: commits stored while the relay was down, then the process goes away.
    const dataDir = tmp.path('crash-before-forward');
    const first = await EmbeddedRuntime.start({ dataDir, ...fast });
    await first.relay.stop();
    for (let i = 0; i < 10; i++) {
      await first.store.append(`match:c${i}`, 0, [
        { event_type: 'MatchRecorded', data: matchRecorded(`c${i}`) },
      ]);
    }
    await first.stop();

    // Act: a new process on the same data.
    const second = await EmbeddedRuntime.start({ dataDir, ...fast });
    const applied = new Map<string, number[]>();
    await second.addConsumer('log', logger(applied));
    await second.settle();
    await second.stop();

    // Assess
    expect(applied.size).toBe(10);
    for (const sequences of applied.values()) expect(sequences).toEqual([1]);
  });

  it('absorbs a commit forwarded twice (a crash after PutRecords, before the marker was removed)', async () => {
    const runtime = await EmbeddedRuntime.start({ memory: true, ...fast });
    const applied = new Map<string, number[]>();
    await runtime.addConsumer('log', logger(applied));
    await runtime.store.append('match:twice', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('twice') },
    ]);
    await runtime.settle();

    // The marker comes back as if the removal never happened: the relay sends the commit again.
    await runtime.dynamo.send(
      new UpdateItemCommand({
        TableName: EVENTS_TABLE,
        Key: { aggregate_id: { S: 'match:twice' }, sequence: { N: '1' } },
        UpdateExpression: 'SET relay_pending = :p',
        ExpressionAttributeValues: { ':p': RELAY_MARKER.relay_pending },
      }),
    );
    const before = runtime.relay.stats.forwarded;
    runtime.relay.notify();
    await runtime.settle();
    const counts = runtime.consumers.get('log')?.counts;
    await runtime.stop();

    expect(runtime.relay.stats.forwarded).toBe(before + 1);
    expect(applied.get('match:twice')).toEqual([1]);
    expect(counts).toMatchObject({ applied: 1, duplicates: 1 });
  });

  it('repairs an index entry left pending for an item without the marker, instead of forwarding it forever', async () => {
    // Prepare: after the commit is forwarded, the relay index keeps answering it as pending
    // (dynalite leaves such an entry when the relay once wrote a commit it only found in the
    // index; see the next test), until the item is written again with the marker.
    const index = new IndexOnlyEntries();
    const runtime = await EmbeddedRuntime.start({
      memory: true,
      ...fast,
      configureClient: index.configure,
    });
    const applied = new Map<string, number[]>();
    await runtime.addConsumer('log', logger(applied));
    await runtime.store.append('match:stale', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('stale') },
    ]);
    await runtime.settle();
    const { Item } = await runtime.dynamo.send(
      new GetItemCommand({
        TableName: EVENTS_TABLE,
        Key: { aggregate_id: { S: 'match:stale' }, sequence: { N: '1' } },
      }),
    );
    index.add({ ...(Item as Item), ...RELAY_MARKER });
    const before = runtime.relay.stats.forwarded;

    // Act
    runtime.relay.notify();
    await runtime.settle(20_000);
    const stats = { ...runtime.relay.stats };
    await runtime.stop();

    // Assess: repaired once, not forwarded again, applied once; the pipeline settled.
    expect(stats.repaired).toBe(1);
    expect(stats.forwarded).toBe(before);
    expect(index.size).toBe(0);
    expect(applied.get('match:stale')).toEqual([1]);
  });

  it('neither forwards nor stores a commit only its index entry holds (an append stopped between the two), and forwards the one stored later', async () => {
    // Prepare: an index entry, a copy of a whole commit, for an append that never wrote its
    // item (dynalite writes the entry first); then the writer, never answered, appends a
    // commit at that position for real, another result at another time.
    const index = new IndexOnlyEntries();
    const runtime = await EmbeddedRuntime.start({
      memory: true,
      ...fast,
      configureClient: index.configure,
    });
    const applied = new Map<string, EventEnvelope[]>();
    await runtime.addConsumer('log', async (events) => {
      for (const e of events)
        applied.set(e.aggregate_id, [...(applied.get(e.aggregate_id) ?? []), e]);
    });
    const unanswered = new CommitCodec(registry, () => new Date('2026-09-01T20:00:00Z')).build(
      'match:ghost',
      0,
      [{ event_type: 'MatchRecorded', data: matchRecorded('ghost', 5, 0) }],
    );
    index.add({ ...(toItem(unanswered) as Item), ...RELAY_MARKER });
    const stored = async () =>
      (
        await runtime.dynamo.send(
          new GetItemCommand({
            TableName: EVENTS_TABLE,
            Key: { aggregate_id: { S: 'match:ghost' }, sequence: { N: '1' } },
            ConsistentRead: true,
          }),
        )
      ).Item;

    // Act
    runtime.relay.notify();
    await runtime.relay.drain();
    await runtime.relay.drain();
    await runtime.settle(20_000);
    const whileUnstored = { applied: applied.get('match:ghost'), item: await stored() };
    await runtime.store.append('match:ghost', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('ghost', 1, 1) },
    ]);
    await runtime.settle(20_000);
    const item = await stored();
    const stats = { ...runtime.relay.stats };
    await runtime.stop();

    // Assess: nothing forwarded or written for the entry alone; the commit stored later
    // forwarded as stored, and the entry of the unanswered append repaired away.
    expect(whileUnstored).toEqual({ applied: undefined, item: undefined });
    expect(stats.unstored).toBe(1);
    expect(
      applied
        .get('match:ghost')
        ?.map((e) => [e.sequence, 'home_goals' in e.data ? e.data.home_goals : undefined]),
    ).toEqual([[1, 1]]);
    expect(item?.committed_at?.S).not.toBe(unanswered.committed_at);
    expect(item?.relay_pending).toBeUndefined();
    expect(stats.repaired).toBe(1);
    expect(index.size).toBe(0);
  });
});

type Item = Record<string, AttributeValue>;

/**
 * Entries of the relay index that dynalite holds beyond its items' own: each is answered to
 * every query of the index, until an item is written at its key with the marker and its
 * `committed_at` (dynalite then overwrites that entry, and the next write without the marker
 * removes it).
 */
class IndexOnlyEntries {
  private readonly entries = new Map<string, Item>();

  get size(): number {
    return this.entries.size;
  }

  add(entry: Item): void {
    this.entries.set(`${entry.aggregate_id?.S}#${entry.sequence?.N}`, entry);
  }

  readonly configure = (client: { middlewareStack: unknown }, service: string) => {
    if (service !== 'dynamodb') return;
    (client.middlewareStack as { add: (m: unknown, o: unknown) => void }).add(
      (
        next: (a: unknown) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) =>
        async (args: { input: Record<string, unknown> }) => {
          const result = await next(args);
          const written: Item[] = [];
          if (context.commandName === 'PutItemCommand' && args.input.TableName === EVENTS_TABLE)
            written.push(args.input.Item as Item);
          if (context.commandName === 'BatchWriteItemCommand') {
            const requests = (args.input.RequestItems as Record<string, WriteRequest[]>)[
              EVENTS_TABLE
            ];
            for (const r of requests ?? []) if (r.PutRequest?.Item) written.push(r.PutRequest.Item);
          }
          for (const item of written) {
            const key = `${item.aggregate_id?.S}#${item.sequence?.N}`;
            const entry = this.entries.get(key);
            if (item.relay_pending && entry && item.committed_at?.S === entry.committed_at?.S)
              this.entries.delete(key);
          }
          if (context.commandName === 'QueryCommand' && args.input.IndexName === RELAY_INDEX)
            result.output.Items = [
              ...((result.output.Items as Item[]) ?? []),
              ...this.entries.values(),
            ];
          return result;
        },
      { step: 'initialize', name: 'indexOnlyEntries' },
    );
  };
}

describe('the change relay killed with SIGKILL in the middle of its writes', () => {
  it('loses nothing and applies nothing twice: the stream and the read models end as in a run never killed', async () => {
    // Prepare: a feed of results and corrections; a folder that runs it in one go.
    const seed = 20261202;
    const { games, corrections } = seasonAndCorrections(seed, 16, 4);
    const feed = tmp.file(
      'feed.csv',
      `${[GAMES_CSV_HEADER, ...[...games, ...corrections].map(gameCsvRow)].join('\n')}\n`,
    );
    const start = (dir: string) => ['start', '--games', feed, '--data-dir', dir, '--json'];
    const whole = tmp.path('whole');
    const once = await runMatchstream(CLI_MODULES, start(whole));
    expect(once.code, once.stderr).toBe(0);

    // Act: the same feed into another folder, the pipeline killed as soon as an append is
    // stored (others under way, none forwarded: the relay took them, they carry no marker),
    // as the relay has put commits on the stream (before it let go of them), and as the next
    // run has found the commits again and opened its checkpoint; then run to the end.
    const rng = seededRng(seed);
    const points = [
      `PutItem:${EVENTS_TABLE}:${5 + Math.floor(rng() * 20)}`,
      `PutRecords:${CHANGES_STREAM}:${1 + Math.floor(rng() * 2)}`,
      `PutItem:${RELAY_TABLE}:1`,
    ];
    const context = `seed ${seed}, kill points ${points.join(', ')}`;
    const killed = tmp.path('killed');
    for (const killAt of points) {
      const run = await runMatchstream(CLI_MODULES, start(killed), undefined, { killAt });
      expect(run.killed, `${context}: ${killAt} not reached: ${run.stderr}`).toBe(true);
    }
    const finished = await runMatchstream(CLI_MODULES, start(killed));
    expect(finished.code, `${context}: ${finished.stderr}`).toBe(0);

    // Assess
    const tables = [matchesProjection, standingsProjection, teamsProjection].map((p) =>
      generationTable(p, 1),
    );
    const expected = await folderState(whole, tables, READ_MODELS_CONSUMER);
    const found = await folderState(killed, tables, READ_MODELS_CONSUMER);
    // Every stored commit reached the stream, and nothing else did; some twice (forwarded again
    // after a kill that left the relay's checkpoint open), which the consumers absorbed.
    expect(
      [...found.stored.keys()].filter((k) => !found.streamed.has(k)),
      context,
    ).toEqual([]);
    expect(
      [...found.streamed.keys()].filter((k) => !found.stored.has(k)),
      context,
    ).toEqual([]);
    expect(
      [...found.streamed.values()].some((n) => n > 1),
      context,
    ).toBe(true);
    // The same matches and teams were stored as in the run never killed.
    const domain = (stored: Map<string, number>) =>
      [...stored.keys()].filter((k) => /^(match|team):/.test(k)).sort();
    expect(domain(found.stored), context).toEqual(domain(expected.stored));
    // The read models applied every stored event, and hold what the run never killed holds
    // (a correction applied twice would count twice in a match's corrections). A stream whose
    // one event is its first has no position (its read models ignore a repeat): the tables
    // below, equal to the run never killed, show those were applied.
    const behind = [...found.stored].filter(([key, last]) => {
      const stream = key.slice(0, key.lastIndexOf('#'));
      return last > 1 && (found.positions.get(stream) ?? 0) < last;
    });
    expect(behind, context).toEqual([]);
    const [matches = '', standings = '', teams = ''] = tables;
    expect(found.tables[matches], context).toEqual(expected.tables[matches]);
    expect(found.tables[standings], context).toEqual(expected.tables[standings]);
    // Team documents but for the times their events were appended at.
    const untimed = (docs: StoredDoc[] = []) =>
      docs.map(({ doc, ...key }) => {
        const { registered_at: _, updated_at: __, ...rest } = doc as Record<string, unknown>;
        return { ...key, doc: rest };
      });
    expect(untimed(found.tables[teams]), context).toEqual(untimed(expected.tables[teams]));
    expect(found.tables[matches]?.length).toBeGreaterThan(games.length * 4 - 1);
  }, 180_000);
});
