import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import type { Projection } from '../../projections/Projection.js';
import { toItem } from '../../stream/eventStore/commitItem.js';
import { EVENTS_TABLE, RELAY_MARKER } from '../../stream/eventStore/eventsTable.js';
import { localMappingUuid } from '../../stream/local/EventSourceMapping.js';
import { runCli } from '../support/cli.js';
import { corruptCommit, matchRecorded } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('dead-letters-e2e-');
const data = tmp.path('data');

/** The bug of a release: a read model that throws on one match (the fix is the next release). */
const buggy: Projection = {
  name: 'buggy',
  version: 1,
  eventTypes: ['MatchRecorded'],
  reads: () => [],
  evolve(_view, event) {
    if (event.aggregate_id === 'match:bad') throw new Error('the buggy release fails on this one');
    return {};
  },
};

interface Listed {
  id: string;
  consumer: string;
  events: { aggregate_id: string; sequence: number }[];
  attempts: number;
  error: string;
  kept_in: { place: string }[];
}

beforeAll(async () => {
  // Prepare: the buggy release runs on the folder and dead-letters match:bad; a corrupt commit
  // is dead-lettered by every consumer that reads it whatever the release (the saga consumer's
  // filter holds back every record but the sagas' own).
  const pipeline = await startPipeline({
    dataDir: data,
    readModels: [...READ_MODELS, buggy],
    retryDelayMs: 1,
  });
  try {
    const { store, dynamo } = pipeline.runtime;
    await store.append('match:bad', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('bad') },
    ]);
    await store.append('match:good', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('good') },
    ]);
    await dynamo.send(
      new PutItemCommand({
        TableName: EVENTS_TABLE,
        Item: {
          ...toItem(corruptCommit('match:corrupt', 1, 'MatchRecorded', 'e-corrupt')),
          ...RELAY_MARKER,
        },
      }),
    );
    pipeline.runtime.relay.notify();
    await pipeline.runtime.settle();
  } finally {
    await pipeline.stop();
  }
}, 120_000);

const list = async (...args: string[]) => {
  const run = await runCli(['dead-letters', 'list', '--data-dir', data, '--json', ...args]);
  expect([run.code, run.stderr]).toEqual([0, '']);
  return JSON.parse(run.stdout) as Listed[];
};

