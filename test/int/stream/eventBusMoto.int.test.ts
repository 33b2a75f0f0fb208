import {
  CreateEventBusCommand,
  type EventBridgeClient,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBridgeClient } from '../../../stream/aws/eventBridgeClient.js';
import { busEntryOf } from '../../../stream/buses/BusPublisher.js';
import { DOMAINS, type Domain } from '../../../stream/buses/domains.js';
import { EventBridgePublisher } from '../../../stream/buses/EventBridgePublisher.js';
import type { BusEvent, EventPattern } from '../../../stream/buses/eventPattern.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { type BusUnderTest, eventBusContract } from '../../contract/eventBusContract.js';
import { envelope } from '../../support/envelopes.js';
import { drainQueue, type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { matchRecorded } from '../../support/registry.js';

const FAST = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } as const;

/**
 * Refuses entries on their way to EventBridge, as PutEvents does when it fails some entries
 * of a call: those entries are not put, and the response says why for each.
 */
type Refusal = (entry: PutEventsRequestEntry, attempt: number) => string | undefined;

describe.runIf(motoAvailable())('EventBridge on moto_server, rules delivering to SQS', () => {
  let moto: Moto;
  let sqs: SQSClient;
  let buses = 0;
  let rules = 0;
  const clients: EventBridgeClient[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    sqs = new SQSClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    sqs?.destroy();
    await moto?.stop();
  });

  /** Four new buses on moto, the publisher the bus router uses, and what it sent. */
  async function motoBuses(refuse: Refusal = () => undefined) {
    const client = eventBridgeClient({ endpoint: moto.endpoint, maxAttempts: 3 });
    clients.push(client);
    const puts: number[] = [];
    const attempts = new Map<string, number>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutEventsCommand') return next(args);
        const request = args.input as PutEventsCommandInput;
        const all = request.Entries ?? [];
        puts.push(all.length);
        const refusals = all.map((entry) => {
          const attempt = (attempts.get(entry.Detail ?? '') ?? 0) + 1;
          attempts.set(entry.Detail ?? '', attempt);
          return refuse(entry, attempt);
        });
        const kept = all.filter((_, i) => refusals[i] === undefined);
        const real =
          kept.length > 0
            ? await next({ ...args, input: { ...request, Entries: kept } })
            : { output: { $metadata: {}, FailedEntryCount: 0, Entries: [] }, response: {} };
        const output = real.output as PutEventsCommandOutput;
        const put = output.Entries ?? [];
        let k = 0;
        const Entries = all.map((_, i): PutEventsResultEntry => {
          const code = refusals[i];
          return code ? { ErrorCode: code, ErrorMessage: `refused: ${code}` } : (put[k++] ?? {});
        });
        return {
          ...real,
          output: {
            ...output,
            FailedEntryCount: Entries.filter((e) => e.ErrorCode).length,
            Entries,
          },
        };
      },
      { step: 'initialize', name: 'refuseSomeEntries' },
    );
    const prefix = `contract-${++buses}`;
    const names = Object.fromEntries(DOMAINS.map((d) => [d, `${prefix}-${d}`])) as Record<
      Domain,
      string
    >;
    for (const name of Object.values(names))
      await client.send(new CreateEventBusCommand({ Name: name }));
    const deadLetters = new InMemoryDeadLetterQueue();
    const publisher = new EventBridgePublisher({ client, buses: names, deadLetters, retry: FAST });

    const under: BusUnderTest = {
      publisher,
      rule: (domain, pattern) => ruleToQueue(client, names[domain], pattern),
      deadLetters: () => deadLetters.list(),
    };
    return { ...under, attempts, puts };
  }

  /** A rule on a bus sending what matches to a new SQS queue, read back as the target. */
  async function ruleToQueue(client: EventBridgeClient, bus: string, pattern: EventPattern) {
    const name = `rule-${++rules}`;
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await client.send(
      new PutRuleCommand({ Name: name, EventBusName: bus, EventPattern: JSON.stringify(pattern) }),
    );
    await client.send(
      new PutTargetsCommand({
        Rule: name,
        EventBusName: bus,
        Targets: [
          {
            Id: 'queue',
            Arn: Attributes?.QueueArn ?? '',
            // The whole event (see motoBusToQueue: one input path makes moto much faster).
            InputTransformer: {
              InputPathsMap: { detail: '$.detail' },
              InputTemplate: '<aws.events.event.json>',
            },
          },
        ],
      }),
    );
    return {
      // moto delivers within PutEvents: by the time publish returns, the queue holds it all.
      take: async () => (await drainQueue<BusEvent>(sqs, QueueUrl)).map(asAwsDelivers),
    };
  }

  eventBusContract('EventBridge on moto_server', () => motoBuses());

  describe('what only PutEvents does (the local buses take every entry in one put, in process)', () => {
    function results(count: number): EventEnvelope[] {
      return Array.from({ length: count }, (_, n) =>
        envelope('MatchRecorded', `match:partial-${buses}-${n}`, 1, matchRecorded(`m${n}`)),
      );
    }

    it('sends at most 10 entries a call', async () => {
      const bus = await motoBuses();
      const target = await bus.rule('soccer', { source: ['matchstream.soccer'] });
      const events = results(25);

      await bus.publisher.publish(events.map((e) => busEntryOf(e)));

      expect(bus.puts).toEqual([10, 10, 5]);
      expect(await target.take()).toHaveLength(25);
    });

    it('retries the entries EventBridge failed, and each is delivered once', async () => {
      // Prepare: every third entry is throttled on its first attempt.
      let n = 0;
      const throttled = new Set<string>();
      const bus = await motoBuses((entry, attempt) => {
        if (attempt > 1) return undefined;
        if (n++ % 3 !== 0) return undefined;
        throttled.add(entry.Detail ?? '');
        return 'ThrottlingException';
      });
      const target = await bus.rule('soccer', { source: ['matchstream.soccer'] });
      const events = results(25);

      // Act
      const published = await bus.publisher.publish(events.map((e) => busEntryOf(e)));

      // Assess
      expect(published).toEqual({ published: 25, deadLettered: 0 });
      expect(throttled.size).toBe(9);
      const delivered = (await target.take()).map((e) => (e.detail as EventEnvelope).event_id);
      expect(delivered.sort()).toEqual(events.map((e) => e.event_id).sort());
      expect(await bus.deadLetters()).toEqual([]);
    });

    it('dead-letters with its code what EventBridge keeps failing or fails for good, never dropping it', async () => {
      // Prepare: one entry throttled every time, one failed for good (not retried).
      const events = results(12);
      const [always, forGood] = [events[3]?.event_id ?? '', events[7]?.event_id ?? ''];
      const bus = await motoBuses((entry) => {
        if (entry.Detail?.includes(always)) return 'ThrottlingException';
        if (entry.Detail?.includes(forGood)) return 'AccessDeniedException';
        return undefined;
      });
      const target = await bus.rule('soccer', { source: ['matchstream.soccer'] });

      // Act
      const published = await bus.publisher.publish(events.map((e) => busEntryOf(e)));

      // Assess
      expect(published).toEqual({ published: 10, deadLettered: 2 });
      const delivered = (await target.take()).map((e) => (e.detail as EventEnvelope).event_id);
      expect(delivered.sort()).toEqual(
        events
          .map((e) => e.event_id)
          .filter((id) => id !== always && id !== forGood)
          .sort(),
      );
      const letters = await bus.deadLetters();
      const letterOf = (id: string) => letters.find((l) => JSON.stringify(l.event).includes(id));
      expect(letters).toHaveLength(2);
      expect(letterOf(always)).toMatchObject({
        error: 'ThrottlingException: refused: ThrottlingException',
        attempts: FAST.maxAttempts,
      });
      expect(letterOf(forGood)?.error).toBe(
        'AccessDeniedException: refused: AccessDeniedException',
      );
      expect(
        bus.attempts.get([...bus.attempts.keys()].find((d) => d.includes(forGood)) ?? ''),
      ).toBe(1);
    });
  });
});

/**
 * The event as AWS delivers it, where moto departs from it: moto passes `time` on as the epoch
 * seconds the SDK sent (AWS: ISO-8601 text to the second) and adds an `ingestion-time`.
 */
function asAwsDelivers(event: BusEvent): BusEvent {
  const { 'ingestion-time': _, ...rest } = event;
  const time =
    typeof event.time === 'number'
      ? new Date(Math.floor(event.time) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
      : event.time;
  return { ...rest, time };
}
