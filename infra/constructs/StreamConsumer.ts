import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

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

/** The Node.js runtimes the handlers run on (they are bundled for Node.js 20 and later). */
export const NODE_RUNTIMES = {
  20: lambda.Runtime.NODEJS_20_X,
  22: lambda.Runtime.NODEJS_22_X,
  24: lambda.Runtime.NODEJS_24_X,
} as const;
export type NodeVersion = keyof typeof NODE_RUNTIMES;

export interface StreamConsumerProps extends ConsumerSettings {
  /** The consumer's name, which also keys its positions (e.g. `read-models`). */
  readonly consumer: string;
  /** The handler module under `infra/handlers/`, e.g. `readModelsFunction.ts`. */
  readonly entry: string;
  readonly stream: kinesis.IStream;
  /** Encrypts the on-failure queue. */
  readonly key: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 20 */
  readonly node?: NodeVersion;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The sources, whether this runs from `infra/` (tsx) or from `dist/infra/`. */
const SOURCE_ROOT = ROOT.endsWith('/dist/')
  ? fileURLToPath(new URL('../', `file://${ROOT}`))
  : ROOT;

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
    this.onFailure = new sqs.Queue(this, 'OnFailure', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.onFailure).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the event source mapping: it keeps the records that failed every retry, for an operator to read and replay.',
    });
    // A role of its own, allowed to write only to its log group (not the managed basic role).
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `the ${props.consumer} consumer`,
    });
    logGroup.grantWrite(role);
    for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*'])
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          'Written by the KMS key grant (grantEncryptDecrypt) that the table and queue grants add; scoped to the one key of the stack.',
      });
    const node = props.node ?? 20;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: `${SOURCE_ROOT}infra/handlers/${props.entry}`,
      handler: 'handler',
      runtime: NODE_RUNTIMES[node],
      role,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: Duration.minutes(2),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      logGroup,
      environment: {
        ...props.environment,
        CONSUMER: props.consumer,
        POWERTOOLS_SERVICE_NAME: 'matchstream',
        POWERTOOLS_METRICS_NAMESPACE: 'matchstream',
        NODE_OPTIONS: '--enable-source-maps',
      },
      projectRoot: SOURCE_ROOT,
      depsLockFilePath: `${SOURCE_ROOT}package-lock.json`,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node20',
        minify: true,
        sourceMap: true,
        // Some dependencies still call require(); ESM bundles get one.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The registry reads the schemas beside the bundle (`./avro`).
          afterBundling: (inputDir, outputDir) => [
            `cp -R "${inputDir}/schemas/avro" "${outputDir}/avro"`,
          ],
        },
      },
    });
    if (node !== 24) {
      const reason = `Node.js ${node} is the runtime this deployment was configured for (context "node"); the bundle targets Node.js 20, so "node": 24 moves it to the latest runtime unchanged. Lambda stops creating Node.js 20 functions on 2027-02-01.`;
      Validations.of(this.function).acknowledge({ id: 'AwsSolutions-L1', reason });
      Validations.of(this.function).acknowledge({ id: 'CloudFormation-Validate::W2531', reason });
      // cfn-lint's runtime calendar dates the end of Node.js 20 function creation earlier
      // (2026-06-01) than the CDK's (2027-02-01); the choice of runtime is the deployer's.
      (this.function.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', {
        config: { ignore_checks: ['E2533', 'W2531'] },
      });
    }
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
