import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Game } from '../../../domain/games/Game.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { rebuildReadModel } from '../../../pipeline/rebuild.js';
import type { Projection } from '../../../projections/Projection.js';
import { matchesOfSeason, matchesProjection } from '../../../projections/readModels/matches.js';
import { SchemaRegistry } from '../../../schemas/SchemaRegistry.js';
import type { EventStore } from '../../../stream/eventStore/EventStore.js';
import { feedRows } from '../../support/games.js';
import { latestVersion } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

/** The schemas as they were before `MatchRecorded` v3 and `MatchResultCorrected` v2. */
function previousSchemas(): SchemaRegistry {
  const dir = tmp.path('avro-before-venue');
  cpSync('schemas/avro', dir, { recursive: true });
  const keep = (type: string, last: number) => {
    for (const file of readdirSync(join(dir, type)))
      if (Number(/^v(\d+)\.avsc$/.exec(file)?.[1]) > last) rmSync(join(dir, type, file));
  };
  keep('MatchRecorded', 2);
  keep('MatchResultCorrected', 1);
  return SchemaRegistry.fromDirectory(dir);
}

/** The matches read model as it was before it kept the venue. */
const matchesV1: Projection = {
  ...matchesProjection,
  version: 1,
  evolve(view, event) {
    const changes = matchesProjection.evolve(view, event);
    const put = (changes.put ?? []).map((p) => {
      const { venue: _venue, ...doc } = p.doc as Record<string, unknown>;
      return { ...p, doc };
    });
    return { ...changes, put };
  },
};

async function ingest(store: EventStore, games: readonly Game[]) {
  return ingestGames(feedRows(games), { store, concurrency: 8 });
}

describe('schema evolution on a real change: the venue of a match', () => {
  it('reads events written before the change with a null venue, and a rebuild by replay brings the read model up to the new version', async () => {
    // Prepare: a data folder written by the release before the venue existed.
    const dataDir = tmp.path('data');
    const before = generateSeason({ teams: 12, gamesPerTeam: 4, seed: 7, season: 'S1' });
    const old = await startPipeline({
      dataDir,
      debounceMs: 60_000,
      schemas: previousSchemas(),
      readModels: READ_MODELS.map((p) => (p.name === 'matches' ? matchesV1 : p)),
    });
    await ingest(old.runtime.store, before.games);
    await old.runtime.settle();
    const writtenBefore = await matchesOfSeason(old.stores.matches, 'S1');
    await old.stop();

    // Act: this release reads the same folder; a feed with venues arrives.
    const after = generateSeason({ teams: 12, gamesPerTeam: 4, seed: 8, season: 'S2' });
    const pipeline = await startPipeline({ dataDir, debounceMs: 60_000 });
    try {
      await ingest(
        pipeline.runtime.store,
        after.games.map((g) => ({ ...g, venue: `${g.homeTeam} Field` })),
      );
      await pipeline.runtime.settle();
      const stored = await pipeline.runtime.store.read(`match:${before.games[0]?.matchId ?? ''}`);
      const entryBefore = await pipeline.registry.entry(matchesProjection);
      const servedBefore = await matchesOfSeason(pipeline.stores.matches, 'S1');
      const rebuild = await rebuildReadModel(pipeline, matchesProjection, { verify: true });
      const s1 = await matchesOfSeason(pipeline.stores.matches, 'S1');
      const s2 = await matchesOfSeason(pipeline.stores.matches, 'S2');

      // Assess: old events decode at the new version with the default...
      expect(writtenBefore).toHaveLength(before.games.length);
      expect(writtenBefore.every((m) => !('venue' in m))).toBe(true);
      expect(stored[0]).toMatchObject({
        event_type: 'MatchRecorded',
        version: latestVersion('MatchRecorded'),
      });
      expect(stored[0]?.data).toHaveProperty('venue', null);
      // ...the live generation, built by matches v1, lacks the field until the rebuild...
      expect(entryBefore.generations[0]?.projection_version).toBe(1);
      expect(servedBefore.every((m) => !('venue' in m))).toBe(true);
      // ...which replays every match into matches v2 and switches to it.
      expect(rebuild).toMatchObject({
        projection: 'matches',
        generation: 2,
        completed: true,
        switched: true,
      });
      // Each S1 match has four documents (its own, its season's, its two teams'), all changed.
      expect(rebuild.differences).toBe(before.games.length * 4);
      expect(s1).toHaveLength(before.games.length);
      expect(s1.every((m) => m.venue === null)).toBe(true);
      expect(s2).toHaveLength(after.games.length);
      expect(s2.every((m) => m.venue === `${m.home_team} Field`)).toBe(true);
    } finally {
      await pipeline.stop();
    }
  }, 90_000);
});
