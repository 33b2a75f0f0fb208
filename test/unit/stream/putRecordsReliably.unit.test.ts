import {
  InternalFailureException,
  type KinesisClient,
  ProvisionedThroughputExceededException,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../../../stream/aws/backoff.js';
import { kinesisClient } from '../../../stream/aws/kinesisClient.js';
import {
  PUT_RECORDS_LIMITS,
  putRecordsReliably,
  recordSize,
  type StreamRecordToPut,
} from '../../../stream/aws/putRecordsReliably.js';

const MiB = 1_048_576;
const FAST = { baseDelayMs: 0, maxDelayMs: 0 } as const;

type Respond = (
  records: readonly PutRecordsRequestEntry[],
  call: number,
) => readonly PutRecordsResultEntry[];

/**
 * A real Kinesis client aimed at a port nobody listens on, whose PutRecords calls are answered
 * by `respond` (or fail with what it throws) before anything is serialized or sent.
 */
function fakeKinesis(respond: Respond = succeed) {
  const client: KinesisClient = kinesisClient({
    endpoint: 'http://127.0.0.1:9',
    retryStrategy: new ConfiguredRetryStrategy(1),
  });
  const calls: PutRecordsRequestEntry[][] = [];
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand')
        throw new Error(`unexpected ${context.commandName}`);
      const records = (args.input as PutRecordsCommandInput).Records ?? [];
      calls.push(records);
      const Records = respond(records, calls.length);
      const output: PutRecordsCommandOutput = {
        $metadata: { httpStatusCode: 200 },
        FailedRecordCount: Records.filter((r) => r.ErrorCode).length,
        Records: [...Records],
      };
      return { output, response: {} };
    },
    { step: 'initialize', name: 'cannedResponses' },
  );
  return { client, calls, keys: () => calls.map((c) => c.map((r) => r.PartitionKey)) };
}

const written = (call: number, i: number): PutRecordsResultEntry => ({
  ShardId: 'shardId-000000000000',
  SequenceNumber: `${call}${String(i).padStart(3, '0')}`,
});
const throttled: PutRecordsResultEntry = {
  ErrorCode: 'ProvisionedThroughputExceededException',
  ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream s under account 1.',
};
function succeed(records: readonly PutRecordsRequestEntry[], call: number) {
  return records.map((_, i) => written(call, i));
}

