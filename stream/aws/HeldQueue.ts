import {
  type BatchResultErrorEntry,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface HeldQueueOptions {
  /**
   * How long a message read stays hidden from other readers (s), renewed every third of it
   * while the queue is held: what a reader that dies hides a message for at most. @default 30
   */
  readonly holdSeconds?: number;
  /** The most messages read; the rest are left in the queue (`truncated`). @default 10000 */
  readonly limit?: number;
  /**
   * How long the last receive waits (s) before the queue is taken as read to the end: a long
   * poll asks every SQS server, a short one some of them, and can come back empty from a queue
   * of a few messages. @default 1
   */
  readonly emptyWaitSeconds?: number;
}

/**
 * Every message of a queue, read without taking it: each received hidden for a short hold
 * (renewed while the queue is held, so a long read or redrive keeps them), none deleted unless
 * `delete` says so, every other one visible again on `release` or `close`. A reader that dies
 * hides nothing for longer than the hold. Messages another reader holds at the time cannot be
 * received: `inFlight` is how many there were (approximately) before the read.
 */
export class HeldQueue {
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly client: SQSClient,
    readonly url: string,
    /** The messages read, in the order received, with the receipt handles of this read. */
    readonly messages: readonly Message[],
    /** Whether the limit stopped the read before the queue was empty. */
    readonly truncated: boolean,
    /** Messages hidden by another reader before the read, as SQS approximates them. */
    readonly inFlight: number,
    private readonly holdSeconds: number,
  ) {
    for (const m of messages)
      if (m.MessageId && m.ReceiptHandle) this.held.set(m.MessageId, m.ReceiptHandle);
    this.timer = setInterval(
      () => {
        this.renew().catch(() => {
          // A hold not renewed lapses: the messages come back, which loses none of them.
        });
      },
      (holdSeconds * 1000) / 3,
    );
    this.timer.unref();
  }

  /** Reads every message of the queue (up to the limit), holding each. */
  static async read(
    client: SQSClient,
    url: string,
    options: HeldQueueOptions = {},
  ): Promise<HeldQueue> {
    const hold = options.holdSeconds ?? 30;
    const limit = options.limit ?? 10_000;
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const inFlight = Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const byId = new Map<string, Message>();
    let waited = false;
    let truncated = false;
    try {
      for (;;) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, limit - byId.size),
            VisibilityTimeout: hold,
            // Short polls while messages come; one long poll to be sure the queue is read out.
            WaitTimeSeconds: waited ? (options.emptyWaitSeconds ?? 1) : 0,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) {
          if (waited) break;
          waited = true;
          continue;
        }
        waited = false;
        // A message received again (its hold lapsed meanwhile) keeps its place, with the new
        // receipt handle.
        for (const m of Messages) if (m.MessageId) byId.set(m.MessageId, m);
        if (byId.size >= limit) {
          truncated = true;
          break;
        }
      }
    } catch (error) {
      // A read cut short gives back what it received so far, at once.
      await new HeldQueue(client, url, [...byId.values()], false, inFlight, hold)
        .close()
        .catch(() => {});
      throw error;
    }
    return new HeldQueue(client, url, [...byId.values()], truncated, inFlight, hold);
  }

  /** Deletes a held message: it was dealt with. */
  async delete(message: Pick<Message, 'MessageId'>): Promise<void> {
    const receipt = this.receiptOf(message);
    await this.client.send(
      new DeleteMessageCommand({ QueueUrl: this.url, ReceiptHandle: receipt }),
    );
    this.held.delete(message.MessageId ?? '');
  }

  /** Lets go of a held message: visible again at once, as it was. */
  async release(message: Pick<Message, 'MessageId'>): Promise<void> {
    const receipt = this.receiptOf(message);
    this.held.delete(message.MessageId ?? '');
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.url,
          ReceiptHandle: receipt,
          VisibilityTimeout: 0,
        }),
      );
    } catch (error) {
      if (!lapsed(error)) throw error;
    }
  }

  /** Lets go of every message still held, and stops renewing the holds. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const entries = [...this.held.values()];
    this.held.clear();
    await this.changeVisibility(entries, 0);
  }

  private async renew(): Promise<void> {
    await this.changeVisibility([...this.held.values()], this.holdSeconds);
  }

  /** Sets the visibility of messages by receipt handle, ten at a time; lapsed holds are fine. */
  private async changeVisibility(receipts: readonly string[], seconds: number): Promise<void> {
    const failed: BatchResultErrorEntry[] = [];
    for (let i = 0; i < receipts.length; i += 10) {
      const { Failed = [] } = await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.url,
          Entries: receipts
            .slice(i, i + 10)
            .map((r, j) => ({ Id: String(j), ReceiptHandle: r, VisibilityTimeout: seconds })),
        }),
      );
      failed.push(...Failed.filter((f) => !LAPSED.has(f.Code ?? '')));
    }
    const first = failed[0];
    if (first)
      throw new Error(
        `${this.url}: the visibility of ${failed.length} message(s) could not be changed (${first.Code}: ${first.Message})`,
      );
  }

  private receiptOf(message: Pick<Message, 'MessageId'>): string {
    const receipt = this.held.get(message.MessageId ?? '');
    if (!receipt) throw new Error(`${this.url}: message ${message.MessageId} is not held`);
    return receipt;
  }
}

/** The codes of a change to a message whose hold lapsed (received again, or deleted). */
const LAPSED = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue']);

function lapsed(error: unknown): boolean {
  const name = (error as { name?: string; Code?: string }).name ?? '';
  return LAPSED.has(name) || name.endsWith('ReceiptHandleIsInvalid');
}

/**
 * The receive count after which a queue's redrive policy moves a message to its dead-letter
 * queue (`maxReceiveCount`), by the queue's ARN (what SQS gives a moved message as its
 * `DeadLetterQueueSourceArn`); undefined when the queue or its policy cannot be read.
 */
export async function maxReceiveCountOf(
  client: SQSClient,
  queueArn: string,
): Promise<number | undefined> {
  const [, , , , account, name] = queueArn.split(':');
  if (!name) return undefined;
  try {
    const { QueueUrl } = await client.send(
      new GetQueueUrlCommand({
        QueueName: name,
        ...(account ? { QueueOwnerAWSAccountId: account } : {}),
      }),
    );
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const count = Number(
      (JSON.parse(Attributes?.RedrivePolicy ?? '{}') as { maxReceiveCount?: unknown })
        .maxReceiveCount,
    );
    return Number.isInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
}
