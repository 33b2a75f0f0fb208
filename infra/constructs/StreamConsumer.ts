import { Duration } from 'aws-cdk-lib';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './deadLetterQueue.js';
import { HandlerFunction, type NodeVersion } from './HandlerFunction.js';

export type { NodeVersion } from './HandlerFunction.js';

/** Settings of a consumer's Kinesis event source mapping. */
export interface ConsumerSettings {
  /** Records per invocation. @default 500 */
  readonly batchSize?: number;
  /** How long the mapping gathers records before invoking. @default 1 second */
  readonly batchingWindow?: Duration;
  /** Concurrent batches per shard (1–10); order per aggregate holds at any value. @default 2 */
  readonly parallelizationFactor?: number;
  /** Retries of a failing batch (bisected each time) before it goes to the on-failure queue. @default 5 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure queue unprocessed. @default 1 day */
  readonly maxRecordAge?: Duration;
  /** Reserved concurrency of the function; none when absent. */
  readonly reservedConcurrency?: number;
  /** @default 1024 */
  readonly memorySize?: number;
}

export interface StreamConsumerProps extends ConsumerSettings {
  /** The consumer's name, which also keys its positions (e.g. `read-models`). */
  readonly consumer: string;
  /** The handler module under `infra/handlers/`, e.g. `readModelsFunction.ts`. */
  readonly entry: string;
  readonly stream: kinesis.IStream;
  /** Encrypts the on-failure queue. */
  readonly key: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 22 */
  readonly node?: NodeVersion;
  /** How long an invocation may run. @default 2 minutes */
  readonly timeout?: Duration;
}

/**
 * One consumer of the change stream as a Lambda function (Node.js 20, ARM64, bundled with the
 * local esbuild, the Avro schemas beside the bundle) behind a Kinesis event source mapping that
 * reports batch item failures and bisects a failing batch, with an encrypted SQS queue (TLS
 * only) as its on-failure destination: a record that keeps failing is kept there, never
 * dropped, and `matchstream inspect` reads it.
 */
export class StreamConsumer extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly onFailure: sqs.Queue;

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    this.onFailure = deadLetterQueue(
      this,
      'OnFailure',
      props.key,
      'the records of the change stream',
    );
    this.function = new HandlerFunction(this, 'Handler', {
      description: `the ${props.consumer} consumer`,
      entry: props.entry,
      node: props.node ?? 22,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(2),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrency: props.reservedConcurrency }
        : {}),
      environment: { ...props.environment, CONSUMER: props.consumer },
    }).function;
    this.function.addEventSource(
      new KinesisEventSource(props.stream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 500,
        maxBatchingWindow: props.batchingWindow ?? Duration.seconds(1),
        parallelizationFactor: props.parallelizationFactor ?? 2,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: props.retryAttempts ?? 5,
        maxRecordAge: props.maxRecordAge ?? Duration.days(1),
        onFailure: new SqsDlq(this.onFailure),
      }),
    );
  }
}
