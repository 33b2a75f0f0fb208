import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { chainUpToDate, localExporter } from '../../../pipeline/archiveChainUpToDate.js';
import { interruptedChain, replayArchiveToFile } from '../../../pipeline/archiveFileReplay.js';
import { exportChain } from '../../../pipeline/archiveReplay.js';
import { FolderStorage } from '../../../stream/archive/ArchiveStorage.js';
import { exportTableLocally } from '../../../stream/archive/exportTable.js';
import { type ArchivedExport, listExports } from '../../../stream/archive/readExport.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import { toItem } from '../../../stream/eventStore/commitItem.js';
import type { UnreadableEvent } from '../../../stream/eventStore/UnreadableEvents.js';
import { type OpenedStore, openEventStore } from '../../../stream/local/openEventStore.js';
import { FileTarget } from '../../../stream/replay/FileTarget.js';
import { InMemoryReplayCheckpoints } from '../../../stream/replay/ReplayCheckpoints.js';
import { type ReplayFilters, replay } from '../../../stream/replay/replay.js';
import { feedRows } from '../../support/games.js';
import { corruptCommit, matchRecorded } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('archive-file-replay-');
let opened: OpenedStore;
let storage: FolderStorage;
let codec: CommitCodec;
let run = 0;

async function ingest(seed: number) {
  const season = generateSeason({ teams: 16, gamesPerTeam: 6, seed, season: `S${seed}` });
  return ingestGames(feedRows(season.games), { store: opened.store, concurrency: 8 });
}

/** The lines of a JSON Lines file. */
function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

/** The store replayed to a file by the table scan, as `replay --source scan` does. */
async function scanned(filters: ReplayFilters = {}): Promise<string[]> {
  const path = tmp.path(`scan-${++run}.jsonl`);
  await replay({
    source: opened.store,
    target: new FileTarget(path),
    name: 'scan',
    checkpoints: new InMemoryReplayCheckpoints(),
    filters,
  });
  return lines(path);
}

/** The store replayed to a file through the archive's chain. */
async function throughArchive(
  chain: readonly ArchivedExport[],
  options: {
    filters?: ReplayFilters;
    tail?: boolean;
    checkpoints?: InMemoryReplayCheckpoints;
    path?: string;
    target?: FileTarget;
    signal?: AbortSignal;
    concurrency?: number;
    onUnreadable?: (event: UnreadableEvent) => Promise<void>;
  } = {},
) {
  const path = options.path ?? tmp.path(`archive-${++run}.jsonl`);
  const summary = await replayArchiveToFile({
    storage,
    chain,
    target: options.target ?? new FileTarget(path),
    name: 'archive',
    checkpoints: options.checkpoints ?? new InMemoryReplayCheckpoints(),
    codec,
    ...(options.filters ? { filters: options.filters } : {}),
    ...(options.tail === false
      ? {}
      : { tail: (after: string) => opened.store.itemsCommittedAfter(after) }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.onUnreadable ? { onUnreadable: options.onUnreadable } : {}),
  });
  return { summary, lines: lines(path) };
}

const chainNow = async () => exportChain((await listExports(storage, 'events')).exports);
const sorted = (values: readonly string[]) => [...values].sort();

beforeAll(async () => {
  opened = await openEventStore({ memory: true });
  storage = new FolderStorage(tmp.path('archive'));
  codec = new CommitCodec(opened.registry);
  await ingest(1);
}, 60_000);

afterAll(async () => {
  await opened?.close();
});

