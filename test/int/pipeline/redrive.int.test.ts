import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedPipeline,
  READ_MODELS_CONSUMER,
  startPipeline,
} from '../../../pipeline/embeddedPipeline.js';
import { embeddedRedriver, pipelineWiring } from '../../../pipeline/embeddedRedriver.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import type { Doc, DocKey, Projection } from '../../../projections/Projection.js';
import { MATCH_EVENTS_PATTERN } from '../../../sagas/handlers/MatchEventHandler.js';
import type { BusEvent } from '../../../stream/buses/eventPattern.js';
import { FolderInvocationRecords, failureFolder } from '../../../stream/local/failureFolder.js';
import type { Letter } from '../../../stream/redrive/Letter.js';
import { LocalLetterPlaces, readLocalLetters } from '../../../stream/redrive/localLetters.js';
import { type RedriveSummary, redriveLetters } from '../../../stream/redrive/redriveLetters.js';
import { matchRecorded } from '../../support/registry.js';
import { tempDir } from '../../support/tempDir.js';

/** The fault the test injects: streams (and bus events) that fail while listed. */
const failing = new Set<string>();
let faults = 0;
const fault = (what: string) => new Error(`injected fault ${++faults} on ${what}`);

/**
 * A read model that counts every application of every event (no guard against a repeat): a
 * redrive that applied an event twice would show it here.
 */
const tally: Projection = {
  name: 'tally',
  version: 1,
  eventTypes: ['MatchRecorded', 'MatchResultCorrected'],
  reads: (event) => [{ pk: 'tally', sk: event.aggregate_id }],
  evolve(view, event) {
    if (failing.has(event.aggregate_id)) throw fault(event.aggregate_id);
    const key: DocKey = { pk: 'tally', sk: event.aggregate_id };
    const seen = (view.get(key) as { sequences: number[] } | undefined)?.sequences ?? [];
    return { put: [{ ...key, doc: { sequences: [...seen, event.sequence] } }] };
  },
};

const tmp = tempDir('redrive-');
let pipeline: EmbeddedPipeline;
/** Bus events the test rule took, by event id. */
const handled = new Map<string, number>();

async function tallies(): Promise<Record<string, number[]>> {
  const store = await pipeline.tableStore(
    (await pipeline.registry.active({ name: 'tally', version: 1 })).table,
  );
  const docs = await store.query('tally');
  return Object.fromEntries(
    docs.map((d) => [d.sk, (d.doc as Doc & { sequences: number[] }).sequences]),
  );
}

async function letters(): Promise<Letter[]> {
  return (
    await readLocalLetters({
      table: pipeline.runtime.deadLetters,
      folder: {
        records: new FolderInvocationRecords(failureFolder(tmp.dir)),
        path: failureFolder(tmp.dir),
      },
    })
  ).letters;
}

async function redrive(dryRun = false): Promise<RedriveSummary> {
  const summary = await redriveLetters(await letters(), {
    redriver: embeddedRedriver(pipelineWiring(pipeline)),
    places: new LocalLetterPlaces({
      table: pipeline.runtime.deadLetters,
      folder: {
        records: new FolderInvocationRecords(failureFolder(tmp.dir)),
        path: failureFolder(tmp.dir),
      },
    }),
    dryRun,
  });
  await pipeline.runtime.settle();
  return summary;
}

