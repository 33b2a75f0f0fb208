import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  type CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { zipSync } from 'fflate';

/** The account moto_server answers as (its default). */
export const MOTO_ACCOUNT = '123456789012';

/** A CloudFormation template, as the CDK writes it. */
export interface Template {
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
  [section: string]: unknown;
}

/** One file asset of the CDK's asset manifest (`<stack>.assets.json`). */
interface FileAsset {
  readonly source: { readonly path: string; readonly packaging?: 'zip' | 'file' };
  readonly destinations: Readonly<
    Record<string, { readonly bucketName: string; readonly objectKey: string }>
  >;
}

/** What a deployment made: the stack's outputs, its resources, and what moto left out. */
export interface Deployment {
  readonly stackName: string;
  readonly region: string;
  /** The bucket `cdk bootstrap` would have made, holding the assets. */
  readonly assetBucket: string;
  readonly outputs: Readonly<Record<string, string>>;
  /** Every resource of the stack with its physical id (ListStackResources). */
  readonly resources: readonly StackResourceSummary[];
  /** Resources whose type moto's CloudFormation does not implement: listed, not created. */
  readonly notCreated: readonly { readonly logicalId: string; readonly type: string }[];
  /** The template as synthesized, before `motoTemplate`. */
  readonly template: Template;
}

export interface DeployOptions {
  readonly cloudFormation: CloudFormationClient;
  readonly s3: S3Client;
  readonly ssm: SSMClient;
  /** The cloud assembly (`cdk.out`) the stack was synthesized into. */
  readonly assemblyDir: string;
  readonly stackName: string;
  readonly region: string;
}

/**
 * Deploys a synthesized stack as `cdk deploy` does after `cdk bootstrap`, on moto: the
 * bootstrap bucket and version parameter, every file asset of the asset manifest uploaded
 * (directories zipped), the template from the bucket (it is over CloudFormation's 51,200-byte
 * limit for a template body) with the capabilities the CDK passes; then waits for the stack.
 * The template goes through `motoTemplate` first. Throws, naming the failed resources, unless
 * the stack reaches CREATE_COMPLETE. Give it a client that does not retry: moto creates the
 * stack within CreateStack, and a retry after its server error finds a stack half made.
 */
export async function deployToMoto(options: DeployOptions): Promise<Deployment> {
  const { cloudFormation, s3, ssm, assemblyDir, stackName, region } = options;
  // The manifest's placeholders, as the CDK CLI fills them in for the target environment.
  const pseudo: Record<string, string> = {
    AccountId: MOTO_ACCOUNT,
    Region: region,
    Partition: 'aws',
  };
  const resolve = (text: string) =>
    text.replace(/\$\{AWS::(\w+)\}/g, (whole, name: string) => pseudo[name] ?? whole);
  const template = JSON.parse(
    readFileSync(join(assemblyDir, `${stackName}.template.json`), 'utf8'),
  ) as Template;
  const manifest = JSON.parse(
    readFileSync(join(assemblyDir, `${stackName}.assets.json`), 'utf8'),
  ) as { files?: Record<string, FileAsset> };

  // What `cdk bootstrap` leaves: the asset bucket and the version parameter the template reads.
  const versionParameter = template.Parameters?.BootstrapVersion?.Default;
  if (versionParameter)
    await ssm.send(
      new PutParameterCommand({
        Name: versionParameter,
        Value: BOOTSTRAP_VERSION,
        Type: 'String',
        Overwrite: true,
      }),
    );
  const buckets = new Set<string>();
  let templateUrl = '';
  for (const asset of Object.values(manifest.files ?? {})) {
    for (const destination of Object.values(asset.destinations)) {
      const bucket = resolve(destination.bucketName);
      if (!buckets.has(bucket)) {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        buckets.add(bucket);
      }
      const path = join(assemblyDir, asset.source.path);
      let body: Uint8Array;
      if (asset.source.path === `${stackName}.template.json`) {
        body = Buffer.from(JSON.stringify(motoTemplate(template).template));
        templateUrl = `https://s3.${region}.amazonaws.com/${bucket}/${destination.objectKey}`;
      } else if (asset.source.packaging === 'zip' || statSync(path).isDirectory()) {
        body = zipDirectory(path);
      } else {
        body = readFileSync(path);
      }
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: resolve(destination.objectKey), Body: body }),
      );
    }
  }
  if (!templateUrl) throw new Error(`the asset manifest of ${stackName} has no template`);
  const [assetBucket = ''] = buckets;

  try {
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateURL: templateUrl,
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
      }),
    );
  } catch (error) {
    throw new Error(
      `moto_server could not create ${stackName} (a resource it cannot create; its standard error says which): ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`,
    );
  }
  const stack = await settledStack(cloudFormation, stackName);
  if (stack.StackStatus !== 'CREATE_COMPLETE') {
    const { StackEvents = [] } = await cloudFormation.send(
      new DescribeStackEventsCommand({ StackName: stackName }),
    );
    const failed = StackEvents.filter((e) => e.ResourceStatus?.endsWith('FAILED')).map(
      (e) => `${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason}`,
    );
    throw new Error(`stack ${stackName} is ${stack.StackStatus}: ${failed.join('; ')}`);
  }
  const resources: StackResourceSummary[] = [];
  let token: string | undefined;
  do {
    const page = await cloudFormation.send(
      new ListStackResourcesCommand({ StackName: stackName, NextToken: token }),
    );
    resources.push(...(page.StackResourceSummaries ?? []));
    token = page.NextToken;
  } while (token);
  // moto lists a resource whose type it does not implement without id or type (and creates
  // nothing for it): what the template has and the stack does not name.
  const named = new Set(resources.map((r) => r.LogicalResourceId).filter(Boolean));
  const notCreated = Object.entries(template.Resources)
    .filter(([id]) => !named.has(id))
    .map(([logicalId, r]) => ({ logicalId, type: r.Type }));
  return {
    stackName,
    region,
    assetBucket,
    outputs: Object.fromEntries(
      (stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    ),
    resources: resources.filter((r) => r.LogicalResourceId),
    notCreated,
    template,
  };
}

