import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeldQueue } from '../../../stream/aws/HeldQueue.js';
import { sqsClient } from '../../../stream/aws/sqsClient.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';

// Reading a dead-letter queue without taking anything from it, on moto_server's SQS.
describe.runIf(motoAvailable())('a held queue on moto_server', () => {
  let moto: Moto;
  let sqs: SQSClient;
  let queues = 0;

  /** A new queue holding `count` messages, `body-0`, `body-1`, ... */
  async function queueOf(count: number): Promise<string> {
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: `held-${++queues}` }),
    );
    for (let i = 0; i < count; i += 10)
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
            Id: String(j),
            MessageBody: `body-${i + j}`,
          })),
        }),
      );
    return QueueUrl;
  }

  const counts = async (url: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages),
      held: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  };

  beforeAll(async () => {
    moto = await startMoto();
    sqs = sqsClient({ endpoint: moto.endpoint });
  }, 60_000);

  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  it('reads every message, page after page, holds them, and gives them all back', async () => {
    // Prepare
    const url = await queueOf(25);

    // Act
    const held = await HeldQueue.read(sqs, url);
    const meanwhile = await HeldQueue.read(sqs, url);
    const whileHeld = await counts(url);
    await meanwhile.close();
    await held.close();

    // Assess
    expect(held.messages.map((m) => m.Body).sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => `body-${i}`).sort(),
    );
    expect(held.truncated).toBe(false);
    expect(meanwhile.messages).toEqual([]);
    expect(meanwhile.inFlight).toBe(25);
    expect(whileHeld).toEqual({ visible: 0, held: 25 });
    expect(await counts(url)).toEqual({ visible: 25, held: 0 });
  });

  it('deletes what it is told to, lets go of one at once, the rest on close', async () => {
    const url = await queueOf(3);
    const held = await HeldQueue.read(sqs, url);
    const [first, second] = held.messages;
    await held.delete({ MessageId: first?.MessageId });
    await held.release({ MessageId: second?.MessageId });
    const released = await counts(url);
    await held.close();
    expect(released).toEqual({ visible: 1, held: 1 });
    expect(await counts(url)).toEqual({ visible: 2, held: 0 });
    await expect(held.delete({ MessageId: first?.MessageId })).rejects.toThrow(/is not held/);
  });

  it('stops at its limit, and says so', async () => {
    const url = await queueOf(12);
    const held = await HeldQueue.read(sqs, url, { limit: 5 });
    await held.close();
    expect(held.messages.length).toBe(5);
    expect(held.truncated).toBe(true);
    expect(await counts(url)).toEqual({ visible: 12, held: 0 });
  });

  it('renews its hold while it is held', async () => {
    const url = await queueOf(2);
    const held = await HeldQueue.read(sqs, url, { holdSeconds: 2 });
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const later = await HeldQueue.read(sqs, url, { emptyWaitSeconds: 0 });
    await later.close();
    await held.close();
    expect(later.messages).toEqual([]);
    expect(await counts(url)).toEqual({ visible: 2, held: 0 });
  });
});