function record(partitionKey: string, bytes = 1): StreamRecordToPut {
  return { partitionKey, data: new Uint8Array(bytes) };
}
function numbered(count: number): StreamRecordToPut[] {
  return Array.from({ length: count }, (_, i) => record(`k${i}`));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('putRecordsReliably: batching', () => {
  it('sends at most 500 records a call, in input order', async () => {
    // Prepare
    const { client, calls } = fakeKinesis();
    const input = numbered(1_001);

    // Act
    const result = await putRecordsReliably(client, 's', input, FAST);

    // Assess
    expect(calls.map((c) => c.length)).toEqual([500, 500, 1]);
    expect(calls.flat().map((r) => r.PartitionKey)).toEqual(input.map((r) => r.partitionKey));
    expect(result.sent.map((s) => s.record)).toEqual(input);
    expect(result.sent[500]).toMatchObject({
      shardId: 'shardId-000000000000',
      sequenceNumber: '2000',
    });
    expect(result).toMatchObject({ failed: [], attempts: 1 });
  });

  it('fills a call to exactly 5 MiB, partition keys included, and not a byte more', async () => {
    // Prepare: records of exactly 1 MiB (a 1-byte key and 1 MiB − 1 of data) and of 1 byte.
    const { client, calls } = fakeKinesis();
    const full = (k: string) => record(k, MiB - 1);
    const exactly = [
      full('a'),
      full('b'),
      full('c'),
      full('d'),
      record('e', MiB - 2),
      record('f', 0),
    ];
    const over = [full('a'), full('b'), full('c'), full('d'), full('e'), record('f', 0)];
    expect(exactly.map(recordSize).reduce((a, b) => a + b)).toBe(5 * MiB);
    expect(over.map(recordSize).reduce((a, b) => a + b)).toBe(5 * MiB + 1);

    // Act
    await putRecordsReliably(client, 's', exactly, FAST);
    await putRecordsReliably(client, 's', over, FAST);

    // Assess
    expect(calls.map((c) => c.length)).toEqual([6, 5, 1]);
  });

  it('counts partition keys in UTF-8 bytes', () => {
    expect(recordSize({ partitionKey: 'é€😀', data: new Uint8Array(10) })).toBe(10 + 2 + 3 + 4);
  });
});

describe('putRecordsReliably: records that can never be sent', () => {
  it('refuses them up front with a code, and sends the rest', async () => {
    // Prepare
    const { client, calls } = fakeKinesis();
    const input = [
      record('fits', MiB - 4), // exactly 1 MiB with its key
      record('over', MiB - 3),
      record(''),
      record('😀'.repeat(256)), // 256 characters, 512 UTF-16 units
      record('a'.repeat(257)),
      { ...record('hash-ok'), explicitHashKey: (2n ** 128n - 1n).toString() },
      { ...record('hash-big'), explicitHashKey: (2n ** 128n).toString() },
      { ...record('hash-zero'), explicitHashKey: '01' },
    ];

    // Act
    const result = await putRecordsReliably(client, 's', input, FAST);

    // Assess
    expect(calls.flat().map((r) => r.PartitionKey)).toEqual(['fits', '😀'.repeat(256), 'hash-ok']);
    expect(calls[0]?.[2]?.ExplicitHashKey).toBe((2n ** 128n - 1n).toString());
    expect(result.failed.map((f) => [f.record.partitionKey.slice(0, 9), f.errorCode])).toEqual([
      ['over', 'RecordTooLarge'],
      ['', 'InvalidPartitionKey'],
      ['a'.repeat(9), 'InvalidPartitionKey'],
      ['hash-big', 'InvalidExplicitHashKey'],
      ['hash-zero', 'InvalidExplicitHashKey'],
    ]);
    expect(result.failed[0]?.errorMessage).toMatch(/1048577 bytes, over the 1048576-byte limit/);
  });

  it('returns without calling when nothing can be sent', async () => {
    const { client, calls } = fakeKinesis();

    const result = await putRecordsReliably(client, 's', [record('')], FAST);

    expect(calls).toEqual([]);
    expect(result).toMatchObject({ sent: [], attempts: 0 });
    expect(result.failed).toHaveLength(1);
  });
});

describe('putRecordsReliably: record failures', () => {
  it('retries only the failed records, in their order', async () => {
    // Prepare: the first call fails records 1, 3 and 4.
    const { client, keys } = fakeKinesis((records, call) =>
      records.map((r, i) =>
        call === 1 && ['k1', 'k3', 'k4'].includes(r.PartitionKey ?? '')
          ? r.PartitionKey === 'k3'
            ? { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Service Failure' }
            : throttled
          : written(call, i),
      ),
    );
    const input = numbered(6);

    // Act
    const result = await putRecordsReliably(client, 's', input, FAST);

    // Assess
    expect(keys()).toEqual([
      ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'],
      ['k1', 'k3', 'k4'],
    ]);
    expect(result.failed).toEqual([]);
    expect(result.attempts).toBe(2);
    expect(result.sent.map((s) => [s.record.partitionKey, s.sequenceNumber])).toEqual([
      ['k0', '1000'],
      ['k1', '2000'],
      ['k2', '1002'],
      ['k3', '2001'],
      ['k4', '2002'],
      ['k5', '1005'],
    ]);
  });

  it('sends retries ahead of the records not sent yet', async () => {
    const { client, keys } = fakeKinesis((records, call) =>
      records.map((r, i) =>
        call === 1 && (r.PartitionKey === 'k10' || r.PartitionKey === 'k20')
          ? throttled
          : written(call, i),
      ),
    );

    await putRecordsReliably(client, 's', numbered(501), FAST);

    expect(keys()[1]).toEqual(['k10', 'k20', 'k500']);
  });

  it('hands back a record still throttled after maxAttempts, with the last code', async () => {
    const { client, calls } = fakeKinesis((records, call) =>
      records.map((r, i) => (r.PartitionKey === 'k1' ? throttled : written(call, i))),
    );

    const result = await putRecordsReliably(client, 's', numbered(3), {
      ...FAST,
      maxAttempts: 4,
    });

    expect(calls).toHaveLength(4);
    expect(result.sent.map((s) => s.record.partitionKey)).toEqual(['k0', 'k2']);
    expect(result.failed).toEqual([
      {
        record: expect.objectContaining({ partitionKey: 'k1' }),
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: throttled.ErrorMessage,
      },
    ]);
    expect(result.attempts).toBe(4);
  });

  it('does not retry a record error that is not retryable', async () => {
    const { client, calls } = fakeKinesis((records, call) =>
      records.map((r, i) =>
        r.PartitionKey === 'k0'
          ? { ErrorCode: 'KMSAccessDeniedException', ErrorMessage: 'denied' }
          : written(call, i),
      ),
    );

    const result = await putRecordsReliably(client, 's', numbered(2), FAST);

    expect(calls).toHaveLength(1);
    expect(result.failed.map((f) => f.errorCode)).toEqual(['KMSAccessDeniedException']);
  });

  it('retries a record the response has no result for (a duplicate is possible, a loss not)', async () => {
    const { client, keys } = fakeKinesis((records, call) =>
      call === 1 ? [written(call, 0)] : succeed(records, call),
    );

    const result = await putRecordsReliably(client, 's', numbered(2), FAST);

    expect(keys()).toEqual([['k0', 'k1'], ['k1']]);
    expect(result.failed).toEqual([]);
    expect(result.sent.map((s) => s.sequenceNumber)).toEqual(['1000', '2000']);
  });
});

describe('putRecordsReliably: whole-call errors', () => {
  const retryable: [string, Error][] = [
    [
      'throttling',
      new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }),
    ],
    [
      'a 500',
      new InternalFailureException({ message: 'Internal', $metadata: { httpStatusCode: 500 } }),
    ],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ];
  for (const [what, error] of retryable)
    it(`retries the whole call after ${what}`, async () => {
      const { client, keys } = fakeKinesis((records, call) => {
        if (call === 1) throw error;
        return succeed(records, call);
      });

      const result = await putRecordsReliably(client, 's', numbered(3), FAST);

      expect(keys()).toEqual([
        ['k0', 'k1', 'k2'],
        ['k0', 'k1', 'k2'],
      ]);
      expect(result).toMatchObject({ failed: [], attempts: 2 });
      expect(result.sent).toHaveLength(3);
    });

  it('fails the records of a call that fails for good, with its code, without retrying', async () => {
    // Prepare
    const { client, calls } = fakeKinesis(() => {
      throw new ResourceNotFoundException({
        message: 'Stream s under account 1 not found.',
        $metadata: { httpStatusCode: 400 },
      });
    });

    // Act
    const result = await putRecordsReliably(client, 's', numbered(501), FAST);

    // Assess
    expect(calls.map((c) => c.length)).toEqual([500, 1]);
    expect(result.sent).toEqual([]);
    expect(result.failed).toHaveLength(501);
    expect(new Set(result.failed.map((f) => f.errorCode))).toEqual(
      new Set(['ResourceNotFoundException']),
    );
    expect(result.failed[0]?.errorMessage).toBe('Stream s under account 1 not found.');
  });

  it('hands back what a retryable call error still fails after maxAttempts', async () => {
    const { client, calls } = fakeKinesis(() => {
      throw new InternalFailureException({ message: 'Internal', $metadata: {} });
    });

    const result = await putRecordsReliably(client, 's', numbered(2), {
      ...FAST,
      maxAttempts: 3,
    });

    expect(calls).toHaveLength(3);
    expect(result.failed.map((f) => f.errorCode)).toEqual([
      'InternalFailureException',
      'InternalFailureException',
    ]);
  });
});

