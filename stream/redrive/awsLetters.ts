import type { S3Client } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import type { HeldQueue } from '../aws/HeldQueue.js';
import { putInvocationRecord, removeInvocationRecord } from '../aws/s3InvocationRecords.js';
import type { DeadLetter, DynamoDeadLetterQueue } from '../consumer/DeadLetterQueue.js';
import { type InvocationRecord, isInvocationRecord } from '../consumer/invocationRecord.js';
import {
  eventRefOfEnvelope,
  type Letter,
  type LetterCopy,
  letterId,
  letterOfInvocation,
  type RedriveNote,
} from './Letter.js';
import type { LetterPlaces } from './redriveLetters.js';

/** A letter as read from where it is kept, and why it could not be read, when it could not. */
export interface ReadLetter {
  readonly letter: Letter;
  /** Set when what is kept could not be read: the letter is listed with it, never redriven. */
  readonly unreadable?: string;
}

/** A dead-letter queue of the deployed stack, and who gave up on what it keeps. */
export interface LetterQueue {
  readonly url: string;
  /** Who its letters are of: a bus handler (`bus:<rule>`), or the queue's role. */
  readonly consumer: string;
  /** Why its letters are not redriven at all (a schedule's invocations), if they are not. */
  readonly notRedriven?: string;
}

/**
 * A message of a bus handler's dead-letter queue (or another queue the stack lists) as a
 * letter. The body is the EventBridge event, or a Lambda asynchronous invocation's on-failure
 * record holding it as `requestPayload` (what older deploys sent). Why it failed: the rule
 * target's dead-letter attributes (ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS) when EventBridge
 * put it there, the record's error when Lambda did, and without either, an inbox queue's
 * redrive policy moved it after its receive count: the inbox's `maxReceiveCount` when
 * `maxReceives` knows it (by the message's `DeadLetterQueueSourceArn`), else the message's
 * receive count, which every read of the dead-letter queue adds one to. A body that is none of
 * these is a letter that says so. The id is the message's: the same on every read.
 */
export function letterOfQueueMessage(
  message: Message,
  queue: LetterQueue,
  maxReceives: (sourceArn: string) => number | undefined = () => undefined,
): ReadLetter {
  const messageId = message.MessageId ?? '?';
  const attributes = message.Attributes ?? {};
  const given = messageAttributes(message);
  const copy: LetterCopy = {
    place: 'dead-letter-queue',
    where: `${queueName(queue.url)} message ${messageId}`,
    handle: JSON.stringify({ queue: queue.url, message: messageId }),
    kept: message,
  };
  const sent = Number(attributes.SentTimestamp);
  const base = {
    id: letterId('queue', queue.consumer, messageId),
    consumer: queue.consumer,
    kind: 'bus-event' as const,
    failed_at: new Date(Number.isFinite(sent) ? sent : 0).toISOString(),
    copies: [copy],
  };
  const unreadable = (why: string, body: unknown): ReadLetter => ({
    letter: {
      ...base,
      error: why,
      attempts: 0,
      events: [],
      unknown: why,
      body: { body, attributes, message_attributes: given },
    },
    unreadable: why,
  });
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return unreadable('the message body is not JSON', message.Body ?? '');
  }
  if (!isObject(body))
    return unreadable('the message body is not an EventBridge event nor a failure record', body);

  let event: Record<string, unknown>;
  let error: string;
  let attempts: number;
  let failedAt = base.failed_at;
  if (isObject(body.requestContext) && 'requestPayload' in body) {
    // A Lambda asynchronous invocation's on-failure record.
    if (!isObject(body.requestPayload))
      return unreadable('the failure record holds no EventBridge event', body);
    event = body.requestPayload;
    const response = isObject(body.responsePayload) ? body.responsePayload : {};
    const condition = String(body.requestContext.condition ?? 'failed');
    error =
      typeof response.errorMessage === 'string'
        ? `${response.errorMessage}${typeof response.errorType === 'string' ? ` (${response.errorType})` : ''}`
        : condition;
    attempts = Number(body.requestContext.approximateInvokeCount) || 1;
    if (typeof body.timestamp === 'string' && !Number.isNaN(Date.parse(body.timestamp)))
      failedAt = new Date(body.timestamp).toISOString();
  } else if ('detail' in body && typeof body['detail-type'] === 'string') {
    event = body;
    if (given.ERROR_CODE !== undefined || given.ERROR_MESSAGE !== undefined) {
      // The rule's target could not be invoked: EventBridge says why.
      error = `${given.ERROR_MESSAGE ?? 'not delivered'} (${given.ERROR_CODE ?? 'no code'}${given.TARGET_ARN ? ` delivering to ${given.TARGET_ARN}` : ''})`;
      attempts = (Number(given.RETRY_ATTEMPTS) || 0) + 1;
    } else {
      // Moved by an inbox queue's redrive policy: no reason, only how often it was received.
      const sourceArn = attributes.DeadLetterQueueSourceArn;
      const received =
        (sourceArn ? maxReceives(sourceArn) : undefined) ??
        Math.max(0, (Number(attributes.ApproximateReceiveCount) || 1) - 1);
      const source = sourceArn?.split(':').at(-1);
      error = `gave up after ${received} receives${source ? ` from ${source}` : ''}`;
      attempts = received;
    }
  } else
    return unreadable('the message body is not an EventBridge event nor a failure record', body);

  const ref = queue.notRedriven ? undefined : eventRefOfEnvelope(event.detail);
  return {
    letter: {
      ...base,
      failed_at: failedAt,
      error,
      attempts,
      events: ref ? [ref] : [],
      ...(ref ? {} : { unknown: queue.notRedriven ?? 'the bus event names no stored event' }),
      event,
      body: { body, attributes, message_attributes: given },
    },
  };
}