describe('replay to a file through the archive', () => {
  it('brings the chain up to date with a full export and writes the same events as the scan', async () => {
    // Act
    const updated = await chainUpToDate(
      storage,
      'events',
      localExporter({ client: opened.client, table: opened.table, storage, prefix: 'events' }),
    );
    const archived = await throughArchive(updated.chain);
    const scan = await scanned();

    // Assess: the same envelopes, byte for byte, each once.
    expect(updated.exported).toBe('full');
    expect(updated.chain).toHaveLength(1);
    expect(scan.length).toBeGreaterThan(40);
    expect(sorted(archived.lines)).toEqual(sorted(scan));
    expect(new Set(archived.lines).size).toBe(archived.lines.length);
    expect(archived.summary).toMatchObject({
      source: 'archive',
      completed: true,
      exports: [updated.chain[0]?.id],
      up_to: updated.chain[0]?.upTo,
      events: scan.length,
      files: 4,
      unreadable: 0,
    });
    // The export is a minute behind its start: the table's commits since then were read again.
    expect(archived.summary.tail?.events).toBe(0);
    expect(archived.summary.duplicates).toBe(archived.summary.tail?.items);
  });

  it('reuses a recent chain without a new export', async () => {
    // Act
    const updated = await chainUpToDate(
      storage,
      'events',
      localExporter({ client: opened.client, table: opened.table, storage, prefix: 'events' }),
    );

    // Assess
    expect(updated.exported).toBeNull();
    expect(updated.chain).toHaveLength(1);
  });

  it('applies the filters as the scan does: types, a time range, streams', async () => {
    // Prepare
    const chain = await chainNow();
    const all = (await scanned()).map((l) => JSON.parse(l) as { timestamp: string });
    const times = all.map((e) => e.timestamp).sort();
    const since = times[Math.floor(times.length / 3)] as string;
    const until = times[Math.floor((2 * times.length) / 3)] as string;
    const some = (await scanned({ eventTypes: ['MatchRecorded'] }))
      .slice(0, 3)
      .map((l) => (JSON.parse(l) as { aggregate_id: string }).aggregate_id);
    const cases: ReplayFilters[] = [
      { eventTypes: ['TeamRegistered'] },
      { eventTypes: ['MatchRecorded'], from: since, to: until },
      { aggregateIds: some },
    ];

    for (const filters of cases) {
      // Act
      const archived = await throughArchive(chain, { filters });
      const scan = await scanned(filters);

      // Assess
      expect(scan.length).toBeGreaterThan(0);
      expect(scan.length).toBeLessThan(all.length);
      expect(sorted(archived.lines)).toEqual(sorted(scan));
    }
  });

  it('writes the events committed after the chain from the table, and ends at the chain without the tail', async () => {
    // Prepare: an appended stream the export cannot hold.
    const chain = await chainNow();
    await opened.store.append('match:after-export', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('match:after-export') },
    ]);

    // Act
    const withTail = await throughArchive(chain);
    const withoutTail = await throughArchive(chain, { tail: false });
    const scan = await scanned();

    // Assess
    const appended = (l: string) => l.includes('"match:after-export"');
    expect(withTail.lines.filter(appended)).toHaveLength(1);
    expect(sorted(withTail.lines)).toEqual(sorted(scan));
    expect(withTail.summary.tail?.events).toBe(1);
    expect(withoutTail.lines.filter(appended)).toHaveLength(0);
    expect(withoutTail.summary.tail).toBeNull();
    expect(withoutTail.lines).toHaveLength(scan.length - 1);
  });

  it('writes a commit held by an overlapping incremental export once', async () => {
    // Prepare: another season, then an incremental export dated so that its window holds
    // every commit of the last minute, which the full export holds too.
    await ingest(2);
    const [full] = await chainNow();
    const start = Date.now();
    await exportTableLocally({
      client: opened.client,
      table: opened.table,
      storage,
      prefix: 'events',
      incremental: { from: full?.upTo ?? '' },
      now: () => start + 60_000,
    });
    const chain = await chainNow();

    // Act
    const archived = await throughArchive(chain, { tail: false });
    const scan = await scanned();

    // Assess: the incremental export holds the full export's commits again, each written once.
    expect(chain).toHaveLength(2);
    const incremental = chain[1];
    expect(incremental?.incremental).toBe(true);
    expect(incremental?.summary.itemCount).toBeGreaterThan(0);
    expect(archived.summary.exports).toEqual(chain.map((e) => e.id));
    expect(archived.summary.duplicates).toBeGreaterThanOrEqual(full?.summary.itemCount ?? 0);
    expect(new Set(archived.lines).size).toBe(archived.lines.length);
    expect(sorted(archived.lines)).toEqual(sorted(scan));
  });

  it('continues an interrupted replay with the files it had not written, writing nothing twice', async () => {
    // Prepare
    const chain = await chainNow();
    const checkpoints = new InMemoryReplayCheckpoints();
    const path = tmp.path('resumed.jsonl');
    const controller = new AbortController();
    const ticks = { files: 0 };

    // Act: stopped after the first file was written.
    const first = await replayArchiveToFile({
      storage,
      chain,
      target: new FileTarget(path),
      name: 'resumed',
      checkpoints,
      codec,
      concurrency: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.filesDone > ticks.files) {
          ticks.files = p.filesDone;
          controller.abort();
        }
      },
    });
    const afterFirst = lines(path).length;
    const goingOn = await interruptedChain(checkpoints, 'resumed', storage, 'events');
    const second = await replayArchiveToFile({
      storage,
      chain,
      target: new FileTarget(path),
      name: 'resumed',
      checkpoints,
      codec,
      tail: (after) => opened.store.itemsCommittedAfter(after),
    });

    // Assess
    expect(first).toMatchObject({ completed: false, resumed: false });
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBe(first.events);
    expect(goingOn?.map((e) => e.id)).toEqual(chain.map((e) => e.id));
    expect(await interruptedChain(checkpoints, 'resumed', storage, 'events')).toBeUndefined();
    expect(second).toMatchObject({ completed: true, resumed: true });
    const all = lines(path);
    expect(new Set(all).size).toBe(all.length);
    expect(sorted(all)).toEqual(sorted(await scanned()));
  });

  it('keeps an unreadable stored event aside with why, with the later events of its stream', async () => {
    // Prepare: a corrupt commit and a good one after it in the same stream.
    const id = 'team:Corrupt';
    const bad = corruptCommit(id, 1, 'TeamRegistered', '77777777-7777-4777-8777-777777777777');
    await opened.client.send(new PutItemCommand({ TableName: opened.table, Item: toItem(bad) }));
    const found: UnreadableEvent[] = [];

    // Act
    const archived = await throughArchive(await chainNow(), {
      onUnreadable: async (event) => {
        found.push(event);
      },
    });

    // Assess
    expect(archived.summary.unreadable).toBe(1);
    expect(found).toEqual([
      expect.objectContaining({ aggregate_id: id, sequence: 1, held_back: false }),
    ]);
    expect(archived.lines.some((l) => l.includes(`"${id}"`))).toBe(false);
  });

  it('fails naming the data file that does not hold what its manifest says', async () => {
    // Prepare: a data file of the full export loses its first line.
    const chain = await chainNow();
    const file = chain[0]?.files.find((f) => f.itemCount > 1);
    if (!file) throw new Error('no data file with items');
    const path = storage.path(file.dataFileS3Key);
    const original = readFileSync(path);
    const kept = gunzipSync(original).toString('utf8').split('\n').filter(Boolean).slice(1);
    writeFileSync(path, gzipSync(`${kept.join('\n')}\n`));

    const target = new FileTarget(tmp.path('corrupt.jsonl'));
    let closed = 0;
    const close = target.close.bind(target);
    target.close = () => {
      closed++;
      return close();
    };

    // Act
    const replaying = throughArchive(chain, { target });

    // Assess
    await expect(replaying).rejects.toThrow(
      `${storage.description}/${file.dataFileS3Key} holds ${file.itemCount - 1} items, its manifest line says ${file.itemCount}`,
    );
    // The failed run let go of its file.
    expect(closed).toBe(1);
    writeFileSync(path, original);
  });
});
