import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
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
  /** Retries of a failing batch (bisected each time) before it goes to the on-failure bucket. @default 5 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure bucket unprocessed. @default 1 day */
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
  /** Where Lambda writes the batches it gives up on (shared by the consumers). */
  readonly onFailure: s3.Bucket;
  /** The key the bucket's objects are encrypted with. */
  readonly key: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Filter patterns on the records' `data` (the mapping's FilterCriteria, at most 5 without a
   * quota increase): a record none matches never reaches the function, and the mapping moves
   * past it. @default every record
   */
  readonly filters?: readonly Record<string, unknown>[];
  /** @default 22 */
  readonly node?: NodeVersion;
  /** How long an invocation may run. @default 2 minutes */
  readonly timeout?: Duration;
}

/**
 * A Kinesis mapping's on-failure destination in a bucket, granting the function exactly what
 * the Lambda documentation asks of the execution role for it: s3:PutObject and s3:ListBucket,
 * and kms:GenerateDataKey for a bucket encrypted with a customer-managed key
 * (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
 * The CDK's S3OnFailureDestination grants read, write and delete instead.
 */
class BucketOnFailure implements lambda.IEventSourceDlq {
  constructor(
    private readonly bucket: s3.Bucket,
    private readonly key: kms.IKey,
  ) {}

  bind(
    _target: lambda.IEventSourceMapping,
    handler: lambda.IFunction,
  ): lambda.DlqDestinationConfig {
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('aws/lambda/*')],
      }),
    );
    handler.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    this.key.grant(handler, 'kms:GenerateDataKey');
    if (handler.role) {
      const bucketId = Stack.of(this.bucket).getLogicalId(
        this.bucket.node.defaultChild as CfnElement,
      );
      Validations.of(handler.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/aws/lambda/*]`,
        reason:
          'Lambda names each on-failure object itself (aws/lambda/<mapping>/<shard>/<date>/...): the role may put objects under that prefix of the one bucket, and nothing else there.',
      });
    }
    return { destination: this.bucket.bucketArn };
  }
}

/**
 * One consumer of the change stream as a Lambda function (ARM64, bundled with the local
 * esbuild, the Avro schemas beside the bundle) behind a Kinesis event source mapping that
 * reports batch item failures and bisects a failing batch, with a bucket as its on-failure
 * destination: a batch that keeps failing is kept there whole (the invocation record with the
 * event), never dropped, and `matchstream inspect --failures` reads it.
 */
export class StreamConsumer extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly onFailure: s3.Bucket;
  /** The mapping's UUID: Lambda keys its objects `aws/lambda/<this>/...` in the bucket. */
  readonly mappingId: string;

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    this.onFailure = props.onFailure;
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
    const source = new KinesisEventSource(props.stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 500,
      maxBatchingWindow: props.batchingWindow ?? Duration.seconds(1),
      parallelizationFactor: props.parallelizationFactor ?? 2,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: props.retryAttempts ?? 5,
      maxRecordAge: props.maxRecordAge ?? Duration.days(1),
      onFailure: new BucketOnFailure(props.onFailure, props.key),
      ...(props.filters
        ? { filters: props.filters.map((f) => lambda.FilterCriteria.filter(f)) }
        : {}),
    });
    this.function.addEventSource(source);
    this.mappingId = source.eventSourceMappingId;
  }
}
