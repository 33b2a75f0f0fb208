import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueCount } from '../../api/QueryService.js';
import { generationConsumer } from '../../projections/ReadModelRegistry.js';
import { type ClientOptions, clientConfig, REGION_SOURCES } from '../../stream/aws/clientConfig.js';
import { dynamoClient } from '../../stream/aws/dynamoClient.js';
import { eventBridgeClient } from '../../stream/aws/eventBridgeClient.js';
import { HeldQueue, type HeldQueueOptions, maxReceiveCountOf } from '../../stream/aws/HeldQueue.js';
import {
  listInvocationRecordKeys,
  readInvocationRecords,
  s3Client,
} from '../../stream/aws/s3InvocationRecords.js';
import { sqsClient } from '../../stream/aws/sqsClient.js';
import { DynamoDeadLetterQueue } from '../../stream/consumer/DeadLetterQueue.js';
import {
  AwsLetterPlaces,
  type LetterQueue,
  letterOfBucketObject,
  letterOfQueueMessage,
  queueName,
  type ReadLetter,
} from '../../stream/redrive/awsLetters.js';
import { functionName, joinLetters, type Letter } from '../../stream/redrive/Letter.js';
import { lettersOf } from '../../stream/redrive/localLetters.js';
import type { DeadLetterSources } from './deadLetterSources.js';
import { generationOfArn } from './generations.js';

/** The clients a look at the deployed letters uses. */
export interface DeployedClients {
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly eventBridge: EventBridgeClient;
}

