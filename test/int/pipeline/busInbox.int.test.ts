import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxHandler } from '../../../pipeline/aws/busInbox.js';
import { superviseHandlers } from '../../../pipeline/aws/handlerSupervisor.js';
import { clientConfig } from '../../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../../stream/aws/dynamoClient.js';
import { sendMessagesReliably } from '../../../stream/aws/sendMessagesReliably.js';
import { DynamoBreakerStateStore } from '../../../stream/breaker/BreakerStateStore.js';
import { DependencyUnavailable } from '../../../stream/breaker/DependencyUnavailable.js';
import type { BusEvent } from '../../../stream/buses/eventPattern.js';
import { ensureBreakersTable } from '../../../stream/local/localTables.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';
import { createMotoFunction } from '../../support/motoFunction.js';

const BREAKERS = 'breakers';

// A bus handler's queue on AWS, on moto_server: held events wait in the queue without spending
// its receives, and the supervisor pauses the handler's mapping while its breakers are open.
describe.runIf(motoAvailable())(
  'a bus handler behind its queue on moto_server (SQS, Lambda, DynamoDB)',
  () => {
    let moto: Moto;
    let sqs: SQSClient;
    let lambda: LambdaClient;
    let dynamo: DynamoDBClient;

    beforeAll(async () => {
      moto = await startMoto();
      sqs = new SQSClient(clientConfig({ endpoint: moto.endpoint }));
      lambda = new LambdaClient(clientConfig({ endpoint: moto.endpoint }));
      dynamo = dynamoClient({ endpoint: moto.endpoint, maxAttempts: 3 });
      await ensureBreakersTable(dynamo, BREAKERS);
    }, 60_000);
    afterAll(async () => {
      sqs?.destroy();
      lambda?.destroy();
      dynamo?.destroy();
      await moto?.stop();
    });

    async function queue(name: string, attributes: Record<string, string> = {}) {
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      return { url: QueueUrl as string, arn: Attributes?.QueueArn as string };
    }

    async function depth(url: string): Promise<number> {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return Object.values(Attributes ?? {}).reduce((n, v) => n + Number(v), 0);
    }

    it('holds every event through an outage longer than the receive count allows, then applies each once; nothing reaches the dead letters', async () => {
      // Arrange: a queue that gives up after 2 receives, and 4 events on it as a rule puts them.
      const dlq = await queue('match-dead-letters');
      const inbox = await queue('match-inbox', {
        VisibilityTimeout: '5',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
      });
      const ids = Array.from({ length: 4 }, (_, i) => `event-${i}`);
      const put = await sendMessagesReliably(
        sqs,
        inbox.url,
        ids.map((id) => ({
          body: JSON.stringify({
            id,
            source: 'matchstream.soccer',
            'detail-type': 'MatchRecorded',
            detail: { id },
          }),
        })),
      );
      expect(put.failed).toEqual([]);
      // The dependency stays down until each event has been held 3 times, one more than the
      // queue allows receives; its breaker lets a trial through every second.
      const applied: string[] = [];
      const heldTimes = new Map<string, number>();
      const handle = async (event: BusEvent) => {
        const id = String((event as { id: string }).id);
        const held = heldTimes.get(id) ?? 0;
        if (held < 3) {
          heldTimes.set(id, held + 1);
          throw new Error('write failed', {
            cause: new DependencyUnavailable(
              'match-event-handler/saga-work',
              Date.now() + 1_000,
              'HTTP 503',
            ),
          });
        }
        applied.push(id);
      };
      const handler = inboxHandler(handle, {
        requeue: (messages) => sendMessagesReliably(sqs, inbox.url, messages),
      });

      // Act: poll as the event source mapping does, deleting what the function did not report.
      const deadline = Date.now() + 120_000;
      while (applied.length < ids.length && Date.now() < deadline) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: inbox.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        if (Messages.length === 0) continue;
        const response = await handler({
          Records: Messages.map((m) => ({
            messageId: m.MessageId as string,
            body: m.Body as string,
            attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
          })),
        });
        const reported = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        const done = Messages.filter((m) => !reported.has(m.MessageId as string));
        if (done.length > 0)
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: inbox.url,
              Entries: done.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle as string,
              })),
            }),
          );
      }

      // Assert: each event once; some held more often than the queue allows receives.
      expect([...applied].sort()).toEqual([...ids].sort());
      expect(Math.max(...heldTimes.values())).toBeGreaterThan(2);
      expect(await depth(dlq.url)).toBe(0);
      expect(await depth(inbox.url)).toBe(0);
    }, 90_000);

    it('pauses a handler while its breakers are open and resumes it for the trial; a mapping disabled by hand stays disabled', async () => {
      // Arrange: two handlers' functions and mappings; the second was disabled by an operator.
      const mappings: Record<string, string> = {};
      for (const [owner, enabled] of [
        ['match-event-handler', true],
        ['calculation-event-handler', false],
      ] as const) {
        const fn = `${owner}-${randomUUID().slice(0, 8)}`;
        await createMotoFunction(moto.endpoint, lambda, fn);
        const q = await queue(`${owner}-inbox-${randomUUID().slice(0, 8)}`);
        const { UUID } = await lambda.send(
          new CreateEventSourceMappingCommand({
            FunctionName: fn,
            EventSourceArn: q.arn,
            Enabled: enabled,
            BatchSize: 10,
          }),
        );
        mappings[owner] = UUID as string;
      }
      const breakers = new DynamoBreakerStateStore(dynamo, BREAKERS);
      const state = async (owner: string) =>
        (await lambda.send(new GetEventSourceMappingCommand({ UUID: mappings[owner] }))).State;
      const round = (now: number) =>
        superviseHandlers({ lambda, dynamo, table: BREAKERS, breakers, mappings, now: () => now });
      const t0 = Date.now();

      // Act and assert: nothing open, nothing done.
      expect((await round(t0)).map((a) => a.action)).toEqual(['running', 'left']);

      // A breaker of each handler opens until t0 + 60 s.
      for (const owner of Object.keys(mappings))
        await breakers.put({
          breaker: `${owner}/saga-work`,
          state: 'open',
          opened_at: t0,
          half_open_at: t0 + 60_000,
          reason: 'HTTP 503',
          policy: '{}',
          updated_at: t0,
          by: 'test',
        });
      const paused = await round(t0 + 1_000);
      expect(paused.map((a) => [a.owner, a.action, a.until])).toEqual([
        ['match-event-handler', 'paused', t0 + 60_000],
        ['calculation-event-handler', 'left', t0 + 60_000],
      ]);
      expect(await state('match-event-handler')).toBe('Disabled');
      // The supervisor's mark is not a breaker.
      expect((await breakers.list()).map((b) => b.breaker)).toEqual([
        'calculation-event-handler/saga-work',
        'match-event-handler/saga-work',
      ]);
      expect((await round(t0 + 30_000)).map((a) => a.action)).toEqual(['held', 'left']);

      // The trial is due: the paused handler receives again, the other stays as it was left.
      expect((await round(t0 + 61_000)).map((a) => a.action)).toEqual(['resumed', 'left']);
      expect(await state('match-event-handler')).toBe('Enabled');
      expect(await state('calculation-event-handler')).toBe('Disabled');
      expect((await round(t0 + 62_000)).map((a) => a.action)).toEqual(['running', 'left']);
    }, 90_000);
  },
);
