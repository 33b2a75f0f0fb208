import { cpSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ingestFeed } from '../../chaos/reconcile.js';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import type { RebuildSummary } from '../../pipeline/rebuild.js';
import type { StoredDoc } from '../../projections/Projection.js';
import { matchesProjection } from '../../projections/readModels/matches.js';
import { runCli, serveFolder } from '../support/cli.js';
import { seasonAndCorrections } from '../support/killedRuns.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();
const base = tmp.path('base');
let lost: StoredDoc;
let altered: StoredDoc;

beforeAll(async () => {
  // A folder whose live matches generation lost a document and has another one wrong.
  const pipeline = await startPipeline({ dataDir: base, debounceMs: 60_000 });
  try {
    await ingestFeed(pipeline, seasonAndCorrections(5, 12, 4).games);
    await pipeline.runtime.settle();
    const live = await pipeline.tableStore(
      (await pipeline.registry.active(matchesProjection)).table,
    );
    const docs = await live.query('season#2026');
    [lost, altered] = docs as [StoredDoc, StoredDoc];
    await live.write([{ ...altered, doc: { ...altered.doc, away_goals: 42 } }], [lost]);
  } finally {
    await pipeline.stop();
  }
}, 60_000);

async function activeMatches(data: string): Promise<number> {
  const list = await runCli(['projections', 'list', '--json', '--data-dir', data]);
  expect(list.code, list.stderr).toBe(0);
  const entries = JSON.parse(list.stdout) as { name: string; active: number }[];
  return entries.find((e) => e.name === 'matches')?.active ?? 0;
}

const fault = (differences: number) =>
  new RegExp(
    `^matchstream: matches generation 2 differs from the active generation 1 in ${differences} documents \\(.*(extra|changed) .*\\) although version 2 of the read model built both: a fault, not a change of logic, so generation 1 stays active; .*\\n$`,
  );

describe('a rebuild of the read model version that built the live generation', () => {
  it('finding differences with --verify, does not switch, names them and exits 1', async () => {
    const data = tmp.path('direct');
    cpSync(base, data, { recursive: true });

    const run = await runCli([
      'rebuild',
      '--projection',
      'matches',
      '--verify',
      '--json',
      '--no-progress',
      '--data-dir',
      data,
    ]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(fault(2));
    expect(run.stderr).toContain(`extra ${lost.pk}/${lost.sk}`);
    expect(run.stderr).toContain(`changed ${altered.pk}/${altered.sk}`);
    const summary = JSON.parse(run.stdout) as RebuildSummary;
    expect(summary).toMatchObject({
      completed: true,
      differences: 2,
      fault: true,
      switched: false,
    });
    expect(await activeMatches(data)).toBe(1);
  });

  it('with --no-verify, compares nothing and switches', async () => {
    const data = tmp.path('unverified');
    cpSync(base, data, { recursive: true });

    const run = await runCli([
      'rebuild',
      '--projection',
      'matches',
      '--no-verify',
      '--json',
      '--no-progress',
      '--data-dir',
      data,
    ]);

    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      completed: true,
      differences: null,
      fault: false,
      switched: true,
    });
    expect(await activeMatches(data)).toBe(2);
  });

  it('finding differences through the server holding the folder, without --verify, does the same', async () => {
    const data = tmp.path('served');
    cpSync(base, data, { recursive: true });
    const { stop } = await serveFolder(data);
    let run: Awaited<ReturnType<typeof runCli>>;
    try {
      run = await runCli([
        'rebuild',
        '--projection',
        'matches',
        '--no-progress',
        '--data-dir',
        data,
      ]);
    } finally {
      await stop();
    }

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('verified: 2 documents differ from the live generation');
    expect(run.stdout).toContain('active generation still 1');
    expect(run.stderr).toMatch(fault(2));
    expect(await activeMatches(data)).toBe(1);
  });
});
