import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { rebuildReadModel } from '../../../pipeline/rebuild.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { pipelineStatsProjection } from '../../../projections/readModels/pipelineStats.js';
import { standingsProjection } from '../../../projections/readModels/standings.js';
import { teamsProjection } from '../../../projections/readModels/teams.js';
import { FolderStorage } from '../../../stream/archive/ArchiveStorage.js';
import { exportTableLocally } from '../../../stream/archive/exportTable.js';
import { listExports } from '../../../stream/archive/readExport.js';
import { DynamoCheckpointStore } from '../../../stream/consumer/CheckpointStore.js';
import { feedRows } from '../../support/games.js';
import { tempDir } from '../../support/tempDir.js';

let pipeline: EmbeddedPipeline;
const folder = tempDir('archive-rebuild-');
const storage = new FolderStorage(folder.dir);
const archive = { storage, prefix: 'events' };

async function ingest(seed: number, teams = 16) {
  const season = generateSeason({ teams, gamesPerTeam: 5, seed, season: `S${seed}` });
  return ingestGames(feedRows(season.games), { store: pipeline.runtime.store, concurrency: 8 });
}

beforeAll(async () => {
  pipeline = await startPipeline({ memory: true, debounceMs: 100 });
  await ingest(1);
  await pipeline.runtime.settle();
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('rebuild through the archive', () => {
  it('exports the store, applies the files, catches up what arrived meanwhile, verifies and switches', async () => {
    // Act: results of another season arrive while the rebuild runs.
    const [summary] = await Promise.all([
      rebuildReadModel(pipeline, standingsProjection, { verify: true, archive }),
      ingest(2),
    ]);
    await pipeline.runtime.settle();
    const { exports } = await listExports(storage, 'events');

    // Assess
    expect(exports).toHaveLength(1);
    expect(summary).toMatchObject({
      source: 'archive',
      exports: [exports[0]?.id],
      completed: true,
      switched: true,
      differences: 0,
      fault: false,
    });
    expect(summary.scanned).toBeGreaterThanOrEqual(exports[0]?.summary.itemCount ?? 0);
    expect((await pipeline.queries.standings('S2')).flatMap((c) => c.teams).length).toBe(16);
  });

  it('reuses a recent export chain and reads what came after it from the stream', async () => {
    // Prepare: a third season, after the export.
    await ingest(3);
    await pipeline.runtime.settle();

    // Act
    const summary = await rebuildReadModel(pipeline, matchesProjection, { verify: true, archive });
    const { exports } = await listExports(storage, 'events');

    // Assess: no new export; the new generation equals the live one, S3 included, each of
    // its results counted as caught up from the stream (the shards' lanes apply at once).
    expect(exports).toHaveLength(1);
    expect(summary).toMatchObject({ completed: true, switched: true, differences: 0 });
    const active = await pipeline.registry.active(matchesProjection);
    expect(active.generation).toBe(summary.generation);
    const games = generateSeason({ teams: 16, gamesPerTeam: 5, seed: 3, season: 'S3' }).games;
    expect(summary.caught_up).toBe(games.length);
    expect(await (await pipeline.tableStore(active.table)).query('season#S3')).toHaveLength(
      games.length,
    );
  });

  it('catches up from an export chain whose end is later than every record of the stream', async () => {
    // Prepare: an incremental export dated after the last record arrived.
    const { exports: before } = await listExports(storage, 'events');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const start = Date.now();
    await exportTableLocally({
      client: pipeline.runtime.dynamo,
      table: pipeline.runtime.store.table,
      storage,
      prefix: 'events',
      incremental: { from: before.at(-1)?.upTo ?? '' },
      now: () => start + 60_000,
    });

    // Act
    const summary = await rebuildReadModel(pipeline, teamsProjection, { verify: true, archive });

    // Assess: every record of the stream is older than the chain: the catch-up handed none
    // to the read model, and started after where the live read models stand, so it passed
    // over at most what arrived after that (here nothing), not the whole stream.
    expect(summary).toMatchObject({ completed: true, switched: true, differences: 0 });
    expect(summary.exports).toHaveLength(2);
    const catchUp = pipeline.runtime.consumers.get(`read-model:teams:g${summary.generation}`);
    expect(pipeline.runtime.relay.stats.forwarded).toBeGreaterThan(0);
    expect(catchUp?.mapping.stats.invoked).toBe(0);
    expect(catchUp?.mapping.stats.skipped).toBeLessThan(pipeline.runtime.relay.stats.forwarded);
    expect(catchUp?.counts.applied).toBe(0);
    // What it passed over stays passed over: its checkpoints stand where the live read models'
    // do, so the next pipeline on the folder does not read the stream again from its oldest.
    const checkpoints = new DynamoCheckpointStore(pipeline.runtime.dynamo);
    for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
      const live = await checkpoints.get('read-models', shard);
      const rebuilt = await checkpoints.get(`read-model:teams:g${summary.generation}`, shard);
      expect(live?.sequenceNumber).toBeDefined();
      expect(rebuilt?.sequenceNumber).toBe(live?.sequenceNumber);
    }
  });

  it('continues an interrupted rebuild with the files it had not done', async () => {
    // Prepare
    const controller = new AbortController();

    // Act
    const first = await rebuildReadModel(pipeline, pipelineStatsProjection, {
      archive: { ...archive, fileConcurrency: 1 },
      signal: controller.signal,
      onProgress: (p) => {
        if (p.scanned > 0) controller.abort();
      },
    });
    const second = await rebuildReadModel(pipeline, pipelineStatsProjection, {
      verify: true,
      archive,
    });

    // Assess
    expect(first).toMatchObject({ completed: false, switched: false });
    expect(second).toMatchObject({
      completed: true,
      resumed: true,
      switched: true,
      differences: 0,
      generation: first.generation,
    });
  });

  it('fails, and switches nothing, when a data file does not hold what its manifest says', async () => {
    // Prepare: a data file of the newest full export loses its first line.
    const { exports } = await listExports(storage, 'events');
    const full = exports.find((e) => !e.incremental);
    const file = full?.files.find((f) => f.itemCount > 1);
    if (!file) throw new Error('no data file with items');
    const path = storage.path(file.dataFileS3Key);
    const original = readFileSync(path);
    const lines = gunzipSync(original).toString('utf8').split('\n').filter(Boolean);
    writeFileSync(path, gzipSync(`${lines.slice(1).join('\n')}\n`));
    const activeBefore = (await pipeline.registry.entry(standingsProjection)).active;

    // Act
    const failed = rebuildReadModel(pipeline, standingsProjection, { archive });

    // Assess
    await expect(failed).rejects.toThrow(
      `${storage.description}/${file.dataFileS3Key} holds ${file.itemCount - 1} items, its manifest line says ${file.itemCount}`,
    );
    writeFileSync(path, original);
    expect((await pipeline.registry.entry(standingsProjection)).active).toBe(activeBefore);
  });
});
