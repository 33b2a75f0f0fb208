import { cpSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMatchstream } from '../../../chaos/command.js';
import { ingestFeed } from '../../../chaos/reconcile.js';
import { seededRng } from '../../../chaos/rng.js';
import { startPipeline } from '../../../pipeline/embeddedPipeline.js';
import type { RebuildSummary } from '../../../pipeline/rebuild.js';
import { generationTable } from '../../../projections/ReadModelRegistry.js';
import { matchesProjection } from '../../../projections/readModels/matches.js';
import { POSITIONS_TABLE } from '../../../stream/consumer/DynamoPositionStore.js';
import { CLI_MODULES } from '../../support/cli.js';
import { seasonAndCorrections, tableDocs } from '../../support/killedRuns.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
const base = tmp.path('base');
/** A fixed seed: the kill points it picks are printed with any failure. */
const SEED = 20260918;
const KILLS = 3;

beforeAll(async () => {
  // A folder as a user has it: a season and its corrections ingested, the read models built.
  const pipeline = await startPipeline({ dataDir: base, debounceMs: 60_000 });
  try {
    const { games, corrections } = seasonAndCorrections(SEED, 40, 6);
    await ingestFeed(pipeline, games);
    await ingestFeed(pipeline, corrections);
    await pipeline.runtime.settle();
  } finally {
    await pipeline.stop();
  }
}, 120_000);

const rebuild = (dataDir: string, ...flags: string[]) => [
  'rebuild',
  '--projection',
  'matches',
  '--json',
  '--no-progress',
  '--data-dir',
  dataDir,
  ...flags,
];

describe('a rebuild killed with SIGKILL in the middle of its writes', () => {
  it('resumes into a generation equal, document for document, to a rebuild never killed', async () => {
    // Prepare: two copies of the folder; one rebuilt in one go.
    const whole = tmp.path('whole');
    const killed = tmp.path('killed');
    cpSync(base, whole, { recursive: true });
    cpSync(base, killed, { recursive: true });
    const uninterrupted = await runMatchstream(CLI_MODULES, rebuild(whole));
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);

    // Act: the other rebuilt, killed as soon as the n-th write call to its new table is done
    // (the calls sent alongside it still under way), several times, then run to the end.
    const table = generationTable(matchesProjection, 2);
    const rng = seededRng(SEED);
    const points: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      const killAt = `BatchWriteItem:${table}:${1 + Math.floor(rng() * 8)}`;
      points.push(killAt);
      const run = await runMatchstream(CLI_MODULES, rebuild(killed), undefined, { killAt });
      expect(run.killed, `seed ${SEED}, kill points ${points.join(', ')}: ${run.stderr}`).toBe(
        true,
      );
    }
    const resumed = await runMatchstream(CLI_MODULES, rebuild(killed, '--verify'));

    // Assess: verified against the live generation, switched, and the same documents as the
    // rebuild that was never killed.
    const context = `seed ${SEED}, kill points ${points.join(', ')}`;
    expect(resumed.code, `${context}: ${resumed.stderr}`).toBe(0);
    const summary = JSON.parse(resumed.stdout) as RebuildSummary;
    expect(summary, context).toMatchObject({
      generation: 2,
      resumed: true,
      completed: true,
      differences: 0,
      switched: true,
    });
    const expected = await tableDocs(whole, table);
    const found = await tableDocs(killed, table);
    expect(expected.length).toBeGreaterThan(40 * 3 * 4);
    const keys = (docs: typeof found) => docs.map((d) => `${d.pk} ${d.sk}`);
    expect(keys(found), context).toEqual(keys(expected));
    expect(found, context).toEqual(expected);
  }, 180_000);
});

describe('a rebuild flushing often, killed between flushes and in the middle of one', () => {
  it('resumes from its last checkpoint into a generation equal to a rebuild never killed', async () => {
    // Prepare: pages of 10 commits and a budget of 10 KB: a flush every few pages. The scan of
    // one segment reads the pages in one order, so each run's writes come in one order and every
    // kill point below is reached (the rebuild through the archive applies several files at once,
    // and how much a run leaves to the next depends on which finished first).
    const flags = [
      '--flush-mb',
      '0.01',
      '--page-size',
      '10',
      '--source',
      'scan',
      '--segments',
      '1',
    ];
    const whole = tmp.path('whole-flushes');
    const killed = tmp.path('killed-flushes');
    cpSync(base, whole, { recursive: true });
    cpSync(base, killed, { recursive: true });
    const uninterrupted = await runMatchstream(CLI_MODULES, rebuild(whole, ...flags));
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    expect(JSON.parse(uninterrupted.stdout)).toMatchObject({ completed: true });
    expect(
      (JSON.parse(uninterrupted.stdout) as RebuildSummary).flushes,
      'flushes',
    ).toBeGreaterThanOrEqual(3);

    // Act: killed in a flush's documents (twice, the later ones of the first run written by
    // the flushes of the next); after a flush's first positions (later flushes not done).
    const table = generationTable(matchesProjection, 2);
    const rng = seededRng(SEED + 1);
    const points = [
      `BatchWriteItem:${table}:${1 + Math.floor(rng() * 12)}`,
      `BatchWriteItem:${POSITIONS_TABLE}:${1 + Math.floor(rng() * 3)}`,
      `BatchWriteItem:${table}:${1 + Math.floor(rng() * 12)}`,
    ];
    for (const killAt of points) {
      const run = await runMatchstream(CLI_MODULES, rebuild(killed, ...flags), undefined, {
        killAt,
      });
      expect(run.killed, `seed ${SEED + 1}, kill at ${killAt}: ${run.stderr}`).toBe(true);
    }
    const resumed = await runMatchstream(CLI_MODULES, rebuild(killed, ...flags, '--verify'));

    // Assess
    const context = `seed ${SEED + 1}, kill points ${points.join(', ')}`;
    expect(resumed.code, `${context}: ${resumed.stderr}`).toBe(0);
    expect(JSON.parse(resumed.stdout) as RebuildSummary, context).toMatchObject({
      generation: 2,
      resumed: true,
      completed: true,
      differences: 0,
      switched: true,
    });
    const expected = await tableDocs(whole, table);
    expect(expected.length).toBeGreaterThan(40 * 3 * 4);
    expect(await tableDocs(killed, table), context).toEqual(expected);
  }, 240_000);
});
