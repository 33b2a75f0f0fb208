import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../stream/consumer/DeadLetterQueue.js';
import { invocationRecord } from '../../../stream/consumer/invocationRecord.js';
import { CommitCodec } from '../../../stream/eventStore/Commit.js';
import {
  eventRefOfRecord,
  filterLetters,
  functionName,
  joinLetters,
  type Letter,
  letterOfDeadLetter,
  letterOfInvocation,
  localConsumerOf,
} from '../../../stream/redrive/Letter.js';
import { type RedrivePlan, redriveLetters } from '../../../stream/redrive/redriveLetters.js';
import { kinesisRecordOf } from '../../support/kinesisRecords.js';
import { matchRecorded, registry } from '../../support/registry.js';

const codec = new CommitCodec(registry);
const record = kinesisRecordOf(
  codec.build('match:x', 2, [
    { event_type: 'MatchResultCorrected', data: { ...matchRecorded('x'), reason: null } },
    { event_type: 'MatchResultCorrected', data: { ...matchRecorded('x', 4), reason: null } },
  ]),
);
const at = '2026-10-01T12:00:00.000Z';
const tableLetter: DeadLetter = {
  consumer: 'read-models',
  record,
  error: 'HANDLER_FAILED: boom',
  attempts: 4,
  failed_at: at,
};

describe('letters', () => {
  it("reads a change record's stream and sequences from its keys and image", () => {
    expect(eventRefOfRecord(record)).toEqual({
      aggregate_id: 'match:x',
      sequence: 3,
      last_sequence: 4,
    });
    expect(
      eventRefOfRecord({ ...record, kinesis: { ...record.kinesis, data: 'bm90IGpzb24=' } }),
    ).toBeUndefined();
  });

  it('joins the table letter and the invocation record of one failure under one id', () => {
    // Prepare
    const fromTable = letterOfDeadLetter(tableLetter, { where: 'table', handle: '{}' });
    const fromFolder = letterOfInvocation(
      invocationRecord({
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:read-models',
        condition: 'RetryAttemptsExhausted',
        invokeCount: 4,
        records: [record],
        at: new Date(at),
      }),
      { place: 'failure-folder', where: 'failures/k', handle: 'k' },
    );
    // Act
    const joined = joinLetters([fromFolder, fromTable]);
    // Assess
    expect(fromFolder.id).toBe(fromTable.id);
    expect(fromFolder.id).toMatch(/^[0-9a-f]{12}$/);
    expect(joined).toHaveLength(1);
    expect(joined[0]?.error).toBe('HANDLER_FAILED: boom');
    expect(joined[0]?.copies.map((c) => c.place)).toEqual(['dead-letter-table', 'failure-folder']);
  });

  it('tells an invocation record without its payload by its range only', () => {
    const { payload: _, ...pointers } = invocationRecord({
      functionArn: 'arn:aws:lambda:us-east-1:1:function:f:live',
      condition: 'RecordAgeExceeded',
      invokeCount: 1,
      records: [record],
      at: new Date(at),
    });
    const letter = letterOfInvocation(pointers, {
      place: 'failure-bucket',
      where: 's3',
      handle: 'k',
    });
    expect(letter.consumer).toBe('f');
    expect(letter.events).toEqual([]);
    expect(letter.unknown).toMatch(/no payload, only shard shardId-000000000000 sequence/);
    expect(functionName('not-an-arn')).toBe('not-an-arn');
    // The embedded runtime's ARNs name the consumer, colons and all.
    expect(localConsumerOf('arn:aws:lambda:us-east-1:0:function:read-model:matches:g2')).toBe(
      'read-model:matches:g2',
    );
  });

  it('names the event of bus, publish and rebuild letters', () => {
    const envelope = { aggregate_id: 'match:y', sequence: 7, event_id: 'e7' };
    const bus = letterOfDeadLetter(
      {
        consumer: 'bus:matchstream-soccer/r',
        event: { id: 'b1', detail: envelope },
        error: 'x',
        attempts: 3,
        failed_at: at,
      },
      { where: 't', handle: '' },
    );
    const publish = letterOfDeadLetter(
      {
        consumer: 'publish:matchstream-soccer',
        event: { Detail: JSON.stringify(envelope) },
        error: 'x',
        attempts: 0,
        failed_at: at,
      },
      { where: 't', handle: '' },
    );
    const rebuild = letterOfDeadLetter(
      {
        consumer: 'rebuild:matches',
        event: { ...envelope, error: 'e', held_back: false },
        error: 'e',
        attempts: 1,
        failed_at: at,
      },
      { where: 't', handle: '' },
    );
    for (const [letter, kind] of [
      [bus, 'bus-event'],
      [publish, 'put-events-entry'],
      [rebuild, 'unreadable-item'],
    ] as const) {
      expect(letter.kind).toBe(kind);
      expect(letter.events).toEqual([
        { aggregate_id: 'match:y', sequence: 7, last_sequence: 7, event_id: 'e7' },
      ]);
    }
    expect(new Set([bus.id, publish.id, rebuild.id]).size).toBe(3);
  });

  it('filters by consumer, time and id', () => {
    const a = letterOfDeadLetter(tableLetter, { where: 't', handle: '' });
    const b = letterOfDeadLetter(
      { ...tableLetter, consumer: 'sagas', failed_at: '2026-10-02T00:00:00.000Z' },
      { where: 't', handle: '' },
    );
    expect(filterLetters([a, b], {}).length).toBe(2);
    expect(filterLetters([a, b], { consumer: 'sagas' })).toEqual([b]);
    expect(filterLetters([a, b], { since: '2026-10-01T12:00:00.001Z' })).toEqual([b]);
    expect(filterLetters([a, b], { ids: [a.id] })).toEqual([a]);
  });
});