describe('putRecordsReliably: backoff', () => {
  it('doubles the ceiling of a full-jitter wait up to maxDelayMs', () => {
    const top = () => 0.999_999;

    expect(Array.from({ length: 9 }, (_, i) => backoffDelay(i + 1, 100, 5_000, top))).toEqual([
      99, 199, 399, 799, 1_599, 3_199, 4_999, 4_999, 4_999,
    ]);
    expect(backoffDelay(1_000, 100, 5_000, top)).toBe(4_999);
    expect(backoffDelay(3, 100, 5_000, () => 0)).toBe(0);
  });

  it('waits between attempts, within the bounds, and sends only after each wait', async () => {
    // Prepare: the highest waits jitter allows; 3 retries of base 20 ms capped at 40 ms; a
    // clock that records each wait and when each call was made relative to the waits.
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    const timeline: string[] = [];
    const { client, calls } = fakeKinesis((records) => {
      timeline.push('call');
      return records.map(() => throttled);
    });
    const sleep = async (ms: number) => {
      timeline.push(`wait ${ms}`);
    };

    // Act
    const result = await putRecordsReliably(client, 's', numbered(1), {
      maxAttempts: 4,
      baseDelayMs: 20,
      maxDelayMs: 40,
      sleep,
    });

    // Assess: 19, 39, 39 ms (the doubling ceiling, capped), one before each retry.
    expect(calls).toHaveLength(4);
    expect(result.failed).toHaveLength(1);
    expect(timeline).toEqual(['call', 'wait 19', 'call', 'wait 39', 'call', 'wait 39', 'call']);
  });

  it('stops at an abort, handing back everything not acknowledged', async () => {
    // Prepare: every call throttles everything; abort during the first backoff (30 s).
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const controller = new AbortController();
    const { client, calls } = fakeKinesis((records) => {
      setTimeout(() => controller.abort(), 5);
      return records.map(() => throttled);
    });

    // Act
    const result = await putRecordsReliably(client, 's', numbered(3), {
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      signal: controller.signal,
    });

    // Assess
    expect(calls).toHaveLength(1);
    expect(result.failed.map((f) => f.errorCode)).toEqual(['Aborted', 'Aborted', 'Aborted']);
  });
});