beforeAll(async () => {
  pipeline = await startPipeline({
    dataDir: tmp.dir,
    readModels: [...READ_MODELS, tally],
    retryDelayMs: 1,
    debounceMs: 50,
  });
  pipeline.runtime.buses.soccer.register({
    name: 'test-results',
    pattern: MATCH_EVENTS_PATTERN,
    handler: async (event: BusEvent) => {
      const id = (event.detail as { aggregate_id: string }).aggregate_id;
      if (failing.has(`bus:${id}`)) throw fault(`bus event of ${id}`);
      const eventId = String(event.id);
      handled.set(eventId, (handled.get(eventId) ?? 0) + 1);
    },
  });
  // a and b fail in the read models; c does not; the bus rule fails on b's events.
  failing.add('match:a').add('match:b').add('bus:match:b');
  const { store } = pipeline.runtime;
  await store.append('match:a', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('a') }]);
  await store.append('match:b', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('b') }]);
  await store.append('match:c', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('c') }]);
  // A later event of a: held back behind its first, dead-lettered with it.
  await store.append('match:a', 1, [
    { event_type: 'MatchResultCorrected', data: { ...matchRecorded('a', 3, 1), reason: null } },
  ]);
  await pipeline.runtime.settle();
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('dead letters sent back on the embedded runtime', () => {
  it('keeps what failed in the table and in failures/, one letter per failure', async () => {
    // Prepare: done in beforeAll. Act
    const found = await letters();
    const readModels = found.filter((l) => l.consumer === READ_MODELS_CONSUMER);
    // Assess
    expect(await tallies()).toEqual({ 'match:c': [1] });
    expect(
      readModels.map((l) => l.events.map((e) => `${e.aggregate_id}/${e.sequence}`)).sort(),
    ).toEqual([['match:a/1'], ['match:a/2'], ['match:b/1']]);
    for (const l of readModels)
      expect(l.copies.map((c) => c.place).sort()).toEqual(['dead-letter-table', 'failure-folder']);
    expect(readModels.find((l) => l.events[0]?.aggregate_id === 'match:b')?.error).toMatch(
      /injected fault \d+ on match:b/,
    );
    const bus = found.filter((l) => l.consumer === 'bus:matchstream-soccer/test-results');
    expect(bus.map((l) => l.events[0]?.aggregate_id)).toEqual(['match:b']);
  });

  it('a dry run says what it would do and changes nothing', async () => {
    failing.delete('match:a');
    const before = await letters();
    const summary = await redrive(true);
    expect(summary.dry_run).toBe(true);
    expect(summary.redriven.length).toBe(before.length);
    expect(await letters()).toEqual(before);
    expect(await tallies()).toEqual({ 'match:c': [1] });
  });

  it('applies what the fix made good once, removes it, keeps what fails with the new reason', async () => {
    const before = await letters();
    const b = before.find(
      (l) => l.consumer === READ_MODELS_CONSUMER && l.events[0]?.aggregate_id === 'match:b',
    );
    const summary = await redrive();
    expect(summary.redriven.map((r) => r.events)).toEqual([1, 1]);
    expect(summary.still_failing.map((f) => f.id).sort()).toEqual(
      [b?.id, before.find((l) => l.consumer.startsWith('bus:'))?.id].sort(),
    );
    expect(await tallies()).toEqual({ 'match:a': [1, 2], 'match:c': [1] });
    const after = await letters();
    expect(after.map((l) => l.id).sort()).toEqual(summary.still_failing.map((f) => f.id).sort());
    const kept = after.find((l) => l.id === b?.id);
    expect(kept?.attempts).toBe((b?.attempts ?? 0) + 1);
    expect(kept?.error).not.toBe(b?.error);
    expect(kept?.error).toMatch(/injected fault \d+ on match:b/);
    // Both copies carry the new reason: the table's letter and the invocation record.
    expect(kept?.copies.length).toBe(2);
  });

  it('redriving again changes nothing more', async () => {
    const before = await letters();
    const summary = await redrive();
    expect(summary.redriven).toEqual([]);
    expect(summary.still_failing.length).toBe(before.length);
    expect(await tallies()).toEqual({ 'match:a': [1, 2], 'match:c': [1] });
  });

  it('sends the rest back once the fault is gone: nothing left, each event applied once', async () => {
    failing.clear();
    const busLetter = (await letters()).find((l) => l.consumer.startsWith('bus:'));
    const summary = await redrive();
    expect(summary.still_failing).toEqual([]);
    expect(await letters()).toEqual([]);
    expect(await tallies()).toEqual({ 'match:a': [1, 2], 'match:b': [1], 'match:c': [1] });
    // The bus event went to the rule's handler once, under the id it was first delivered with.
    const id = String((busLetter?.event as BusEvent | undefined)?.id);
    expect(handled.get(id)).toBe(1);
    const again = await redrive();
    expect(again).toMatchObject({ letters: 0, redriven: [], still_failing: [], skipped: [] });
  });

  it('skips and removes a letter whose events its consumer applied meanwhile', async () => {
    failing.add('match:d');
    const { store } = pipeline.runtime;
    await store.append('match:d', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('d') }]);
    await pipeline.runtime.settle();
    const letter = (await letters()).find((l) => l.events[0]?.aggregate_id === 'match:d');
    expect(letter).toBeDefined();
    failing.delete('match:d');
    // The consumer applies d itself, as a later event of its stream makes it fill the gap.
    await store.append('match:d', 1, [
      { event_type: 'MatchResultCorrected', data: { ...matchRecorded('d', 0, 0), reason: null } },
    ]);
    await pipeline.runtime.settle();
    expect((await tallies())['match:d']).toEqual([1, 2]);
    const summary = await redrive();
    expect(summary.skipped).toEqual([
      expect.objectContaining({
        id: letter?.id,
        removed: true,
        why: expect.stringMatching(/already applied/),
      }),
    ]);
    expect(await letters()).toEqual([]);
    expect((await tallies())['match:d']).toEqual([1, 2]);
  });
});
