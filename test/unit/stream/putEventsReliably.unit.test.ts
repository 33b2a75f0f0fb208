import {
  type EventBridgeClient,
  InternalException,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
  ResourceNotFoundException,
} from '@aws-sdk/client-eventbridge';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventBridgeClient } from '../../../stream/aws/eventBridgeClient.js';
import {
  entrySize,
  PUT_EVENTS_LIMITS,
  putEventsReliably,
} from '../../../stream/aws/putEventsReliably.js';

const KB256 = 262_144;
const FAST = { baseDelayMs: 0, maxDelayMs: 0 } as const;

type Respond = (entries: readonly PutEventsRequestEntry[], call: number) => PutEventsResultEntry[];

/**
 * A real EventBridge client aimed at a port nobody listens on, whose PutEvents calls are
 * answered by `respond` (or fail with what it throws) before anything is serialized or sent.
 */
function fakeEventBridge(respond: Respond = succeed) {
  const client: EventBridgeClient = eventBridgeClient({
    endpoint: 'http://127.0.0.1:9',
    retryStrategy: new ConfiguredRetryStrategy(1),
  });
  const calls: PutEventsRequestEntry[][] = [];
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      if (context.commandName !== 'PutEventsCommand')
        throw new Error(`unexpected ${context.commandName}`);
      const entries = (args.input as PutEventsCommandInput).Entries ?? [];
      calls.push(entries);
      const Entries = respond(entries, calls.length);
      const output: PutEventsCommandOutput = {
        $metadata: { httpStatusCode: 200 },
        FailedEntryCount: Entries.filter((e) => e.ErrorCode).length,
        Entries,
      };
      return { output, response: {} };
    },
    { step: 'initialize', name: 'cannedResponses' },
  );
  return { client, calls, ids: () => calls.map((c) => c.map((e) => e.Detail)) };
}

const accepted = (call: number, i: number): PutEventsResultEntry => ({ EventId: `${call}-${i}` });
const throttled: PutEventsResultEntry = {
  ErrorCode: 'ThrottlingException',
  ErrorMessage: 'Rate exceeded',
};
function succeed(entries: readonly PutEventsRequestEntry[], call: number) {
  return entries.map((_, i) => accepted(call, i));
}

