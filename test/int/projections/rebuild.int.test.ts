import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { compareTables, rebuildReadModel } from '../../../pipeline/rebuild.js';
import { generationConsumer } from '../../../projections/ReadModelRegistry.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { standingsProjection } from '../../../projections/readModels/standings.js';
import { teamsProjection } from '../../../projections/readModels/teams.js';
import { feedRows } from '../../support/games.js';

let pipeline: EmbeddedPipeline;

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

describe('rebuild without downtime', () => {
  it('builds a new generation while results keep coming, verifies it and switches', async () => {
    const before = await pipeline.queries.standings('S1');

    // Results of another season arrive while the rebuild runs.
    const [summary] = await Promise.all([
      rebuildReadModel(pipeline, standingsProjection, { verify: true, pageSize: 10 }),
      ingest(2),
    ]);
    await pipeline.runtime.settle();

    expect(summary).toMatchObject({
      projection: 'standings',
      generation: 2,
      previous_generation: 1,
      completed: true,
      switched: true,
      differences: 0,
    });
    const entry = await pipeline.registry.entry(standingsProjection);
    expect(entry.active).toBe(2);
    expect(entry.generations.map((g) => g.status)).toEqual(['live', 'live']);
    // Both generations stay current, and queries read the new one.
    const old = await pipeline.tableStore(entry.generations[0]?.table ?? '');
    const rebuilt = await pipeline.tableStore(entry.generations[1]?.table ?? '');
    expect(await compareTables(old, rebuilt)).toEqual({ count: 0, differences: [] });
    expect(await pipeline.queries.standings('S1')).toEqual(before);
    expect((await pipeline.queries.standings('S2')).flatMap((c) => c.teams).length).toBe(16);
  });

  it('continues an interrupted rebuild from its checkpoint', async () => {
    const controller = new AbortController();

    const first = await rebuildReadModel(pipeline, teamsProjection, {
      pageSize: 3,
      segments: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.scanned >= 6) controller.abort();
      },
    });
    const registryWhileInterrupted = await pipeline.registry.entry(teamsProjection);
    const second = await rebuildReadModel(pipeline, teamsProjection, { verify: true, segments: 1 });

    expect(first).toMatchObject({ completed: false, switched: false, generation: 2 });
    expect(registryWhileInterrupted.active).toBe(1);
    expect(second).toMatchObject({
      completed: true,
      resumed: true,
      generation: 2,
      switched: true,
      differences: 0,
    });
  });

  it('ends interrupted, switching nothing, when stopped after its replay, and goes on when run again', async () => {
    // Prepare: Ctrl-C comes as the catch-up from the stream begins, the replay done.
    const controller = new AbortController();
    const runtime = pipeline.runtime;
    const addConsumer = runtime.addConsumer;
    runtime.addConsumer = (...args) => {
      controller.abort();
      return addConsumer.apply(runtime, args);
    };

    // Act
    let first: Awaited<ReturnType<typeof rebuildReadModel>>;
    try {
      first = await rebuildReadModel(pipeline, standingsProjection, {
        verify: true,
        signal: controller.signal,
      });
    } finally {
      runtime.addConsumer = addConsumer;
    }
    const whileInterrupted = await pipeline.registry.entry(standingsProjection);
    const second = await rebuildReadModel(pipeline, standingsProjection, { verify: true });

    // Assess: the first neither switched nor said it completed; the second went on from it.
    expect(first).toMatchObject({ completed: false, switched: false, generation: 3 });
    expect(whileInterrupted.active).toBe(2);
    expect(second).toMatchObject({
      completed: true,
      resumed: true,
      generation: 3,
      switched: true,
      differences: 0,
    });
    expect((await pipeline.registry.entry(standingsProjection)).active).toBe(3);
  });

  it('keeps the active generation when a rebuild of its own version differs from it, with or without --verify', async () => {
    // Prepare: the live matches generation loses a document and another one goes wrong.
    const live = await pipeline.tableStore(
      (await pipeline.registry.active(matchesProjection)).table,
    );
    const [lost, altered] = (await live.query('season#S1')).slice(0, 2);
    if (!lost || !altered) throw new Error('no matches of S1');
    await live.write([{ ...altered, doc: { ...altered.doc, home_goals: 99 } }], [lost]);

    // Act: a rebuild asked to verify, then one that is not.
    const verified = await rebuildReadModel(pipeline, matchesProjection, { verify: true });
    const unasked = await rebuildReadModel(pipeline, matchesProjection, {});
    const entry = await pipeline.registry.entry(matchesProjection);

    // Assess: both compared, found the two documents, and did not switch; the new
    // generations are kept, fed and inactive.
    const expected = {
      projection_version: matchesProjection.version,
      previous_version: matchesProjection.version,
      completed: true,
      differences: 2,
      fault: true,
      switched: false,
    };
    expect(verified).toMatchObject({ ...expected, generation: 2, previous_generation: 1 });
    expect(unasked).toMatchObject({ ...expected, generation: 3, previous_generation: 1 });
    expect(new Set(verified.difference_samples)).toEqual(
      new Set([
        { pk: lost.pk, sk: lost.sk, kind: 'extra' },
        { pk: altered.pk, sk: altered.sk, kind: 'changed' },
      ]),
    );
    expect(entry.active).toBe(1);
    expect(entry.generations.map((g) => g.status)).toEqual(['live', 'live', 'live']);
  });

  it('reports as caught up only what the stream brought beyond the replay', async () => {
    // Prepare: nothing arriving; the stream holds every record the replay reads too.
    await pipeline.runtime.settle();
    const entry = await pipeline.registry.entry(matchesProjection);

    // Act
    const quiet = await rebuildReadModel(pipeline, matchesProjection, { noSwitch: true });
    const [busy] = await Promise.all([
      rebuildReadModel(pipeline, matchesProjection, { noSwitch: true, pageSize: 10 }),
      ingest(3),
    ]);
    await pipeline.runtime.settle();

    // Assess: the stream's records of what the replay applied are repeats, not counted; of the
    // 40 results arriving during the second, what the replay did not read is.
    expect(entry.active).toBe(1);
    expect(quiet.events).toBeGreaterThan(0);
    expect(quiet.caught_up).toBe(0);
    expect(busy.events + busy.caught_up).toBeGreaterThanOrEqual(quiet.events + 40);
    expect(busy.caught_up).toBeLessThanOrEqual(40);
  });

  it('catches up from where the live read models stood when its scan began, not from the oldest record', async () => {
    await pipeline.runtime.settle();

    const quiet = await rebuildReadModel(pipeline, teamsProjection, { noSwitch: true });
    const mapping = pipeline.runtime.consumers.get(
      generationConsumer(teamsProjection.name, quiet.generation),
    )?.mapping;

    // The stream holds every commit so far; the generation's consumer read next to none of
    // them (handed or passed over), the replay having scanned them.
    expect(pipeline.runtime.relay.stats.forwarded).toBeGreaterThan(200);
    expect(mapping).toBeDefined();
    expect((mapping?.stats.invoked ?? 0) + (mapping?.stats.skipped ?? 0)).toBeLessThan(10);
    expect(quiet).toMatchObject({ completed: true, caught_up: 0 });
  });

  it('compares documents as JSON values, whatever the order of their keys', async () => {
    const a = await pipeline.tableStore('compare-a');
    const b = await pipeline.tableStore('compare-b');
    await a.write([{ pk: 'p', sk: 's', doc: { x: 1, y: { u: [1, 2], v: null } } }], []);
    await b.write([{ pk: 'p', sk: 's', doc: { y: { v: null, u: [1, 2] }, x: 1 } }], []);
    expect(await compareTables(a, b)).toEqual({ count: 0, differences: [] });
    await b.write([{ pk: 'p', sk: 's', doc: { y: { v: null, u: [2, 1] }, x: 1 } }], []);
    expect(await compareTables(a, b)).toEqual({
      count: 1,
      differences: [{ pk: 'p', sk: 's', kind: 'changed' }],
    });
  });
});
