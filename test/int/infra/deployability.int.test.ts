import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NODE_RUNTIMES } from '../../../infra/constructs/HandlerFunction.js';
import { settingsFromContext } from '../../../infra/settings.js';
import { defaultAssembly, defaultStack, synthesize } from '../../support/synth.js';

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's resources
type Resources = Record<string, any>;
const functions = (t: Template): Resources => t.findResources('AWS::Lambda::Function');

let template: Template;
beforeAll(() => {
  ({ template } = defaultStack());
}, 120_000);

describe('a first deploy that succeeds', () => {
  // https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html: Node.js 20 deprecated
  // 2026-04-30, function creation blocked from 2026-08-31; Node.js 22 until 2027-04-30
  // (creation blocked from 2027-06-01); Node.js 24 until 2028-04-30.
  it('runs every function on Node.js 22 ARM64 by default, with no cfn-lint check ignored', () => {
    const all = Object.values(functions(template));
    expect(all).toHaveLength(12);
    for (const fn of all) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
    const ignoring = Object.entries(template.toJSON().Resources as Resources)
      .filter(([, r]) => r.Metadata?.['cfn-lint'] !== undefined)
      .map(([id]) => id);
    expect(ignoring).toEqual([]);
  });

  it('takes Node.js 24 from context, and refuses Node.js 20, which Lambda no longer creates', () => {
    const { template: on24 } = synthesize({ node: 24 });
    for (const fn of Object.values(functions(on24)))
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
    // The bundles target the runtime they run on.
    for (const [version, { runtime, target }] of Object.entries(NODE_RUNTIMES)) {
      expect(runtime.name).toBe(`nodejs${version}.x`);
      expect(target).toBe(`node${version}`);
    }
    const settings = (node: unknown) =>
      settingsFromContext((k) => (k === 'node' ? node : undefined));
    expect(settings(undefined).node).toBe(22);
    expect(settings('24').node).toBe(24);
    expect(() => settings(20)).toThrow(
      'context node: 22 or 24 is expected (Lambda no longer creates Node.js 20 functions)',
    );
    expect(() => settings('22.5')).toThrow('context node: 22 or 24 is expected');
  }, 120_000);

  // Lambda keeps 100 unreserved concurrent executions per account: any reservation needs an
  // account quota of at least 100 + the reservations, and new accounts may have 10
  // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
  it('reserves no concurrency anywhere by default; a reservation comes only from context', () => {
    for (const fn of Object.values(functions(template)))
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('keeps a failed sweep, as an undelivered one, in the sweep dead-letter queue', () => {
    const [sweep] = Object.entries(functions(template)).filter(([id]) =>
      id.startsWith('SagaSweep'),
    );
    expect(sweep).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: sweep?.[0] },
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });
});

describe('tags, tracing, warm throughput and source maps', () => {
  it('tags every resource that takes tags with the application and the stage', () => {
    const { template: prod } = synthesize({ stage: 'prod' });
    const untagged: string[] = [];
    let tagged = 0;
    for (const [id, r] of Object.entries(prod.toJSON().Resources as Resources)) {
      const tags = r.Properties?.Tags;
      if (tags === undefined) {
        untagged.push(`${r.Type} ${id}`);
        continue;
      }
      tagged++;
      const pairs = Array.isArray(tags)
        ? Object.fromEntries(tags.map((t: { Key: string; Value: string }) => [t.Key, t.Value]))
        : tags;
      expect(pairs, id).toMatchObject({ application: 'matchstream', stage: 'prod' });
    }
    expect(tagged).toBeGreaterThan(40);
    // Only types CloudFormation cannot tag are left.
    const types = new Set(untagged.map((u) => u.split(' ')[0]));
    for (const type of types) expect(TYPES_WITHOUT_TAGS, `${type} has no tags`).toContain(type);
  }, 120_000);

  it('traces nothing by default; "tracing": true traces every function with X-Ray and lets its role send traces', () => {
    for (const fn of Object.values(functions(template)))
      expect(fn.Properties.TracingConfig).toBeUndefined();
    const { template: traced } = synthesize({ tracing: true });
    const all = functions(traced);
    for (const fn of Object.values(all))
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    const roles = new Set(Object.values(all).map((fn) => fn.Properties.Role['Fn::GetAtt'][0]));
    for (const role of roles)
      traced.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: role }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
              Resource: '*',
            }),
          ]),
        },
      });
  }, 120_000);

  // AWS::DynamoDB::Table WarmThroughput (ReadUnitsPerSecond, WriteUnitsPerSecond, each ≥ 1):
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-warmthroughput.html
  it('warms no table by default; "warmThroughput" warms the events and read-model tables', () => {
    for (const t of Object.values(template.findResources('AWS::DynamoDB::Table')))
      expect(t.Properties.WarmThroughput).toBeUndefined();
    const { template: warm } = synthesize({
      warmThroughput: { readUnitsPerSecond: 20000, writeUnitsPerSecond: 40000 },
    });
    const tables = Object.entries(warm.findResources('AWS::DynamoDB::Table'));
    const warmed = tables.filter(([, t]) => t.Properties.WarmThroughput).map(([id]) => id);
    expect(warmed.some((id) => id.startsWith('EventStoreEvents'))).toBe(true);
    expect(warmed.filter((id) => id.startsWith('ReadModels')).length).toBe(
      tables.filter(([id]) => id.startsWith('ReadModels')).length,
    );
    expect(warmed.filter((id) => id.startsWith('SagaTables') || id.startsWith('Runtime'))).toEqual(
      [],
    );
    for (const id of warmed)
      expect(tables.find(([i]) => i === id)?.[1].Properties.WarmThroughput).toEqual({
        ReadUnitsPerSecond: 20000,
        WriteUnitsPerSecond: 40000,
      });
    const settings = (w: unknown) =>
      settingsFromContext((k) => (k === 'warmThroughput' ? w : undefined));
    expect(settings(undefined).warmThroughput).toBeNull();
    expect(settings('{"writeUnitsPerSecond": 5000}').warmThroughput).toEqual({
      writeUnitsPerSecond: 5000,
    });
    expect(() => settings({ writeUnitsPerSecond: 0 })).toThrow(
      'context warmThroughput.writeUnitsPerSecond: a whole number from 1',
    );
    expect(() => settings({ wcu: 5 })).toThrow('context warmThroughput.wcu');
    expect(() => settings({})).toThrow('context warmThroughput: readUnitsPerSecond or');
  }, 120_000);

  it('ships no source maps by default; "sourceMaps": true ships them and enables them', () => {
    const assetOf = (t: Template, dir: string) =>
      Object.values(functions(t)).map((fn) =>
        join(dir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`),
      );
    const bundled = defaultAssembly();
    for (const fn of Object.values(functions(bundled.template)))
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
    for (const asset of assetOf(bundled.template, bundled.outdir)) {
      expect(existsSync(join(asset, 'index.mjs'))).toBe(true);
      expect(existsSync(join(asset, 'index.mjs.map'))).toBe(false);
    }
    const mapped = synthesize({ sourceMaps: true }, { bundle: true });
    for (const fn of Object.values(functions(mapped.template)))
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    for (const asset of assetOf(mapped.template, mapped.outdir))
      expect(existsSync(join(asset, 'index.mjs.map'))).toBe(true);
  }, 300_000);
});

/** Resource types whose CloudFormation schema has no Tags property (per cfn-lint's schemas). */
const TYPES_WITHOUT_TAGS = [
  'AWS::IAM::Policy',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::S3::BucketPolicy',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::Permission',
  'AWS::Events::Archive',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Integration',
  'AWS::Glue::SchemaVersion',
  // Tags only in CloudFormation's newest reference, not in cfn-lint's schema: named per stage.
  'AWS::CloudWatch::Dashboard',
];