/** The clients, against AWS or one endpoint (moto); `destroy` closes them. */
export function deployedClients(options: ClientOptions = {}): DeployedClients & {
  destroy(): void;
} {
  const clients = {
    dynamo: dynamoClient(options),
    s3: s3Client(options),
    sqs: sqsClient(options),
    lambda: new LambdaClient(clientConfig(options)),
    eventBridge: eventBridgeClient(options),
  };
  return {
    ...clients,
    destroy: () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

/** Something kept in a place that is not a letter: listed as one, with why. */
export interface UnreadableLetter {
  readonly id: string;
  /** The consumer of the place it was kept in; `?` where the place does not say. */
  readonly consumer: string;
  readonly where: string;
  readonly error: string;
}

/** The letters of the deployed stack, as one list, with the places held to change them. */
export interface DeployedLetters {
  /** Every letter, newest first; the unreadable ones included. */
  readonly letters: readonly Letter[];
  readonly unreadable: readonly UnreadableLetter[];
  /** What the read could not see: messages another reader held, a queue read to its limit. */
  readonly notes: readonly string[];
  readonly places: AwsLetterPlaces;
  /** Lets go of the queues' messages still held: visible again at once. */
  release(): Promise<void>;
}

/** Why a letter of `otherQueues` is not redriven. */
export function notRedrivenReason(name: string): string {
  return `a scheduled invocation of the ${name}: nothing to re-apply, its next scheduled run does the work`;
}

/**
 * Reads every place the stack keeps failures (its `DeadLetterSources`): the on-failure
 * bucket's invocation records (the consumer named through `consumers`), the dead-letter
 * table's letters, and each queue's messages, which stay held (hidden from other readers, for
 * `options.holdSeconds` renewed) until `release`: none is deleted, none lost. What cannot be
 * read is a letter that says so. Throws, naming the place, when a place cannot be read.
 */
export async function readDeployedLetters(
  sources: DeadLetterSources,
  clients: DeployedClients,
  options: HeldQueueOptions = {},
): Promise<DeployedLetters> {
  const table = new DynamoDeadLetterQueue(clients.dynamo, sources.deadLettersTable);
  const bucket = sources.failureBucket;
  const stored = await readStoredLetters(sources, clients);
  const read: ReadLetter[] = [...stored.read];
  const queues = letterQueues(sources);
  const held = await Promise.allSettled(
    queues.map((q) =>
      place(
        `the queue ${queueName(q.url)}`,
        () => HeldQueue.read(clients.sqs, q.url, options),
        clients.sqs,
      ),
    ),
  );
  const opened = held.flatMap((h) => (h.status === 'fulfilled' ? [h.value] : []));
  const failed = held.find((h) => h.status === 'rejected');
  if (failed) {
    await Promise.allSettled(opened.map((q) => q.close()));
    throw failed.reason;
  }
  const notes: string[] = [];
  try {
    // The inboxes whose redrive policies moved messages here: how many receives they allow.
    const inboxes = [
      ...new Set(
        opened.flatMap((q) =>
          q.messages.flatMap((m) => m.Attributes?.DeadLetterQueueSourceArn ?? []),
        ),
      ),
    ];
    const receives = new Map(
      await Promise.all(
        inboxes.map(async (arn) => [arn, await maxReceiveCountOf(clients.sqs, arn)] as const),
      ),
    );
    queues.forEach((queue, i) => {
      const h = opened[i];
      if (!h) return;
      for (const message of h.messages)
        read.push(letterOfQueueMessage(message, queue, (arn) => receives.get(arn)));
      const name = queueName(queue.url);
      if (h.inFlight > 0)
        notes.push(
          `${name}: about ${h.inFlight} message(s) held by another reader were not seen (they come back when its hold lapses)`,
        );
      if (h.truncated)
        notes.push(`${name}: read up to ${h.messages.length} messages, the rest left`);
    });
  } catch (error) {
    await Promise.allSettled(opened.map((q) => q.close()));
    throw error;
  }

  const letters = joinLetters(read.map((r) => r.letter));
  return {
    letters,
    unreadable: read.flatMap(({ letter, unreadable }) =>
      unreadable === undefined
        ? []
        : [
            {
              id: letter.id,
              consumer: letter.consumer,
              where: letter.copies[0]?.where ?? '?',
              error: unreadable,
            },
          ],
    ),
    notes,
    places: new AwsLetterPlaces({
      table,
      bucket: { client: clients.s3, name: bucket },
      queues: new Map(opened.map((q) => [q.url, q])),
    }),
    release: async () => {
      const closed = await Promise.allSettled(opened.map((q) => q.close()));
      const error = closed.find((c) => c.status === 'rejected');
      if (error) throw error.reason;
    },
  };
}

/** The queues the stack keeps failures in: each bus handler's, then the scheduled functions'. */
function letterQueues(sources: DeadLetterSources): LetterQueue[] {
  return [
    ...Object.entries(sources.handlers).map(([rule, h]) => ({
      url: h.deadLetters,
      consumer: `bus:${rule}`,
    })),
    ...Object.entries(sources.otherQueues).map(([name, url]) => ({
      url,
      consumer: name,
      notRedriven: notRedrivenReason(name),
    })),
  ];
}

/**
 * The letters of the places read without taking anything: the on-failure bucket's invocation
 * records (only the newest `maxRecords` of them when given, with a note of the rest) and the
 * dead-letter table's letters.
 */
async function readStoredLetters(
  sources: DeadLetterSources,
  clients: Pick<DeployedClients, 'dynamo' | 's3'>,
  maxRecords = Number.POSITIVE_INFINITY,
): Promise<{ read: ReadLetter[]; notes: string[] }> {
  const consumerOf = deployedConsumerOf(sources);
  const bucket = sources.failureBucket;
  const table = new DynamoDeadLetterQueue(clients.dynamo, sources.deadLettersTable);
  const [objects, stored] = await Promise.all([
    place(
      `s3://${bucket}`,
      async () => {
        const keys = await listInvocationRecordKeys(clients.s3, bucket);
        const newest = new Set(
          [...keys]
            .sort((a, b) => b.modified - a.modified)
            .slice(0, maxRecords)
            .map((k) => k.key),
        );
        const records = await readInvocationRecords(
          clients.s3,
          bucket,
          keys.filter((k) => newest.has(k.key)).map((k) => k.key),
        );
        return { records, total: keys.length };
      },
      clients.s3,
    ),
    place(`the table ${sources.deadLettersTable}`, () => table.entries(), clients.dynamo),
  ]);
  const read: ReadLetter[] = objects.records.map((object) =>
    letterOfBucketObject(bucket, object, consumerOf),
  );
  for (const letter of lettersOf(stored, [], '', sources.deadLettersTable).letters)
    read.push({ letter });
  const notes =
    objects.total > objects.records.length
      ? [
          `s3://${bucket}: the newest ${objects.records.length} of ${objects.total} failure records read (matchstream dead-letters list --aws reads them all)`,
        ]
      : [];
  return { read, notes };
}

/** What `listDeployedLetters` found: the letters, the queues counted, what it could not see. */
export interface DeployedListing {
  readonly letters: readonly Letter[];
  readonly queues: readonly QueueCount[];
  readonly notes: readonly string[];
}

/**
 * The deployed stack's failures as a reader that takes nothing sees them (`GET /dead-letters`
 * on AWS): the letters of the bucket and the table, and each queue's approximate number of
 * messages from its attributes; no message is received, so none is hidden from the CLI's
 * redrive or another reader. Throws, naming the place, when a place cannot be read.
 */
export async function listDeployedLetters(
  sources: DeadLetterSources,
  clients: Pick<DeployedClients, 'dynamo' | 's3' | 'sqs'>,
  options: { readonly maxRecords?: number } = {},
): Promise<DeployedListing> {
  const [stored, queues] = await Promise.all([
    readStoredLetters(sources, clients, options.maxRecords),
    Promise.all(
      letterQueues(sources).map((q) =>
        place(`the queue ${queueName(q.url)}`, () => countQueue(clients.sqs, q), clients.sqs),
      ),
    ),
  ]);
  return { letters: joinLetters(stored.read.map((r) => r.letter)), queues, notes: stored.notes };
}

/** A queue's approximate counts, from its attributes (no message received). */
async function countQueue(sqs: SQSClient, queue: LetterQueue): Promise<QueueCount> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    queue: queueName(queue.url),
    consumer: queue.consumer,
    messages: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    in_flight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    redriven: queue.notRedriven === undefined,
  };
}

