import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingsFromContext } from '../../../infra/settings.js';
import { EXPIRING_TABLES } from '../../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { SchemaRegistry } from '../../../schemas/SchemaRegistry.js';
import { defaultAssembly, defaultStack, synthesize } from '../../support/synth.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

/** Synthesizes the app (cdk-nag runs; a broken rule throws) and returns the stack's template. */
const synth = (context: Record<string, unknown>) => synthesize(context).template;

let template: Template;
beforeAll(() => {
  ({ template } = defaultStack());
}, 300_000);

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
  }, 300_000);

  it('runs each consumer on Node.js 22 ARM64 behind a mapping that bisects, reports item failures and keeps failures in a bucket', () => {
    // Three consumers, three bus handlers, the saga sweep, the breaker supervisor, the query
    // API, and the rebuild's control, data files and generation feeder.
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs22.x', Architectures: ['arm64'] },
      12,
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
    // The saga consumer takes smaller batches (it runs the saga steps) and has more time, and
    // Lambda hands it the change records of the sagas' own streams only; the others filter
    // nothing.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              data: { dynamodb: { Keys: { aggregate_id: { S: [{ prefix: 'saga:' }] } } } },
            }),
          },
        ],
      },
    });
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { FilterCriteria: Match.anyValue() },
      1,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          CONSUMER: 'sagas',
          SAGA_TABLES: Match.anyValue(),
          DEBOUNCE_MS: '1000',
          DEBOUNCE_MAX_MS: '60000',
        }),
      },
    });
    // Three handlers' queues and their dead-letter queues, the sweep's and the supervisor's
    // (the consumers' failures go to a bucket), all kept 14 days.
    template.resourcePropertiesCountIs(
      'AWS::SQS::Queue',
      { KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1209600 },
      8,
    );
  });

  it("takes the mapping settings and reserved concurrency of each consumer, and the bus handlers' concurrency, from context", () => {
    const tuned = synth({
      consumers: {
        'read-models': { batchSize: 1000, parallelizationFactor: 4, reservedConcurrency: 20 },
      },
      handlerConcurrency: 40,
    });
    tuned.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { ScalingConfig: { MaximumConcurrency: 40 } },
      3,
    );
    tuned.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000,
      ParallelizationFactor: 4,
    });
    tuned.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 20,
      Environment: { Variables: Match.objectLike({ CONSUMER: 'read-models' }) },
    });
  }, 300_000);

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

  it('keeps every read model, the positions, the dead letters, the saga work, team directory, rankings cache and notifications in encrypted tables', () => {
    // events + read models + positions, dead letters, registry, breakers + saga work,
    // directory, cache, notifications
    template.resourceCountIs('AWS::DynamoDB::Table', 1 + READ_MODELS.length + 4 + 4);
    // The breakers' shared state: one item per breaker, expiring.
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'breaker', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
    template.resourcePropertiesCountIs(
      'AWS::DynamoDB::Table',
      {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      },
      // the read models, the registry, the saga work, directory, cache and notifications
      READ_MODELS.length + 1 + 4,
    );
  });

  it('gives a TTL to as many tables, on the same attribute, as the embedded pipeline sweeps', () => {
    // dynalite has no TTL: the embedded pipeline deletes what expired in EXPIRING_TABLES itself.
    const ttl = Object.values(template.findResources('AWS::DynamoDB::Table')).flatMap((t) => {
      const spec = t.Properties.TimeToLiveSpecification as
        | { AttributeName: string; Enabled: boolean }
        | undefined;
      return spec?.Enabled ? [spec.AttributeName] : [];
    });
    expect(ttl.sort()).toEqual(EXPIRING_TABLES.map((t) => t.attribute).sort());
  });

  it('routes each bus handler its events by a rule onto its queue, read by a mapping that limits its concurrency; what fails ends in a dead-letter queue', () => {
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventBusName: Match.anyValue() },
    });
    // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's properties
    const byName: Record<string, any> = Object.fromEntries(
      Object.values(rules).map((r) => [r.Properties.Name, r.Properties]),
    );
    expect(Object.keys(byName).sort()).toEqual([
      'calculation-event-handler',
      'match-event-handler',
      'metadata-event-handler',
    ]);
    expect(byName['match-event-handler'].EventPattern).toEqual({
      source: ['matchstream.soccer'],
      'detail-type': ['MatchRecorded', 'MatchResultCorrected', 'MatchCancelled'],
    });
    expect(byName['metadata-event-handler'].EventPattern.source).toEqual(['matchstream.metadata']);
    // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's resources
    const resources: Record<string, any> = template.toJSON().Resources;
    const logicalId = (ref: unknown): string => {
      // biome-ignore lint/suspicious/noExplicitAny: an intrinsic function
      const r = ref as any;
      return r['Fn::GetAtt']?.[0] ?? r.Ref;
    };
    for (const [name, rule] of Object.entries(byName)) {
      const [target] = rule.Targets;
      expect(target.DeadLetterConfig.Arn).toBeDefined();
      expect(target.RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: 86400,
        MaximumRetryAttempts: 185,
      });
      // The target is the handler's queue, not its function: nothing is invoked asynchronously.
      const inbox = resources[logicalId(target.Arn)];
      expect(inbox.Type, name).toBe('AWS::SQS::Queue');
      const handler = Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Function' &&
          r.Properties.Environment?.Variables?.INBOX_URL?.Ref === logicalId(target.Arn),
      );
      expect(handler, name).toBeDefined();
      // Lambda's guidance: the queue's visibility timeout is at least 6 × the function's.
      expect(inbox.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        6 * handler.Properties.Timeout,
      );
      expect(inbox.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
      // A standard queue: it keeps no order (SQS Developer Guide, "Amazon SQS standard
      // queues": best-effort ordering), so the function may handle a batch's events at once.
      expect(inbox.Properties.FifoQueue).toBeUndefined();
      expect(inbox.Properties.KmsMasterKeyId).toBeDefined();
      // After 5 receives SQS moves an event to the same dead-letter queue as the rule's.
      expect(inbox.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
      expect(logicalId(inbox.Properties.RedrivePolicy.deadLetterTargetArn)).toBe(
        logicalId(target.DeadLetterConfig.Arn),
      );
      // Only this rule may send to it (and use the key, see the key policy test).
      const policy = Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::SQS::QueuePolicy' &&
          r.Properties.Queues.some((q: unknown) => logicalId(q) === logicalId(target.Arn)),
      );
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Condition: { ArnEquals: { 'aws:SourceArn': expect.anything() } },
        }),
      );
    }
    // The mappings: batches of 10, failures reported per event, at most 5 instances each
    // (MaximumConcurrency: 2–1000; it reserves none of the account's concurrency).
    const mappings = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        resources[logicalId(r.Properties.EventSourceArn)]?.Type === 'AWS::SQS::Queue',
    );
    expect(mappings).toHaveLength(3);
    for (const m of mappings) {
      expect(m.Properties).toMatchObject({
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 5 },
      });
      expect(
        resources[logicalId(m.Properties.FunctionName)].Properties.ReservedConcurrentExecutions,
      ).toBeUndefined();
    }
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventInvokeConfig',
      { FunctionName: Match.objectLike({ Ref: Match.stringLikeRegexp('EventHandler') }) },
      0,
    );
    for (const handler of ['match', 'metadata', 'calculation'])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ BUS_HANDLER: handler }) },
      });
  });

  it("lets EventBridge use the key only for the stack's own rules", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's resources
    const keys = Object.values(template.findResources('AWS::KMS::Key')) as any[];
    const statements = keys.flatMap((k) => k.Properties.KeyPolicy.Statement);
    const events = statements.filter(
      (st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }),
    );
    expect(events.length).toBeGreaterThanOrEqual(5);
    for (const st of events)
      expect(st.Condition?.ArnEquals?.['aws:SourceArn'], JSON.stringify(st)).toBeDefined();
  });

  it("pauses a bus handler whose breakers are open: the supervisor runs every minute and may toggle only the handlers' mappings", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'matchstream-dev-breaker-supervisor',
      ScheduleExpression: 'rate(1 minute)',
    });
    // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's resources
    const resources: Record<string, any> = template.toJSON().Resources;
    const supervisor = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties.Environment?.Variables?.HANDLER_MAPPINGS !== undefined,
    );
    expect(supervisor).toBeDefined();
    const [, fn] = supervisor as [string, { Properties: { Role: { 'Fn::GetAtt': string[] } } }];
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          r.Properties.Roles.some((x: { Ref: string }) => x.Ref === role),
      )
      .flatMap((r) => r.Properties.PolicyDocument.Statement);
    const lambda = statements.find((st) =>
      [st.Action].flat().includes('lambda:UpdateEventSourceMapping'),
    );
    expect(lambda.Action).toEqual([
      'lambda:GetEventSourceMapping',
      'lambda:UpdateEventSourceMapping',
    ]);
    expect(lambda.Resource).toHaveLength(3);
    for (const arn of lambda.Resource)
      expect(JSON.stringify(arn)).toMatch(/:event-source-mapping:/);
  });

  it('sweeps the sagas every minute (the saga timeouts), one at a time through its lease, not reserved concurrency', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'matchstream-dev-saga-sweep',
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: Match.absent(),
      Timeout: 300,
      Environment: { Variables: Match.objectLike({ SAGA_TABLES: Match.anyValue() }) },
    });
  });

  it('serves the query API through an HTTP API: reads open and throttled, POST /sagas signed with IAM, access logged', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /{proxy+}',
      AuthorizationType: 'NONE',
    });
    // The web console's page: a greedy path takes the root's children, not the root.
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /',
      AuthorizationType: 'NONE',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /sagas',
      AuthorizationType: 'AWS_IAM',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    template.hasOutput('ApiUrl', {});
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
      8,
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
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'PutRequests',
      Namespace: 'AWS/S3',
    });
    // Saga failures and compensations, from the saga functions' metrics.
    for (const metric of ['SagasCompensated', 'SagaCompensationsFailed'])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'matchstream',
        Dimensions: Match.arrayWith([{ Name: 'consumer', Value: 'sagas' }]),
        Threshold: 0,
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5xx',
      Namespace: 'AWS/ApiGateway',
    });
    // Per consumer (3): iterator age, errors, duration, throttles, failed deliveries to the
    // destination, work held by a breaker; batches written to the on-failure bucket; refused
    // events; per handler, the sweep and the breaker supervisor (5): errors, dead letters,
    // throttles, failed deliveries, dropped events (or events waiting in a handler's queue),
    // the rule's three; work held by a breaker (the 3 handlers);
    // sagas compensated,
    // compensations failed; API 5xx; capture (3); rebuilds failed, timed out, aborted and the
    // generation feeder's errors (4); throttling per table (events, 6 read models, 4 runtime,
    // 4 saga tables). monitoring.int.test.ts checks each one's metric.
    template.resourceCountIs(
      'AWS::CloudWatch::Alarm',
      3 * 6 + 1 + 1 + 5 * 8 + 3 + 2 + 1 + 3 + 4 + (1 + READ_MODELS.length + 4 + 4),
    );
    // A breaker open for 15 minutes, per consumer and handler.
    for (const name of ['read-models', 'bus-router', 'sagas', 'match-event-handler'])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'BatchesHeld',
        Namespace: 'matchstream',
        Dimensions: Match.arrayWith([{ Name: 'consumer', Value: name }]),
        Threshold: 0,
        EvaluationPeriods: 3,
      });
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

  it('bundles a query API function that loads and answers on its own (schemas beside it)', () => {
    // The API function's bundle, as Lambda would run it: imported by Node, handler invoked.
    // The bundled assembly is synthesized here (about 20 s), or waited for in another worker.
    const { template: bundled, outdir } = defaultAssembly();
    const [api] = Object.values(bundled.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Timeout === 29,
    );
    const asset = String(api?.Properties.Code.S3Key).replace(/\.zip$/, '');
    const bundle = join(outdir, `asset.${asset}`, 'index.mjs');
    const event = {
      version: '2.0',
      rawPath: '/openapi.json',
      rawQueryString: '',
      headers: { host: 'api.example.com' },
      requestContext: { http: { method: 'GET', path: '/openapi.json', sourceIp: '127.0.0.1' } },
      isBase64Encoded: false,
    };
    const tables = JSON.stringify(
      Object.fromEntries(
        [...READ_MODELS.map((p) => p.name), 'work', 'directory', 'cache', 'notifications'].map(
          (n) => [n, `t-${n}`],
        ),
      ),
    );
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { handler } = await import(${JSON.stringify(`file://${bundle}`)});
         const r = await handler(${JSON.stringify(event)});
         process.stdout.write(JSON.stringify({ status: r.statusCode, paths: Object.keys(JSON.parse(r.body).paths) }));`,
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          EVENTS_TABLE: 't-events',
          DEAD_LETTERS_TABLE: 't-dead-letters',
          BREAKERS_TABLE: 't-breakers',
          READ_MODEL_TABLES: tables,
          SAGA_TABLES: tables,
        },
      },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 200,
      paths: expect.arrayContaining(['/rankings', '/sagas']),
    });
  }, 300_000);

  it('passes cfn-lint without errors', (context) => {
    const file = join(tmp.dir, 'template.json');
    writeFileSync(file, JSON.stringify(template.toJSON()));
    // Run, not asked for its version first: each start of cfn-lint costs seconds of CPU.
    const run = spawnSync('cfn-lint', ['--format', 'parseable', file], { encoding: 'utf8' });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      if (process.env.CI === 'true') throw new Error('cfn-lint is required in CI and is absent');
      context.skip(
        'cfn-lint is not installed here (pip install cfn-lint); the template was not linted',
      );
      return;
    }
    expect(run.error).toBeUndefined();
    // Exit status bits: 2 errors, 4 warnings, 8 informational. Errors fail; warnings are shown.
    const errors = run.stdout.split('\n').filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect(run.status === null ? 1 : run.status & 2).toBe(0);
  }, 60_000);
});

describe('settings from context', () => {
  const settings = (context: Record<string, unknown>) => settingsFromContext((k) => context[k]);

  it('rebuilds with a logged state machine whose map applies every file or fails, its results kept, its failures alarmed', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'matchstream-dev-rebuild',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const body = JSON.stringify(machine?.Properties.DefinitionString);
    // The map: one file per iteration, no failure tolerated (no threshold: Step Functions'
    // default, zero), results written to the archive.
    expect(body).not.toContain('ToleratedFailure');
    expect(body).toContain('\\"Mode\\":\\"DISTRIBUTED\\"');
    expect(body).toContain('states:::s3:getObject');
    expect(body).toContain('\\"InputType\\":\\"JSON\\"');
    expect(body).toContain('states:::s3:putObject');
    expect(body).toContain('\\"Prefix\\":\\"rebuilds/results\\"');
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/States',
        Threshold: 0,
      });
    // Context sets the map's concurrency.
    const tuned = synth({ rebuildConcurrency: 64 });
    const [again] = Object.values(tuned.findResources('AWS::StepFunctions::StateMachine'));
    expect(JSON.stringify(again?.Properties.DefinitionString)).toContain('\\"MaxConcurrency\\":64');
  }, 300_000);

  it('has safe defaults', () => {
    expect(settings({})).toMatchObject({
      stage: 'dev',
      shards: 0,
      retentionHours: 24,
      retainEvents: true,
      node: 22,
      tracing: false,
      sourceMaps: false,
      warmThroughput: null,
      rpi: {
        profile: expect.any(String),
        division: null,
        debounceMs: 1000,
        debounceMaxMs: 60_000,
      },
      sagaSweepMinutes: 1,
      handlerConcurrency: 5,
      api: { rateLimit: 100, burstLimit: 200 },
    });
  });

  it.each([
    [{ stage: 'Prod!' }, 'context stage "Prod!"'],
    [{ shards: -1 }, 'context shards: a whole number from 0 to 500'],
    [{ retentionHours: 2 }, 'context retentionHours: a whole number from 24 to 8760'],
    [{ node: 18 }, 'context node'],
    [{ node: 20 }, 'context node: 22 or 24'],
    [{ tracing: 'yes' }, 'context tracing: true or false'],
    [{ sourceMaps: 1 }, 'context sourceMaps: true or false'],
    [{ consumers: { router: {} } }, 'context consumers.router: no such consumer'],
    [{ rpiProfile: 'chess' }, 'context rpiProfile: "chess" is not one of'],
    [{ debounceMs: -5 }, 'context debounceMs: a whole number from 0'],
    [{ debounceMaxMs: 3_600_001 }, 'context debounceMaxMs: a whole number from 0 to 3600000'],
    [{ handlerConcurrency: 1 }, 'context handlerConcurrency: a whole number from 2 to 1000'],
    [{ apiRateLimit: 0 }, 'context apiRateLimit'],
    [{ rpiDivision: 'D1<script>' }, 'context rpiDivision'],
    [{ consumers: '{"read-models": {"batchSize": 0}}' }, 'context consumers.read-models.batchSize'],
    [{ retainEvents: 'maybe' }, 'context retainEvents: true or false'],
  ])('refuses %o naming the setting', (context, message) => {
    expect(() => settings(context)).toThrow(message);
  });
});