/** An entry of `size` bytes by `entrySize`: source 's', detail type 't', the rest detail. */
function entry(detail: string, size = 2 + detail.length): PutEventsRequestEntry {
  return { Source: 's', DetailType: 't', Detail: detail.padEnd(size - 2, ' ') };
}
function numbered(count: number): PutEventsRequestEntry[] {
  return Array.from({ length: count }, (_, i) => entry(`${i}`));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('entrySize', () => {
  it('counts Time as 14 bytes and Source, DetailType, Detail and Resources in UTF-8', () => {
    const size = entrySize({
      Time: new Date(0),
      Source: 'é', // 2 bytes
      DetailType: 'x',
      Detail: '{"a":"€"}', // 11 bytes
      Resources: ['r1', 'r2'],
      EventBusName: 'not counted',
      TraceHeader: 'not counted',
    });

    expect(size).toBe(14 + 2 + 1 + 11 + 4);
  });

  it('counts nothing for what is absent', () => {
    expect(entrySize({})).toBe(0);
    expect(entrySize({ Source: 'a', DetailType: 'b' })).toBe(2);
  });
});

describe('putEventsReliably: batching', () => {
  it('sends at most 10 entries a call, in input order', async () => {
    // Prepare
    const { client, calls } = fakeEventBridge();
    const input = numbered(21);

    // Act
    const result = await putEventsReliably(client, input, FAST);

    // Assess
    expect(calls.map((c) => c.length)).toEqual([10, 10, 1]);
    expect(calls.flat()).toEqual(input);
    expect(result.sent.map((s) => s.entry)).toEqual(input);
    expect(result.sent[20]?.eventId).toBe('3-0');
    expect(result).toMatchObject({ failed: [], attempts: 1 });
  });

  it('fills a call to exactly 256 KB of entries, and not a byte more', async () => {
    // Prepare
    const { client, calls } = fakeEventBridge();
    const exactly = [entry('a', KB256 / 2), entry('b', KB256 / 2)];
    const over = [entry('a', KB256 / 2), entry('b', KB256 / 2 + 1)];

    // Act
    await putEventsReliably(client, exactly, FAST);
    await putEventsReliably(client, over, FAST);

    // Assess
    expect(calls.map((c) => c.length)).toEqual([2, 1, 1]);
  });

  it('sends an entry of exactly 256 KB alone, and refuses one a byte larger up front', async () => {
    const { client, calls } = fakeEventBridge();
    const fits = entry('fits', KB256);
    const tooLarge = { ...entry('big', KB256 - 13), Time: new Date() };

    const result = await putEventsReliably(client, [fits, tooLarge, entry('small')], FAST);

    expect(calls).toEqual([[fits], [entry('small')]]);
    expect(result.sent.map((s) => s.entry)).toEqual([fits, entry('small')]);
    expect(result.failed).toEqual([
      {
        entry: tooLarge,
        errorCode: 'EntryTooLarge',
        errorMessage: 'the entry is 262145 bytes, over the 262144-byte limit',
      },
    ]);
  });
});

describe('putEventsReliably: entry failures', () => {
  it('retries only throttled and internally failed entries, in their order', async () => {
    // Prepare: the first call throttles 1 and 4, fails 2 internally and 3 for a bad detail.
    const { client, ids } = fakeEventBridge((entries, call) =>
      entries.map((e, i) => {
        if (call > 1) return accepted(call, i);
        if (e.Detail === '1' || e.Detail === '4') return throttled;
        if (e.Detail === '2') return { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' };
        if (e.Detail === '3') return { ErrorCode: 'MalformedDetail', ErrorMessage: 'bad JSON' };
        return accepted(call, i);
      }),
    );

    // Act
    const result = await putEventsReliably(client, numbered(6), FAST);

    // Assess
    expect(ids()).toEqual([
      ['0', '1', '2', '3', '4', '5'],
      ['1', '2', '4'],
    ]);
    expect(result.sent.map((s) => [s.entry.Detail, s.eventId])).toEqual([
      ['0', '1-0'],
      ['1', '2-0'],
      ['2', '2-1'],
      ['4', '2-2'],
      ['5', '1-5'],
    ]);
    expect(result.failed).toEqual([
      { entry: entry('3'), errorCode: 'MalformedDetail', errorMessage: 'bad JSON' },
    ]);
    expect(result.attempts).toBe(2);
  });

  it('does not retry the documented non-retryable codes', async () => {
    const codes = [
      'AccessDeniedException',
      'InvalidAccountIdException',
      'InvalidArgument',
      'MalformedDetail',
      'RedactionFailure',
      'NotAuthorizedForSourceException',
      'NotAuthorizedForDetailTypeException',
    ];
    const { client, calls } = fakeEventBridge((entries) =>
      entries.map((_, i) => ({ ErrorCode: codes[i] ?? 'InvalidArgument', ErrorMessage: '' })),
    );

    const result = await putEventsReliably(client, numbered(codes.length), FAST);

    expect(calls).toHaveLength(1);
    expect(result.failed.map((f) => f.errorCode)).toEqual(codes);
  });

  it('hands back an entry still throttled after maxAttempts', async () => {
    const { client, calls } = fakeEventBridge((entries, call) =>
      entries.map((e, i) => (e.Detail === '0' ? throttled : accepted(call, i))),
    );

    const result = await putEventsReliably(client, numbered(2), { ...FAST, maxAttempts: 5 });

    expect(calls).toHaveLength(5);
    expect(result.failed).toEqual([
      { entry: entry('0'), errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded' },
    ]);
    expect(result.attempts).toBe(5);
  });

  it('retries entries sent ahead of those not sent yet', async () => {
    const { client, ids } = fakeEventBridge((entries, call) =>
      entries.map((e, i) => (call === 1 && e.Detail === '7' ? throttled : accepted(call, i))),
    );

    await putEventsReliably(client, numbered(20), FAST);

    expect(ids()[1]).toEqual(['7', '10', '11', '12', '13', '14', '15', '16', '17', '18']);
  });
});

describe('putEventsReliably: whole-call errors', () => {
  it('retries the whole call after a 500', async () => {
    const { client, ids } = fakeEventBridge((entries, call) => {
      if (call === 1)
        throw new InternalException({ message: 'internal', $metadata: { httpStatusCode: 500 } });
      return succeed(entries, call);
    });

    const result = await putEventsReliably(client, numbered(2), FAST);

    expect(ids()).toEqual([
      ['0', '1'],
      ['0', '1'],
    ]);
    expect(result).toMatchObject({ failed: [], attempts: 2 });
  });

  it('fails the entries of a call that fails for good, with its code', async () => {
    const { client, calls } = fakeEventBridge(() => {
      throw new ResourceNotFoundException({
        message: 'Event bus b does not exist.',
        $metadata: {},
      });
    });

    const result = await putEventsReliably(client, numbered(11), FAST);

    expect(calls.map((c) => c.length)).toEqual([10, 1]);
    expect(result.failed).toHaveLength(11);
    expect(result.failed[10]).toEqual({
      entry: entry('10'),
      errorCode: 'ResourceNotFoundException',
      errorMessage: 'Event bus b does not exist.',
    });
  });
});

type Outcome = 'ok' | 'throttled' | 'internal' | 'malformed';
type CallFault = 'none' | 'throttled' | 'not-found';

describe('putEventsReliably: property', () => {
  it('returns every entry exactly once, in sent or failed, whatever fails', async () => {
    const maxAttempts = 4;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(fc.integer({ min: 2, max: 2_000 }), fc.integer({ min: 50_000, max: KB256 + 2 })),
          { maxLength: 60, size: 'medium' },
        ),
        fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'throttled', 'internal', 'malformed'), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.constantFrom<CallFault>('none', 'none', 'none', 'throttled', 'not-found'), {
          minLength: 1,
          maxLength: 10,
        }),
        async (sizes, outcomes, faults) => {
          // Prepare: entries of the sizes given, each with a unique detail.
          const input = sizes.map((size, i) => entry(`${i}`, Math.max(size, 2 + `${i}`.length)));
          const acked = new Map<PutEventsRequestEntry, number>();
          let next = 0;
          const { client, calls } = fakeEventBridge((entries, call) => {
            const fault = faults[(call - 1) % faults.length];
            if (fault === 'throttled')
              throw Object.assign(new Error('Rate exceeded'), {
                name: 'ThrottlingException',
                $metadata: { httpStatusCode: 400 },
              });
            if (fault === 'not-found')
              throw new ResourceNotFoundException({ message: 'gone', $metadata: {} });
            return entries.map((e, i) => {
              const outcome = outcomes[next++ % outcomes.length];
              if (outcome === 'ok') {
                acked.set(e, (acked.get(e) ?? 0) + 1);
                return accepted(call, i);
              }
              if (outcome === 'throttled') return throttled;
              if (outcome === 'internal') return { ErrorCode: 'InternalFailure' };
              return { ErrorCode: 'MalformedDetail' };
            });
          });

          // Act
          const result = await putEventsReliably(client, input, { ...FAST, maxAttempts });

          // Assess: each entry once; sent means acknowledged once and never sent again.
          const back = [...result.sent.map((s) => s.entry), ...result.failed.map((f) => f.entry)];
          expect(back).toHaveLength(input.length);
          const given = new Set(input);
          expect(new Set(back).size).toBe(input.length);
          expect(back.every((e) => given.has(e))).toBe(true);
          expect(result.sent.map((s) => acked.get(s.entry))).toEqual(result.sent.map(() => 1));
          expect(acked.size).toBe(result.sent.length);
          for (const c of calls) {
            expect(c.length).toBeLessThanOrEqual(PUT_EVENTS_LIMITS.maxEntries);
            expect(c.reduce((sum, e) => sum + entrySize(e), 0)).toBeLessThanOrEqual(KB256);
          }
          const tries = new Map<PutEventsRequestEntry, number>();
          for (const e of calls.flat()) tries.set(e, (tries.get(e) ?? 0) + 1);
          expect(Math.max(0, ...tries.values())).toBeLessThanOrEqual(maxAttempts);
          expect(result.attempts).toBeLessThanOrEqual(maxAttempts);
          client.destroy();
        },
      ),
      { numRuns: 40 },
    );
  });
});
