import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The Node.js runtimes the handlers run on (they are bundled for Node.js 20 and later). */
export const NODE_RUNTIMES = {
  20: lambda.Runtime.NODEJS_20_X,
  22: lambda.Runtime.NODEJS_22_X,
  24: lambda.Runtime.NODEJS_24_X,
} as const;
export type NodeVersion = keyof typeof NODE_RUNTIMES;

export interface HandlerFunctionProps {
  /** What the function is, for its role's description (e.g. `the read-models consumer`). */
  readonly description: string;
  /** The handler module under `infra/handlers/`, e.g. `readModelsFunction.ts`. */
  readonly entry: string;
  readonly environment: Readonly<Record<string, string>>;
  /** @default 20 */
  readonly node?: NodeVersion;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default 2 minutes */
  readonly timeout?: Duration;
  /** Reserved concurrency; none when absent. */
  readonly reservedConcurrency?: number;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The sources, whether this runs from `infra/` (tsx) or from `dist/infra/`. */
const SOURCE_ROOT = ROOT.endsWith('/dist/')
  ? fileURLToPath(new URL('../', `file://${ROOT}`))
  : ROOT;

/**
 * A matchstream Lambda function: Node.js 20 by default, ARM64, bundled by the local esbuild as
 * ESM with the Avro schemas beside the bundle, Powertools settings in its environment, a role of
 * its own that may write only to its own log group (grants add the rest).
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
    const node = props.node ?? 20;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: `${SOURCE_ROOT}infra/handlers/${props.entry}`,
      handler: 'handler',
      runtime: NODE_RUNTIMES[node],
      role: this.role,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(2),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      logGroup,
      environment: {
        ...props.environment,
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
        // The functions run the SDK versions this project pins and tests, not the runtime's.
        bundleAwsSDK: true,
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
  }
}