/**
 * An object of the on-failure bucket as a letter: an invocation record of a stream consumer's
 * batch (`consumerOf` names the consumer from the function's ARN), or, when it is not one, a
 * letter that says so, its time from the key Lambda gave it.
 */
export function letterOfBucketObject(
  bucket: string,
  object: { readonly key: string; readonly body: string },
  consumerOf: (functionArn: string) => string,
): ReadLetter {
  const where = `s3://${bucket}/${object.key}`;
  const copy = { place: 'failure-bucket' as const, where, handle: object.key };
  let parsed: unknown;
  let why = 'not JSON';
  try {
    parsed = JSON.parse(object.body);
    why = 'not an invocation record';
  } catch {
    parsed = undefined;
  }
  if (isInvocationRecord(parsed))
    return {
      letter: letterOfInvocation(parsed, copy, consumerOf(parsed.requestContext.functionArn)),
    };
  const at = /(\d{4}-\d{2}-\d{2})T(\d{2})\.(\d{2})\.(\d{2})/.exec(object.key);
  return {
    letter: {
      id: letterId('object', bucket, object.key),
      consumer: '?',
      kind: 'kinesis-records',
      error: why,
      attempts: 0,
      failed_at: at ? `${at[1]}T${at[2]}:${at[3]}:${at[4]}.000Z` : new Date(0).toISOString(),
      events: [],
      unknown: why,
      copies: [{ ...copy, kept: object.body }],
      body: parsed ?? object.body,
    },
    unreadable: why,
  };
}

/** The deployed stack's places, as a redrive changes them. */
export interface AwsFailurePlaces {
  readonly table?: DynamoDeadLetterQueue;
  readonly bucket?: { readonly client: S3Client; readonly name: string };
  /** The queues read, held, by URL. */
  readonly queues?: ReadonlyMap<string, HeldQueue>;
}

/**
 * Removes and rewrites letters where the deployed stack keeps them (see `LetterPlaces`): a
 * table letter is deleted or rewritten with the new reason; an invocation record likewise,
 * with a note of the redrive; a queue's message is deleted, or let go of as it is (a message
 * cannot be rewritten), visible again at once.
 */
export class AwsLetterPlaces implements LetterPlaces {
  constructor(
    private readonly places: AwsFailurePlaces,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async remove(letter: Letter): Promise<void> {
    for (const copy of letter.copies) {
      switch (copy.place) {
        case 'dead-letter-table':
          await this.table(copy).remove(JSON.parse(copy.handle));
          break;
        case 'failure-bucket': {
          const bucket = this.bucket(copy);
          await removeInvocationRecord(bucket.client, bucket.name, copy.handle);
          break;
        }
        case 'dead-letter-queue': {
          const { queue, message } = this.queue(copy);
          await queue.delete({ MessageId: message });
          break;
        }
        case 'failure-folder':
          throw new Error(`a redrive on AWS cannot remove a letter kept in ${copy.where}`);
      }
    }
  }

  async failedAgain(letter: Letter, error: string): Promise<void> {
    const at = this.now().toISOString();
    const attempts = letter.attempts + 1;
    for (const copy of letter.copies) {
      switch (copy.place) {
        case 'dead-letter-table':
          await this.table(copy).replace(JSON.parse(copy.handle), {
            ...(copy.kept as DeadLetter),
            error,
            attempts,
            redriven_at: at,
          });
          break;
        case 'failure-bucket': {
          const bucket = this.bucket(copy);
          const note: RedriveNote = { error, attempts, redriven_at: at };
          await putInvocationRecord(bucket.client, bucket.name, copy.handle, {
            ...(copy.kept as InvocationRecord),
            redrive: note,
          });
          break;
        }
        case 'dead-letter-queue': {
          const { queue, message } = this.queue(copy);
          await queue.release({ MessageId: message });
          break;
        }
        case 'failure-folder':
          throw new Error(`a redrive on AWS cannot rewrite a letter kept in ${copy.where}`);
      }
    }
  }

  private table(copy: LetterCopy): DynamoDeadLetterQueue {
    if (!this.places.table) throw new Error(`no dead-letter table to change ${copy.where} in`);
    return this.places.table;
  }

  private bucket(copy: LetterCopy): NonNullable<AwsFailurePlaces['bucket']> {
    if (!this.places.bucket) throw new Error(`no on-failure bucket to change ${copy.where} in`);
    return this.places.bucket;
  }

  private queue(copy: LetterCopy): { queue: HeldQueue; message: string } {
    const { queue, message } = JSON.parse(copy.handle) as { queue: string; message: string };
    const held = this.places.queues?.get(queue);
    if (!held) throw new Error(`the queue of ${copy.where} is not held`);
    return { queue: held, message };
  }
}

/** A queue's name, the last part of its URL. */
export function queueName(url: string): string {
  return url.split('/').at(-1) || url;
}

/** A message's attributes as strings (the dead-letter attributes EventBridge sets are). */
function messageAttributes(message: Message): Record<string, string> {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).flatMap(([name, value]) =>
      value.StringValue !== undefined ? [[name, value.StringValue]] : [],
    ),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
