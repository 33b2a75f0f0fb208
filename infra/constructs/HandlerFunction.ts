import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The Node.js runtimes the functions may run on, each with the esbuild target of its bundle.
 * Node.js 20 is not among them: Lambda blocks creating Node.js 20 functions from 2026-08-31
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html; cfn-lint's calendar says
 * 2026-06-01), so a first deploy on it fails.
 */
export const NODE_RUNTIMES = {
  22: { runtime: lambda.Runtime.NODEJS_22_X, target: 'node22' },
  24: { runtime: lambda.Runtime.NODEJS_24_X, target: 'node24' },
} as const;
export type NodeVersion = keyof typeof NODE_RUNTIMES;
/** Node.js 22: supported until 2027-04-30 (deprecation), creation blocked from 2027-06-01. */
export const DEFAULT_NODE: NodeVersion = 22;

/**
 * Settings every function of a stack shares, set once on the stack (`FUNCTION_SETTINGS` in its
 * construct context, before any function is made) rather than passed through every construct.
 */
export interface FunctionSettings {
  /** X-Ray active tracing (and the role's permission to send traces). @default false */
  readonly tracing?: boolean;
  /** Ship source maps and run with `--enable-source-maps` (larger bundles, slower cold starts). @default false */
  readonly sourceMaps?: boolean;
}
export const FUNCTION_SETTINGS = 'matchstream:functions';

export interface HandlerFunctionProps {
  /** What the function is, for its role's description (e.g. `the read-models consumer`). */
  readonly description: string;
  /** The handler module under `infra/handlers/`, e.g. `readModelsFunction.ts`. */
  readonly entry: string;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 22 */
  readonly node?: NodeVersion;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default 2 minutes */
  readonly timeout?: Duration;
  /** Reserved concurrency; none when absent. */
  readonly reservedConcurrency?: number;
  /**
   * Built folders of the project shipped beside the bundle (`from` relative to the project,
   * `to` relative to the bundle); bundling fails, naming the folder, where one is not built.
   * @default none
   */
  readonly folders?: readonly { readonly from: string; readonly to: string }[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The sources, whether this runs from `infra/` (tsx) or from `dist/infra/`. */
const SOURCE_ROOT = ROOT.endsWith('/dist/')
  ? fileURLToPath(new URL('../', `file://${ROOT}`))
  : ROOT;

/**
 * A matchstream Lambda function: Node.js 22 by default, ARM64, bundled by the local esbuild as
 * ESM for its runtime with the Avro schemas beside the bundle, Powertools settings in its
 * environment, a role of its own that may write only to its own log group (grants add the rest).
 * Tracing and source maps follow the stack's `FUNCTION_SETTINGS`.
 */
export class HandlerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    // Deleted with the stack: a month of logs is not worth a bill after it is gone.
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    logGroup.grantWrite(this.role);
    for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*'])
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          'Written by the KMS key grant (grantEncryptDecrypt) that the table and queue grants add; scoped to the one key of the stack.',
      });
    const node = props.node ?? DEFAULT_NODE;
    const shared = (this.node.tryGetContext(FUNCTION_SETTINGS) ?? {}) as FunctionSettings;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: `${SOURCE_ROOT}infra/handlers/${props.entry}`,
      handler: 'handler',
      runtime: NODE_RUNTIMES[node].runtime,
      role: this.role,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(2),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      logGroup,
      // Active tracing also grants the role xray:PutTraceSegments and PutTelemetryRecords.
      ...(shared.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'matchstream',
        POWERTOOLS_METRICS_NAMESPACE: 'matchstream',
        ...(shared.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      projectRoot: SOURCE_ROOT,
      depsLockFilePath: `${SOURCE_ROOT}package-lock.json`,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: NODE_RUNTIMES[node].target,
        minify: true,
        sourceMap: shared.sourceMaps ?? false,
        // Some dependencies still call require(); ESM bundles get one.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        forceDockerBundling: false,
        // The functions run the SDK versions this project pins and tests, not the runtime's.
        bundleAwsSDK: true,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The registry reads the schemas beside the bundle (`./avro`).
          afterBundling: (inputDir, outputDir) => [
            `cp -R "${inputDir}/schemas/avro" "${outputDir}/avro"`,
            ...(props.folders ?? []).map(
              ({ from, to }) =>
                `if [ -d "${inputDir}/${from}" ]; then cp -R "${inputDir}/${from}" "${outputDir}/${to}"; else echo "${from} is not built: run npm run build first" >&2; exit 1; fi`,
            ),
          ],
        },
      },
    });
    const acknowledge = (id: string, reason: string) =>
      Validations.of(this.function).acknowledge({ id, reason });
    if (node !== 24) {
      const reason = `Node.js ${node} is the runtime this deployment was configured for (context "node"), supported by Lambda until its deprecation; "node": 24 moves the bundles to the latest runtime.`;
      acknowledge('AwsSolutions-L1', reason);
      acknowledge('Serverless::Serverless-LambdaLatestVersion', reason);
    }
    acknowledge(
      'Serverless::Serverless-LambdaDLQ',
      'Failures are kept by on-failure destinations instead of a function dead-letter queue (which serves only asynchronous invocations): the Kinesis mappings of the consumers, the asynchronous invocation of the bus handlers and the sweep; the query API is invoked synchronously.',
    );
    if (shared.tracing)
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords, which active tracing needs, apply to no resource: AWS grants them on "*" (the AWSXRayDaemonWriteAccess policy, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXRayDaemonWriteAccess.html).',
      });
    else
      acknowledge(
        'Serverless::Serverless-LambdaTracing',
        'X-Ray tracing is switched by context ("tracing": true) and off by default: traces are billed per segment, and the functions log and emit metrics without it.',
      );
  }
}
