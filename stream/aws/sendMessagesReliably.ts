import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type ReliableOptions, sendInBatches } from './backoff.js';

/**
 * SendMessageBatch limits: 10 entries a request, and 1 MiB for one message and for the sum of
 * a request's messages (API reference, SendMessageBatch). A message's delay is 0–900 s.
 */
export const SEND_MESSAGE_LIMITS = {
  maxEntries: 10,
  maxRequestBytes: 1_048_576,
  maxDelaySeconds: 900,
} as const;

/** One message to send: its body and how long it stays invisible (s). */
export interface OutgoingMessage {
  readonly body: string;
  readonly delaySeconds?: number;
}

export interface SendMessagesResult {
  readonly sent: { readonly message: OutgoingMessage; readonly messageId: string }[];
  readonly failed: {
    readonly message: OutgoingMessage;
    readonly errorCode: string;
    readonly errorMessage: string;
  }[];
}

/**
 * SQS SendMessageBatch that loses nothing: every message comes back once, in input order, in
 * `sent` (with its message id) or in `failed` (too large, refused by the queue, or still
 * failing after `maxAttempts`). An entry SQS reports as its own fault (`SenderFault`) is never
 * retried; the others are, with backoff, as is a whole call that failed retryably.
 */
export async function sendMessagesReliably(
  client: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  options: ReliableOptions = {},
): Promise<SendMessagesResult> {
  const size = (m: OutgoingMessage) => Buffer.byteLength(m.body, 'utf8');
  const delivery = await sendInBatches(
    messages,
    {
      maxEntries: SEND_MESSAGE_LIMITS.maxEntries,
      maxBytes: SEND_MESSAGE_LIMITS.maxRequestBytes,
      size,
      refuse(message) {
        const bytes = size(message);
        if (bytes > SEND_MESSAGE_LIMITS.maxRequestBytes)
          return {
            errorCode: 'MessageTooLarge',
            errorMessage: `the message is ${bytes} bytes, over the ${SEND_MESSAGE_LIMITS.maxRequestBytes}-byte limit`,
          };
        const delay = message.delaySeconds ?? 0;
        if (!Number.isInteger(delay) || delay < 0 || delay > SEND_MESSAGE_LIMITS.maxDelaySeconds)
          return {
            errorCode: 'InvalidDelay',
            errorMessage: `a delay of ${delay} s is not a whole number of seconds from 0 to ${SEND_MESSAGE_LIMITS.maxDelaySeconds}`,
          };
        return undefined;
      },
      async send(batch, signal) {
        const entries: SendMessageBatchRequestEntry[] = batch.map((m, i) => ({
          Id: String(i),
          MessageBody: m.body,
          ...(m.delaySeconds ? { DelaySeconds: m.delaySeconds } : {}),
        }));
        const output = await client.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
          // No options without a signal: a client that resolves its stack once
          // (`forOwnServers`) resolves it again for a call with options.
          signal ? { abortSignal: signal } : undefined,
        );
        // Each entry's own result decides, whatever the call's status said.
        const ok = new Map((output.Successful ?? []).map((s) => [s.Id, s.MessageId ?? '']));
        const bad = new Map((output.Failed ?? []).map((f) => [f.Id, f]));
        return batch.map((_, i) => {
          const id = String(i);
          const failure = bad.get(id);
          if (failure)
            return {
              errorCode: failure.Code ?? 'Unknown',
              errorMessage: failure.Message ?? '',
              retryable: !failure.SenderFault,
            };
          const messageId = ok.get(id);
          if (messageId !== undefined) return { ack: messageId };
          return {
            errorCode: 'MissingResult',
            errorMessage: 'the response had no result for this entry',
            retryable: true,
          };
        });
      },
    },
    options,
  );
  return {
    sent: delivery.sent.map(({ entry, ack }) => ({ message: entry, messageId: ack })),
    failed: delivery.failed.map(({ entry, errorCode, errorMessage }) => ({
      message: entry,
      errorCode,
      errorMessage,
    })),
  };
}