describe('redriveLetters', () => {
  const letter = (id: string, failedAt: string): Letter => ({
    id,
    consumer: 'c',
    kind: 'kinesis-records',
    error: 'old',
    attempts: 2,
    failed_at: failedAt,
    events: [],
    copies: [],
    body: {},
  });

  /** A redriver whose plans and outcomes are given per letter, recording what it applied. */
  function scripted(plans: Record<string, RedrivePlan | Error>, failing: Set<string>) {
    const applied: string[] = [];
    return {
      applied,
      redriver: {
        plan: async (l: Letter) => {
          const plan = plans[l.id];
          if (plan instanceof Error) throw plan;
          return plan ?? { action: 'redrive' as const, through: 'c', events: 1 };
        },
        apply: async (l: Letter) => {
          if (failing.has(l.id)) throw new Error(`still broken: ${l.id}`);
          applied.push(l.id);
          return 1;
        },
      },
    };
  }

  it('removes what goes through, keeps what fails again, skips with why, oldest first', async () => {
    // Prepare
    const removed: string[] = [];
    const again: [string, string][] = [];
    const places = {
      remove: async (l: Letter) => void removed.push(l.id),
      failedAgain: async (l: Letter, e: string) => void again.push([l.id, e]),
    };
    const { redriver, applied } = scripted(
      {
        done: { action: 'skip', why: 'already applied', resolved: true },
        lost: { action: 'skip', why: 'no such consumer', resolved: false },
        unreadable: new Error('CORRUPT_DATA'),
      },
      new Set(['broken']),
    );
    const letters = [
      letter('ok2', '2026-01-03T00:00:00Z'),
      letter('ok1', '2026-01-01T00:00:00Z'),
      letter('broken', '2026-01-02T00:00:00Z'),
      letter('done', '2026-01-02T00:00:00Z'),
      letter('lost', '2026-01-02T00:00:00Z'),
      letter('unreadable', '2026-01-02T00:00:00Z'),
    ];
    // Act
    const progress: number[] = [];
    const summary = await redriveLetters(letters, {
      redriver,
      places,
      onProgress: (done) => progress.push(done),
    });
    // Assess
    expect(applied).toEqual(['ok1', 'ok2']);
    expect(summary.redriven.map((r) => r.id)).toEqual(['ok1', 'ok2']);
    expect(summary.still_failing).toEqual([
      { id: 'broken', consumer: 'c', error: 'still broken: broken', attempts: 3 },
      { id: 'unreadable', consumer: 'c', error: 'CORRUPT_DATA', attempts: 3 },
    ]);
    expect(summary.skipped).toEqual([
      { id: 'done', consumer: 'c', why: 'already applied', removed: true },
      { id: 'lost', consumer: 'c', why: 'no such consumer', removed: false },
    ]);
    expect(removed.sort()).toEqual(['done', 'ok1', 'ok2']);
    expect(again).toEqual([
      ['broken', 'still broken: broken'],
      ['unreadable', 'CORRUPT_DATA'],
    ]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('changes nothing in a dry run', async () => {
    const places = {
      remove: async () => {
        throw new Error('removed in a dry run');
      },
      failedAgain: async () => {
        throw new Error('rewritten in a dry run');
      },
    };
    const { redriver, applied } = scripted(
      { done: { action: 'skip', why: 'already applied', resolved: true }, bad: new Error('x') },
      new Set(),
    );
    const summary = await redriveLetters(
      [
        letter('a', '2026-01-01T00:00:00Z'),
        letter('done', '2026-01-01T00:00:00Z'),
        letter('bad', '2026-01-01T00:00:00Z'),
      ],
      { redriver, places, dryRun: true },
    );
    expect(applied).toEqual([]);
    expect(summary).toMatchObject({
      dry_run: true,
      redriven: [{ id: 'a' }],
      still_failing: [{ id: 'bad', attempts: 2 }],
      skipped: [{ id: 'done', removed: false }],
    });
  });
});