/** The bootstrap stack version `cdk bootstrap` writes today (the template asks for 6 or later). */
const BOOTSTRAP_VERSION = '30';

async function settledStack(cloudFormation: CloudFormationClient, stackName: string) {
  // moto creates a stack within the CreateStack call; AWS would take minutes.
  for (let attempt = 0; ; attempt++) {
    const { Stacks = [] } = await cloudFormation.send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    const stack = Stacks[0];
    if (!stack) throw new Error(`no stack ${stackName}`);
    if (!stack.StackStatus?.endsWith('_IN_PROGRESS') || attempt >= 120) return stack;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A directory as the zip `cdk deploy` uploads for it (paths relative to the directory). */
export function zipDirectory(dir: string): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path);
    }
  };
  walk(dir);
  // A fixed date: the same directory always gives the same bytes.
  return zipSync(files, { level: 6, mtime: new Date('2020-01-01T00:00:00Z') });
}

/**
 * The template as moto's CloudFormation can create it, changed only where moto departs from
 * CloudFormation (each change is listed in the README's deploy section):
 * - `AWS::Events::Archive`: moto names an unnamed archive `<stack>-<logical id>-<suffix>`,
 *   past the 48 characters the archive API allows, and reads `EventPattern` only as a string
 *   where CloudFormation takes JSON: the archive gets a name of at most 48 characters and its
 *   pattern as a string.
 * - `Ref` of an `AWS::Events::EventBus`: CloudFormation gives the bus's name; moto hands the
 *   bus object itself on, which breaks the rules on it: the name is taken as `Fn::GetAtt Name`.
 * - `Tags` of an `AWS::KMS::Key`: CloudFormation takes `Key` and `Value`; moto reads the KMS
 *   API's `TagKey` and `TagValue` and fails the stack otherwise: the same tags are renamed so.
 */
export function motoTemplate(template: Template): { template: Template; changes: string[] } {
  const changes: string[] = [];
  const buses = new Set(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Events::EventBus')
      .map(([id]) => id),
  );
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const [only] = entries;
    if (entries.length === 1 && only?.[0] === 'Ref' && buses.has(String(only[1]))) {
      changes.push(`Ref ${only[1]} -> Fn::GetAtt ${only[1]}.Name`);
      return { 'Fn::GetAtt': [only[1], 'Name'] };
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, rewrite(v)]));
  };
  const resources: Template['Resources'] = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const rewritten = rewrite(resource) as Template['Resources'][string];
    if (rewritten.Type === 'AWS::Events::Archive') {
      const properties = { ...rewritten.Properties };
      if (properties.ArchiveName === undefined) {
        properties.ArchiveName = id.slice(0, 48);
        changes.push(`${id}: ArchiveName ${properties.ArchiveName}`);
      }
      if (typeof properties.EventPattern === 'object') {
        properties.EventPattern = JSON.stringify(properties.EventPattern);
        changes.push(`${id}: EventPattern as a string`);
      }
      rewritten.Properties = properties;
    }
    const tags = rewritten.Properties?.Tags;
    if (rewritten.Type === 'AWS::KMS::Key' && Array.isArray(tags)) {
      rewritten.Properties = {
        ...rewritten.Properties,
        Tags: (tags as { Key: unknown; Value: unknown }[]).map((t) => ({
          TagKey: t.Key,
          TagValue: t.Value,
        })),
      };
      changes.push(`${id}: Tags as TagKey and TagValue`);
    }
    resources[id] = rewritten;
  }
  const outputs = rewrite(template.Outputs) as Template['Outputs'];
  return {
    template: { ...template, Resources: resources, ...(outputs ? { Outputs: outputs } : {}) },
    changes,
  };
}