type Outcome = 'ok' | 'throttled' | 'internal' | 'denied';
type CallFault = 'none' | 'throttled' | 'not-found';

describe('putRecordsReliably: property', () => {
  it('returns every record exactly once, in sent or failed, whatever fails', async () => {
    const limits = { maxRecordBytes: 1_000, maxRequestBytes: 5_000, maxAttempts: 4 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            bytes: fc.integer({ min: 0, max: 1_100 }),
            keyChars: fc.integer({ min: 0, max: 258 }),
          }),
          { maxLength: 1_200, size: 'medium' },
        ),
        fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'throttled', 'internal', 'denied'), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.constantFrom<CallFault>('none', 'none', 'none', 'throttled', 'not-found'), {
          minLength: 1,
          maxLength: 10,
        }),
        async (shapes, outcomes, faults) => {
          // Prepare: unique keys (a number, padded); the fake answers from the cycles given.
          const input = shapes.map(({ bytes, keyChars }, i) => ({
            partitionKey: keyChars === 0 ? '' : `${i}:`.padEnd(keyChars, 'x'),
            data: new Uint8Array(bytes),
          }));
          const acked = new Map<string, number>();
          let next = 0;
          const { client, calls } = fakeKinesis((records, call) => {
            const fault = faults[(call - 1) % faults.length];
            if (fault === 'throttled')
              throw new ProvisionedThroughputExceededException({ message: 'slow', $metadata: {} });
            if (fault === 'not-found')
              throw new ResourceNotFoundException({ message: 'gone', $metadata: {} });
            return records.map((r, i) => {
              const key = r.PartitionKey ?? '';
              const outcome = outcomes[next++ % outcomes.length];
              if (outcome === 'ok') {
                acked.set(key, (acked.get(key) ?? 0) + 1);
                return written(call, i);
              }
              if (outcome === 'throttled') return throttled;
              if (outcome === 'internal') return { ErrorCode: 'InternalFailure', ErrorMessage: '' };
              return { ErrorCode: 'KMSAccessDeniedException', ErrorMessage: '' };
            });
          });

          // Act
          const result = await putRecordsReliably(client, 's', input, { ...FAST, ...limits });

          // Assess: each record once, in input order within sent and within failed.
          const back = [...result.sent.map((s) => s.record), ...result.failed.map((f) => f.record)];
          expect(back).toHaveLength(input.length);
          expect(new Set(back).size).toBe(input.length);
          const position = new Map<StreamRecordToPut, number>(input.map((r, i) => [r, i]));
          const ascending = (rs: StreamRecordToPut[]) =>
            rs.every(
              (r, i) =>
                i === 0 ||
                (position.get(r) ?? 0) > (position.get(rs[i - 1] as StreamRecordToPut) ?? 0),
            );
          expect(ascending(result.sent.map((s) => s.record))).toBe(true);
          expect(ascending(result.failed.map((f) => f.record))).toBe(true);
          // Sent means acknowledged once, and nothing acknowledged was sent again.
          expect(result.sent.map((s) => acked.get(s.record.partitionKey))).toEqual(
            result.sent.map(() => 1),
          );
          expect(acked.size).toBe(result.sent.length);
          // Calls within the limits; no record tried more than maxAttempts times.
          for (const c of calls) {
            expect(c.length).toBeLessThanOrEqual(PUT_RECORDS_LIMITS.maxRecords);
            const bytes = c.reduce(
              (sum, r) => sum + (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? ''),
              0,
            );
            expect(bytes).toBeLessThanOrEqual(limits.maxRequestBytes);
          }
          const tries = new Map<string, number>();
          for (const r of calls.flat())
            tries.set(r.PartitionKey ?? '', (tries.get(r.PartitionKey ?? '') ?? 0) + 1);
          expect(Math.max(0, ...tries.values())).toBeLessThanOrEqual(limits.maxAttempts);
          expect(result.attempts).toBeLessThanOrEqual(limits.maxAttempts);
          client.destroy();
        },
      ),
      { numRuns: 60 },
    );
  });
});
