import type {
  EventBridgeClient,
  PutEventsCommandInput,
  PutEventsCommandOutput,
  PutEventsRequestEntry,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBridgeClient } from '../../../stream/aws/eventBridgeClient.js';
import { putEventsReliably } from '../../../stream/aws/putEventsReliably.js';
import {
  drainQueue,
  type Moto,
  motoAvailable,
  motoBusToQueue,
  startMoto,
} from '../../support/moto.js';

const SOURCE = 'matchstream.test';
const FAST = { baseDelayMs: 2, maxDelayMs: 10 } as const;

describe.runIf(motoAvailable())('putEventsReliably on moto_server', () => {
  let moto: Moto;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    // As the project's clients do: the pinned SDK's Node.js 20 notice is noise.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    sqs = new SQSClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  function client(): EventBridgeClient {
    return eventBridgeClient({
      endpoint: moto.endpoint,
      retryStrategy: new ConfiguredRetryStrategy(3, (attempt) => 5 * attempt),
    });
  }

  /** A bus whose one rule sends everything from SOURCE to a new queue. */
  const busToQueue = (events: EventBridgeClient, name: string) =>
    motoBusToQueue(events, sqs, name, SOURCE);

  function entries(bus: string, count: number): PutEventsRequestEntry[] {
    return Array.from({ length: count }, (_, n) => ({
      EventBusName: bus,
      Source: SOURCE,
      DetailType: 'MatchRecorded',
      Detail: JSON.stringify({ n }),
    }));
  }

  /** Every event the queue holds, until `count` have come or 10 s have passed. */
  async function drain(queueUrl: string, count: number) {
    const bodies = await drainQueue<{ id: string; detail: { n: number } }>(sqs, queueUrl, {
      count,
    });
    return bodies.map((event) => ({ id: event.id, n: event.detail.n }));
  }

  it('puts 25 events on a bus, and a rule delivers each to SQS once', async () => {
    // Prepare
    const events = client();
    const queueUrl = await busToQueue(events, 'plain');

    // Act
    const result = await putEventsReliably(events, entries('plain', 25), FAST);

    // Assess
    expect(result.failed).toEqual([]);
    expect(result.attempts).toBe(1);
    expect(result.sent).toHaveLength(25);
    const delivered = await drain(queueUrl, 25);
    expect(delivered.map((e) => e.n).sort((a, b) => a - b)).toEqual([...Array(25).keys()]);
    expect(new Set(delivered.map((e) => e.id))).toEqual(new Set(result.sent.map((s) => s.eventId)));
    events.destroy();
  });

  it('retries the entries EventBridge throttled, and each is delivered once', async () => {
    // Prepare: on their first attempt, every third entry is throttled and never reaches moto.
    const events = client();
    const queueUrl = await busToQueue(events, 'throttled');
    const attempts = new Map<string, number>();
    events.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutEventsCommand') return next(args);
        const request = args.input as PutEventsCommandInput;
        const all = request.Entries ?? [];
        const throttle = all.map((e) => {
          const n = (JSON.parse(e.Detail ?? '{}') as { n: number }).n;
          const attempt = (attempts.get(e.Detail ?? '') ?? 0) + 1;
          attempts.set(e.Detail ?? '', attempt);
          return n % 3 === 0 && attempt === 1;
        });
        const kept = all.filter((_, i) => !throttle[i]);
        const real =
          kept.length > 0
            ? await next({ ...args, input: { ...request, Entries: kept } })
            : { output: { $metadata: {}, FailedEntryCount: 0, Entries: [] }, response: {} };
        const output = real.output as PutEventsCommandOutput;
        const put = output.Entries ?? [];
        let k = 0;
        const Entries = all.map(
          (_, i): PutEventsResultEntry =>
            throttle[i]
              ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }
              : (put[k++] ?? {}),
        );
        const throttled = throttle.filter(Boolean).length;
        return {
          ...real,
          output: {
            ...output,
            FailedEntryCount: (output.FailedEntryCount ?? 0) + throttled,
            Entries,
          },
        };
      },
      { step: 'initialize', name: 'throttleSomeEntries' },
    );

    // Act
    const result = await putEventsReliably(events, entries('throttled', 25), FAST);

    // Assess
    expect(result.failed).toEqual([]);
    expect(result.sent).toHaveLength(25);
    expect(result.attempts).toBe(2);
    expect([...attempts.values()].filter((a) => a === 2)).toHaveLength(9); // n = 0, 3, …, 24
    const delivered = await drain(queueUrl, 25);
    expect(delivered.map((e) => e.n).sort((a, b) => a - b)).toEqual([...Array(25).keys()]);
    events.destroy();
  });
});