/**
 * The consumer an invocation record's function ARN stands for: the stack's consumer of that
 * function, a rebuilt generation's (`read-model:<read model>:g<N>`, by the feeder's alias),
 * else the function's name.
 */
function deployedConsumerOf(sources: DeadLetterSources): (functionArn: string) => string {
  const byFunction = new Map(
    Object.entries(sources.consumers).map(([consumer, fn]) => [functionName(fn), consumer]),
  );
  return (arn) => {
    const fn = functionName(arn);
    const generation = generationOfArn(arn);
    return (
      byFunction.get(fn) ??
      (generation ? generationConsumer(generation.projection, generation.generation) : fn)
    );
  };
}

/**
 * What DynamoDB, S3 and SQS answer for a table, bucket or queue that is not there (in this
 * region): ResourceNotFoundException ("Requested resource not found"), NoSuchBucket,
 * QueueDoesNotExist (AWS.SimpleQueueService.NonExistentQueue in the query protocol).
 */
const NOT_THERE = new Set([
  'ResourceNotFoundException',
  'NoSuchBucket',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
]);

/**
 * A place's read, its failure naming the place; one that is not there is said so, with the
 * region it was looked for in and where its name came from.
 */
async function place<T>(
  where: string,
  read: () => Promise<T>,
  client?: { readonly config: { region: () => Promise<string> } },
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (client && error instanceof Error && NOT_THERE.has(error.name))
      throw new Error(
        `${where} is not there in ${await client.config.region()}: check the places DeadLetterSources names (--stack NAME, the deployed stack's output, or --sources FILE) and the stack's region (${REGION_SOURCES})`,
        { cause: error },
      );
    throw new Error(`${where} cannot be read: ${message(error)}`, { cause: error });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