describe('matchstream dead-letters', () => {
  it('lists every letter of the folder with an id that show takes', async () => {
    // Act
    const all = await list();
    const readModels = await list('--consumer', 'read-models');
    const text = await runCli(['dead-letters', 'list', '--data-dir', data]);
    const bad = readModels.find((l) => l.events[0]?.aggregate_id === 'match:bad');
    const shown = await runCli(['dead-letters', 'show', bad?.id ?? '?', '--data-dir', data]);
    const shownJson = await runCli([
      'dead-letters',
      'show',
      bad?.id ?? '?',
      '--data-dir',
      data,
      '--json',
    ]);
    const missing = await runCli(['dead-letters', 'show', '000000000000', '--data-dir', data]);
    const future = await list('--since', '2999-01-01');
    const status = await runCli(['status', '--data-dir', data, '--json']);

    // Assess: match:bad by the read models; the corrupt commit by the two consumers of every
    // stream.
    expect(readModels.map((l) => l.events[0]?.aggregate_id).sort()).toEqual([
      'match:bad',
      'match:corrupt',
    ]);
    expect(
      all
        .filter((l) => l.events[0]?.aggregate_id === 'match:corrupt')
        .map((l) => l.consumer)
        .sort(),
    ).toEqual(['bus-router', 'read-models']);
    expect(bad?.error).toContain('the buggy release fails on this one');
    expect(bad?.kept_in.map((k) => k.place).sort()).toEqual([
      'dead-letter-table',
      'failure-folder',
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ID +FAILED AT +CONSUMER +ATTEMPTS +EVENTS +ERROR\n/);
    expect(text.stdout).toContain(`${bad?.id}  `);
    expect(text.stdout.trim().split('\n').at(-1)).toBe(`${all.length} dead letters`);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`id: ${bad?.id}\nconsumer: read-models\n`);
    expect(JSON.parse(shownJson.stdout)).toMatchObject({ id: bad?.id, body: { record: {} } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^matchstream: no dead letter 000000000000 in .*\n$/);
    expect(future).toEqual([]);
    // Of the read models' two letters, only the corrupt commit went unapplied: match:bad failed
    // in the buggy read model alone, and the others (the event counts among them) applied it.
    expect(JSON.parse(status.stdout).applied).toMatchObject({ pending: 0, dead_lettered: 1 });
  });

  it('refuses bad input in one line, doing nothing', async () => {
    const badTime = await runCli([
      'dead-letters',
      'list',
      '--since',
      'yesterday',
      '--data-dir',
      data,
    ]);
    const badId = await runCli(['dead-letters', 'redrive', '--ids', 'nope', '--data-dir', data]);
    const noFolder = await runCli(['dead-letters', 'list', '--data-dir', tmp.path('none')]);
    // A mistyped consumer takes no letter: refused, rather than "no dead letters".
    const typo = await runCli([
      'dead-letters',
      'list',
      '--consumer',
      'read-model',
      '--data-dir',
      data,
    ]);
    const typoRedrive = await runCli([
      'dead-letters',
      'redrive',
      '--consumer',
      'bus-routr',
      '--data-dir',
      data,
    ]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toMatch(/^matchstream: .*--since.*ISO 8601/);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toBe(
      'matchstream: no dead letter nope ("matchstream dead-letters list" lists them); nothing was redriven\n',
    );
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toMatch(/^matchstream: there is no data folder /);
    expect([typo.code, typo.stdout]).toEqual([2, '']);
    expect(typo.stderr).toMatch(
      /^matchstream: unknown consumer "read-model"; the consumers are read-models, bus-router, sagas, .*\n$/,
    );
    expect([typoRedrive.code, typoRedrive.stdout]).toEqual([2, '']);
    expect(typoRedrive.stderr).toMatch(/^matchstream: unknown consumer "bus-routr"; /);
    // --aws reads the deployed stack: a data folder named with it would be passed over.
    const sources = tmp.file('sources.json', '{}');
    for (const command of [['list'], ['show', 'abcabcabcabc'], ['redrive']]) {
      const both = await runCli([
        'dead-letters',
        ...command,
        '--aws',
        '--sources',
        sources,
        '--data-dir',
        data,
      ]);
      expect([both.code, both.stdout]).toEqual([2, '']);
      expect(both.stderr).toBe(
        "matchstream: option '--aws' cannot be used with option '--data-dir <dir>' (run with --help for usage)\n",
      );
    }
    expect((await list()).length).toBe(3);
  });

  it('redrives with the fixed release: what it can read is applied and removed, the rest kept', async () => {
    // Prepare
    const before = await list();
    const corrupt = before.filter((l) => l.events[0]?.aggregate_id === 'match:corrupt');

    // Act: a dry run, then the redrive (this release has no buggy read model), then again.
    const dry = await runCli([
      'dead-letters',
      'redrive',
      '--dry-run',
      '--json',
      '--data-dir',
      data,
    ]);
    const afterDry = await list();
    const run = await runCli(['dead-letters', 'redrive', '--json', '--data-dir', data]);
    const after = await list();
    const again = await runCli(['dead-letters', 'redrive', '--data-dir', data]);
    const matches = await runCli(['inspect', '--dead-letters', '--data-dir', data]);

    // Assess
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dry_run: true, letters: 3 });
    expect(afterDry).toEqual(before);
    expect(run.code).toBe(3);
    const summary = JSON.parse(run.stdout) as {
      redriven: { consumer: string; events: number }[];
      still_failing: { id: string; error: string; attempts: number }[];
      skipped: unknown[];
    };
    expect(summary.redriven).toEqual([
      expect.objectContaining({ consumer: 'read-models', events: 1 }),
    ]);
    expect(summary.still_failing.map((f) => f.id).sort()).toEqual(corrupt.map((l) => l.id).sort());
    expect(summary.still_failing[0]?.error).toMatch(/CORRUPT_DATA|cannot decode/);
    expect(run.stderr).toBe(
      'matchstream: 2 dead letters kept: 2 still failing, 0 not redrivable\n',
    );
    expect(after.map((l) => l.id).sort()).toEqual(corrupt.map((l) => l.id).sort());
    for (const l of after)
      expect(l.attempts).toBe((corrupt.find((c) => c.id === l.id)?.attempts ?? 0) + 1);
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(/^2 dead letters taken: 0 redriven, 2 still failing, 0 skipped\n/);
    // The corrupt ones are still there, unreadable.
    expect({ code: matches.code, signal: matches.signal, stderr: matches.stderr }).toMatchObject({
      code: 3,
      signal: null,
    });
  });

  it('exits 3 when failures/ holds an object it cannot read, as list does; a dry run reports it', async () => {
    // Prepare: a copy of the folder with an object in failures/ that is no invocation record.
    const copy = tmp.path('with-junk');
    cpSync(data, copy, { recursive: true });
    mkdirSync(join(copy, 'failures', 'aws', 'lambda'), { recursive: true });
    writeFileSync(join(copy, 'failures', 'aws', 'lambda', 'junk'), 'half a record');

    // Act: a consumer no letter of the folder has, so that nothing else is kept.
    const args = ['--consumer', 'rebuild:teams', '--data-dir', copy];
    const dry = await runCli(['dead-letters', 'redrive', '--dry-run', ...args]);
    const run = await runCli(['dead-letters', 'redrive', ...args]);
    const listed = await runCli(['dead-letters', 'list', ...args]);

    // Assess
    const unreadable = `matchstream: ${join(copy, 'failures', 'aws', 'lambda', 'junk')}: not JSON\n`;
    for (const r of [run, listed]) {
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(`${unreadable}matchstream: 1 object in failures/ could not be read\n`);
    }
    // A dry run reports it, and exits 0 as it does with letters it would keep.
    expect([dry.code, dry.stderr]).toEqual([0, unreadable]);
    expect(run.stdout).toBe('0 dead letters taken: 0 redriven, 0 still failing, 0 skipped\n');
  });

  it("leaves another consumer's unreadable object out of the exit code of --consumer, saying it in one line", async () => {
    // Prepare: a copy of the folder with an object no invocation record where the sagas'
    // mapping keeps its records.
    const copy = tmp.path('with-sagas-junk');
    cpSync(data, copy, { recursive: true });
    const dir = join(copy, 'failures', 'aws', 'lambda', localMappingUuid('sagas'), 'shard-0');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '2026-12-08T01.00.00-x'), 'half a record');

    // Act
    const other = ['--consumer', 'rebuild:teams', '--data-dir', copy];
    const listed = await runCli(['dead-letters', 'list', ...other]);
    const run = await runCli(['dead-letters', 'redrive', ...other]);
    const own = await runCli(['dead-letters', 'list', '--consumer', 'sagas', '--data-dir', copy]);

    // Assess
    const note =
      'matchstream: 1 object in failures/ of other consumers could not be read ("matchstream dead-letters list" without --consumer lists them)\n';
    for (const r of [listed, run]) expect([r.code, r.stderr]).toEqual([0, note]);
    expect(own.code).toBe(3);
    expect(own.stderr).toBe(
      `matchstream: ${join(dir, '2026-12-08T01.00.00-x')}: not JSON\nmatchstream: 1 object in failures/ could not be read\n`,
    );
  });
});
