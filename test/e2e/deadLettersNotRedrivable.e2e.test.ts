import { beforeAll, describe, expect, it } from 'vitest';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { runCli } from '../support/cli.js';
import { kinesisRecordOf } from '../support/kinesisRecords.js';
import { corruptCommit, matchRecorded } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir('dead-letters-not-redrivable-e2e-');
const data = tmp.path('data');

interface Summary {
  dry_run: boolean;
  redriven: { id: string }[];
  still_failing: { id: string }[];
  skipped: { id: string; consumer: string; why: string; removed: boolean }[];
}

beforeAll(async () => {
  // Prepare: letters an earlier release left that this one cannot send anywhere: one of the
  // consumer of a read model's generation 2, which no rebuild of this folder made, and one of a
  // bus rule this release does not register. Their event is stored and readable.
  const pipeline = await startPipeline({ dataDir: data, retryDelayMs: 1 });
  try {
    const { store, deadLetters } = pipeline.runtime;
    await store.append('match:good', 0, [
      { event_type: 'MatchRecorded', data: matchRecorded('good') },
    ]);
    await pipeline.runtime.settle();
    await deadLetters.send({
      consumer: 'read-model:matches:g2',
      // The letter names the event; a redrive reads it from the store.
      record: kinesisRecordOf(corruptCommit('match:good', 1, 'MatchRecorded', 'e-good')),
      error: 'the generation 2 consumer failed',
      attempts: 4,
      failed_at: '2026-09-02T10:00:00.000Z',
    });
    await deadLetters.send({
      consumer: 'bus:matchstream-soccer/results-mailer',
      event: {
        id: 'bus-event-1',
        source: 'matchstream.soccer',
        'detail-type': 'MatchRecorded',
        time: '2026-09-02T10:00:01.000Z',
        detail: { aggregate_id: 'match:good', sequence: 1, event_type: 'MatchRecorded' },
      },
      error: 'the mailer was down',
      attempts: 3,
      failed_at: '2026-09-02T10:00:01.000Z',
    });
  } finally {
    await pipeline.stop();
  }
}, 120_000);

const redrive = async (...args: string[]) => {
  const run = await runCli(['dead-letters', 'redrive', '--json', '--data-dir', data, ...args]);
  return { ...run, summary: JSON.parse(run.stdout) as Summary };
};

describe('matchstream dead-letters redrive of letters no code of this release takes', () => {
  it('skips and keeps them, with why, in the dry run as in the redrive', async () => {
    // Act
    const dry = await redrive('--dry-run');
    const run = await redrive();
    const after = await runCli(['dead-letters', 'list', '--json', '--data-dir', data]);

    // Assess: the dry run says what the redrive then does.
    const expected = [
      {
        consumer: 'read-model:matches:g2',
        why: 'no consumer named read-model:matches:g2 runs in this pipeline',
      },
      {
        consumer: 'bus:matchstream-soccer/results-mailer',
        why: 'bus matchstream-soccer has no rule named results-mailer in this pipeline',
      },
    ];
    expect(dry.code).toBe(0);
    expect(dry.summary).toMatchObject({ dry_run: true, redriven: [], still_failing: [] });
    expect(dry.summary.skipped).toEqual(
      expected.map((e) => expect.objectContaining({ ...e, removed: false })),
    );
    expect(run.code).toBe(3);
    expect(run.summary).toMatchObject({ dry_run: false, redriven: [], still_failing: [] });
    expect(run.summary.skipped).toEqual(
      expected.map((e) => expect.objectContaining({ ...e, removed: false })),
    );
    expect(run.stderr).toBe(
      'matchstream: 2 dead letters kept: 0 still failing, 2 not redrivable\n',
    );
    // Kept as they were: their reasons and attempts are those of the failures they record.
    expect(
      (JSON.parse(after.stdout) as { consumer: string; error: string; attempts: number }[]).map(
        ({ consumer, error, attempts }) => ({ consumer, error, attempts }),
      ),
    ).toEqual([
      {
        consumer: 'bus:matchstream-soccer/results-mailer',
        error: 'the mailer was down',
        attempts: 3,
      },
      { consumer: 'read-model:matches:g2', error: 'the generation 2 consumer failed', attempts: 4 },
    ]);
  });
});
