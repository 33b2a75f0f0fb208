import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../infra/buildApp.js';
import { settingsFromContext } from '../../../infra/settings.js';
import { READ_MODELS } from '../../../projections/readModels/index.js';
import { SchemaRegistry } from '../../../schemas/SchemaRegistry.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

/** Synthesizes the app (cdk-nag runs; a broken rule throws) and returns the stack's template. */
function synth(context: Record<string, unknown> = {}) {
  const { app, stack } = buildApp(context, tmp.path(`cdk.out-${Math.random()}`));
  app.synth();
  return Template.fromStack(stack);
}

let template: Template;
beforeAll(() => {
  template = synth();
}, 120_000);

describe('the CDK app', () => {
  it('stores events in an on-demand table with PITR, a customer-managed key, deletion protection, streaming to Kinesis', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'aggregate_id', KeyType: 'HASH' },
        { AttributeName: 'sequence', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      DeletionProtectionEnabled: true,
      KinesisStreamSpecification: { StreamArn: Match.anyValue() },
    });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('streams changes through an encrypted Kinesis stream, on-demand unless shards are given', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: Match.anyValue() },
      RetentionPeriodHours: 24,
    });
    const provisioned = synth({ shards: 4, retentionHours: 168, stage: 'prod' });
    provisioned.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 4,
      RetentionPeriodHours: 168,
    });
  }, 120_000);

  it('runs each consumer on Node.js 20 ARM64 behind a mapping that bisects, reports item failures and keeps failures in an SQS queue', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs20.x', Architectures: ['arm64'] },
      2,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CONSUMER: 'read-models',
          EVENTS_TABLE: Match.anyValue(),
          POSITIONS_TABLE: Match.anyValue(),
          READ_MODEL_TABLES: Match.anyValue(),
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ CONSUMER: 'bus-router', BUS_NAMES: Match.anyValue() }),
      },
    });
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      {
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 500,
        MaximumBatchingWindowInSeconds: 1,
        ParallelizationFactor: 2,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 86400,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      },
      2,
    );
    template.resourcePropertiesCountIs(
      'AWS::SQS::Queue',
      { KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1209600 },
      2,
    );
  });

  it('takes the mapping settings and reserved concurrency of each consumer from context', () => {
    const tuned = synth({
      consumers: {
        'read-models': { batchSize: 1000, parallelizationFactor: 4, reservedConcurrency: 20 },
      },
    });
    tuned.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000,
      ParallelizationFactor: 4,
    });
    tuned.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 20,
      Environment: { Variables: Match.objectLike({ CONSUMER: 'read-models' }) },
    });
  }, 120_000);

  it('has the four domain buses, each with an archive', () => {
    for (const domain of ['main', 'soccer', 'calculation', 'metadata'])
      template.hasResourceProperties('AWS::Events::EventBus', {
        Name: `matchstream-dev-${domain}`,
      });
    template.resourceCountIs('AWS::Events::Archive', 4);
    template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['matchstream.soccer'] },
      RetentionDays: 90,
    });
  });

  it('keeps every read model, the positions and the dead letters in encrypted tables', () => {
    // events + read models + positions + dead letters
    template.resourceCountIs('AWS::DynamoDB::Table', 1 + READ_MODELS.length + 2);
    template.resourcePropertiesCountIs(
      'AWS::DynamoDB::Table',
      {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      },
      READ_MODELS.length,
    );
  });

  it('grants least privilege: no wildcard action, no managed policy, queues refuse plain HTTP', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const actions = Object.values(policies).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      ),
    );
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
    for (const role of Object.values(template.findResources('AWS::IAM::Role')))
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
      2,
    );
    // The bus router may put events on the buses, and nothing else may.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'events:PutEvents' })]),
      },
    });
  });

  it('publishes every version of every event schema to the Glue Schema Registry, in order', () => {
    const schemas = SchemaRegistry.fromDirectory();
    template.resourceCountIs('AWS::Glue::Registry', 1);
    template.resourceCountIs('AWS::Glue::Schema', schemas.eventTypes().length);
    const versions = schemas.eventTypes().flatMap((t) => schemas.versions(t));
    template.resourceCountIs(
      'AWS::Glue::SchemaVersion',
      versions.length - schemas.eventTypes().length,
    );
    template.hasResourceProperties('AWS::Glue::Schema', {
      Name: 'TeamRegistered',
      DataFormat: 'AVRO',
      Compatibility: 'BACKWARD_ALL',
      SchemaDefinition: JSON.stringify(schemas.get('TeamRegistered', 1).schema),
    });
    // An upcaster bridges MatchRecorded v1 → v2, which Glue cannot know.
    template.hasResourceProperties('AWS::Glue::Schema', {
      Name: 'MatchRecorded',
      Compatibility: 'NONE',
    });
    const latest = schemas.latest('MatchRecorded');
    const [id, version] = Object.entries(template.findResources('AWS::Glue::SchemaVersion')).find(
      ([, r]) => r.Properties.SchemaDefinition === JSON.stringify(latest.schema),
    ) ?? ['', undefined];
    expect(id).toMatch(/MatchRecordedV\d+/);
    expect(version?.DependsOn).toEqual([expect.stringMatching(/MatchRecordedV\d+/)]);
  });

  it('watches iterator age, errors, on-failure queues, refused events and duration, alarming an encrypted topic', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Namespace: 'AWS/Lambda',
      Statistic: 'Maximum',
      Threshold: 60000,
      AlarmActions: [Match.anyValue()],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'PutEventsFailed',
      Namespace: 'matchstream',
      Dimensions: Match.arrayWith([{ Name: 'consumer', Value: 'bus-router' }]),
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
    });
    // Per consumer: iterator age, errors, on-failure queue, duration; and refused events.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2 * 4 + 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'matchstream-dev',
    });
  });

  it('matches the snapshot of the synthesized template', () => {
    // The Glue schemas follow schemas/ (checked above), so adding a version leaves this alone.
    const whole = template.toJSON() as { Resources: Record<string, { Type: string }> };
    const resources = Object.fromEntries(
      Object.entries(whole.Resources).filter(([, r]) => !r.Type.startsWith('AWS::Glue::Schema')),
    );
    const json = JSON.stringify({ ...whole, Resources: resources }, null, 2).replace(
      /[0-9a-f]{64}/g,
      '<hash>',
    );
    expect(json).toMatchSnapshot();
  });

  it('passes cfn-lint without errors', (context) => {
    const found = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (found.error) {
      if (process.env.CI === 'true') throw new Error('cfn-lint is required in CI and is absent');
      context.skip(
        'cfn-lint is not installed here (pip install cfn-lint); the template was not linted',
      );
      return;
    }
    const file = join(tmp.dir, 'template.json');
    writeFileSync(file, JSON.stringify(template.toJSON()));
    const run = spawnSync('cfn-lint', ['--format', 'parseable', file], { encoding: 'utf8' });
    // Exit status bits: 2 errors, 4 warnings, 8 informational. Errors fail; warnings are shown.
    const errors = run.stdout.split('\n').filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect(run.status === null ? 1 : run.status & 2).toBe(0);
  }, 60_000);
});

describe('settings from context', () => {
  const settings = (context: Record<string, unknown>) => settingsFromContext((k) => context[k]);

  it('has safe defaults', () => {
    expect(settings({})).toMatchObject({
      stage: 'dev',
      shards: 0,
      retentionHours: 24,
      retainEvents: true,
      node: 20,
    });
  });

  it.each([
    [{ stage: 'Prod!' }, 'context stage "Prod!"'],
    [{ shards: -1 }, 'context shards: a whole number from 0 to 500'],
    [{ retentionHours: 2 }, 'context retentionHours: a whole number from 24 to 8760'],
    [{ node: 18 }, 'context node'],
    [{ consumers: { sagas: {} } }, 'context consumers.sagas: no such consumer'],
    [{ consumers: '{"read-models": {"batchSize": 0}}' }, 'context consumers.read-models.batchSize'],
    [{ retainEvents: 'maybe' }, 'context retainEvents: true or false'],
  ])('refuses %o naming the setting', (context, message) => {
    expect(() => settings(context)).toThrow(message);
  });
});
