import { beforeAll, describe, expect, it } from 'vitest';
import { defaultStack } from '../../support/synth.js';

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's parts
type Json = any;
interface Statement {
  Effect: 'Allow' | 'Deny';
  Principal?: Json;
  Action: string | string[];
  Resource?: Json;
  Condition?: Record<string, Record<string, Json>>;
}

let resources: Record<string, Json>;
beforeAll(() => {
  resources = defaultStack().template.toJSON().Resources;
}, 300_000);

/** A logical ID without the hash the CDK appends (`MatchEventHandlerDeadLetters1A2B3C4D`). */
const named = (id: string) => id.replace(/[0-9A-F]{8}$/, '');
const list = <T>(x: T | T[] | undefined): T[] =>
  x === undefined ? [] : Array.isArray(x) ? x : [x];

/**
 * A template value as text: pseudo parameters as `<AWS::Region>`, a bus by its name, a rule's
 * ARN spelled out from its bus and name, anything else as `<name>` or `<name.attr>`.
 */
function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (value.Ref !== undefined) {
    if (String(value.Ref).startsWith('AWS::')) return `<${value.Ref}>`;
    const r = resources[value.Ref];
    if (r?.Type === 'AWS::Events::EventBus') return r.Properties.Name;
    return `<${named(value.Ref)}>`;
  }
  if (value['Fn::GetAtt'] !== undefined) {
    const [id, attr] = value['Fn::GetAtt'];
    const r = resources[id];
    if (r?.Type === 'AWS::Events::Rule' && attr === 'Arn') {
      const bus = r.Properties.EventBusName ? `${text(r.Properties.EventBusName)}/` : '';
      return `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/${bus}${r.Properties.Name}`;
    }
    return `<${named(id)}.${attr}>`;
  }
  if (value['Fn::Join'] !== undefined) {
    const [sep, parts] = value['Fn::Join'];
    return parts.map(text).join(sep);
  }
  return JSON.stringify(value);
}

/** The logical ID a resource-policy or IAM `Resource` entry points at, if it is one of ours. */
function target(resource: Json): string | undefined {
  if (resource?.Ref && resources[resource.Ref]) return resource.Ref;
  if (resource?.['Fn::GetAtt'] && resources[resource['Fn::GetAtt'][0]])
    return resource['Fn::GetAtt'][0];
  return undefined;
}

/** The KMS key each encrypted resource names, by resource. */
function encrypted(): Map<string, string> {
  const keyOf = (r: Json): Json =>
    r.Properties?.SSESpecification?.KMSMasterKeyId ??
    r.Properties?.StreamEncryption?.KeyId ??
    r.Properties?.KmsMasterKeyId ??
    r.Properties?.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]
      ?.ServerSideEncryptionByDefault?.KMSMasterKeyID;
  const out = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    const key = keyOf(r);
    if (key !== undefined) out.set(id, target(key) ?? text(key));
  }
  return out;
}

const WRITES =
  /^(sqs:SendMessage|sns:Publish|s3:PutObject|kinesis:PutRecords?|dynamodb:(PutItem|BatchWriteItem|UpdateItem|DeleteItem))$/;

/** Service principals allowed by resource policies (queue, topic, bucket) to write each resource. */
function serviceWriters(): {
  service: string;
  resource: string;
  actions: string[];
  source: string;
}[] {
  const out: { service: string; resource: string; actions: string[]; source: string }[] = [];
  const policies: [string, string][] = [
    ['AWS::SQS::QueuePolicy', 'Queues'],
    ['AWS::SNS::TopicPolicy', 'Topics'],
    ['AWS::S3::BucketPolicy', 'Bucket'],
  ];
  for (const r of Object.values(resources)) {
    const kind = policies.find(([type]) => type === r.Type);
    if (!kind) continue;
    for (const s of r.Properties.PolicyDocument.Statement as Statement[]) {
      if (s.Effect !== 'Allow' || !s.Principal?.Service) continue;
      const actions = list(s.Action).filter((a) => WRITES.test(a));
      if (actions.length === 0) continue;
      const owners = list<Json>(r.Properties[kind[1]]).map((x) => target(x) ?? text(x));
      for (const service of list<string>(s.Principal.Service))
        for (const resource of owners)
          out.push({
            service,
            resource,
            actions,
            source: text(
              s.Condition?.ArnEquals?.['aws:SourceArn'] ??
                s.Condition?.ArnLike?.['aws:SourceArn'] ??
                '',
            ),
          });
    }
  }
  return out;
}

/** The key policy's grants to service principals: service, actions, the source they hold for. */
function keyGrants(
  key: string,
): { service: string; actions: string[]; source: string; account: string }[] {
  const statements = resources[key].Properties.KeyPolicy.Statement as Statement[];
  return statements
    .filter((s) => s.Effect === 'Allow' && s.Principal?.Service)
    .flatMap((s) =>
      list<string>(s.Principal.Service).map((service) => ({
        service,
        actions: list(s.Action),
        source: text(
          s.Condition?.ArnEquals?.['aws:SourceArn'] ??
            s.Condition?.ArnLike?.['aws:SourceArn'] ??
            '',
        ),
        account: text(s.Condition?.StringEquals?.['aws:SourceAccount'] ?? ''),
      })),
    );
}

/** Each role's allowed actions on each resource (by name), from the policies attached to it. */
function roleAccess(): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const role of list<Json>(r.Properties.Roles)) {
      const byResource = out.get(named(role.Ref)) ?? new Map<string, Set<string>>();
      out.set(named(role.Ref), byResource);
      for (const s of r.Properties.PolicyDocument.Statement as Statement[]) {
        if (s.Effect !== 'Allow') continue;
        for (const res of list<Json>(s.Resource)) {
          const id = target(res);
          const name = id ? named(id) : text(res);
          const actions = byResource.get(name) ?? new Set<string>();
          for (const a of list(s.Action)) actions.add(a);
          byResource.set(name, actions);
        }
      }
    }
  }
  return out;
}

const isGenerate = (a: string) => a === 'kms:GenerateDataKey' || a === 'kms:GenerateDataKey*';

describe('every service that writes to an encrypted resource may use its key', () => {
  it("lists the services that write to encrypted resources: CloudWatch to the alarm topic, EventBridge to the bus handlers' queues and the rules' dead-letter queues", () => {
    const enc = encrypted();
    const writers = serviceWriters()
      .filter((w) => enc.has(w.resource))
      .map((w) => `${w.service} → ${named(w.resource)}: ${w.actions.join(' ')} (from ${w.source})`)
      .sort();
    expect(writers).toEqual(
      [
        'cloudwatch.amazonaws.com → MonitoringAlarms: sns:Publish (from arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:matchstream-dev-*)',
        'events.amazonaws.com → CalculationEventHandlerDeadLetters: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-calculation/calculation-event-handler)',
        'events.amazonaws.com → MatchEventHandlerDeadLetters: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-soccer/match-event-handler)',
        'events.amazonaws.com → MetadataEventHandlerDeadLetters: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-metadata/metadata-event-handler)',
        'events.amazonaws.com → SagaSweepDeadLetters: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-saga-sweep)',
        'events.amazonaws.com → BreakerSupervisorDeadLetters: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-breaker-supervisor)',
        'events.amazonaws.com → CalculationEventHandlerInbox: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-calculation/calculation-event-handler)',
        'events.amazonaws.com → MatchEventHandlerInbox: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-soccer/match-event-handler)',
        'events.amazonaws.com → MetadataEventHandlerInbox: sqs:SendMessage (from arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/matchstream-dev-metadata/metadata-event-handler)',
      ].sort(),
    );
  });

  it('lets each of those services encrypt with the key, for the same source only', () => {
    const enc = encrypted();
    const missing: string[] = [];
    for (const w of serviceWriters()) {
      const key = enc.get(w.resource);
      if (!key) continue;
      const grants = keyGrants(key).filter((g) => g.service === w.service && g.source === w.source);
      const allows = (want: (a: string) => boolean) => grants.some((g) => g.actions.some(want));
      if (!allows(isGenerate) || !allows((a) => a === 'kms:Decrypt'))
        missing.push(`${w.service} on ${named(w.resource)} from ${w.source}`);
    }
    expect(missing).toEqual([]);
    // CloudWatch's grant on the key is also scoped to this account.
    const cloudwatch = keyGrants(keyId()).filter((g) => g.service === 'cloudwatch.amazonaws.com');
    expect(cloudwatch.map((g) => g.account)).toEqual(['<AWS::AccountId>']);
  });

  it('lets every role that writes to an encrypted resource use its key', () => {
    const enc = encrypted();
    const access = roleAccess();
    const missing: string[] = [];
    let writers = 0;
    for (const [role, byResource] of access)
      for (const [resource, actions] of byResource) {
        const id = Object.keys(resources).find((k) => named(k) === resource);
        const key = id ? enc.get(id) : undefined;
        if (!key || ![...actions].some((a) => WRITES.test(a))) continue;
        writers++;
        const onKey = byResource.get(named(key)) ?? new Set<string>();
        if (![...onKey].some(isGenerate) || !onKey.has('kms:Decrypt'))
          missing.push(`${role} → ${resource}`);
      }
    expect(writers).toBeGreaterThan(20);
    expect(missing).toEqual([]);
    // Those IAM grants count because the key policy defers to the account's IAM policies; so
    // does DynamoDB's service-linked role that writes the change stream (its policy allows
    // kms:GenerateDataKey via Kinesis: DynamoDBKinesisReplicationServiceRolePolicy).
    const statements = resources[keyId()].Properties.KeyPolicy.Statement as Statement[];
    expect(
      statements.filter(
        (st) =>
          st.Effect === 'Allow' &&
          st.Principal?.AWS &&
          text(st.Principal.AWS) === 'arn:<AWS::Partition>:iam::<AWS::AccountId>:root' &&
          list(st.Action).includes('kms:*'),
      ),
    ).toHaveLength(1);
  });

  it("keeps the alarm topic and the queues TLS-only, and names every alarm under the stack (the grants' source)", () => {
    for (const r of Object.values(resources))
      if (r.Type === 'AWS::SNS::TopicPolicy' || r.Type === 'AWS::SQS::QueuePolicy')
        expect(r.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
    // CloudFormation names an unnamed alarm `<stack>-<logical id>-<suffix>`.
    for (const r of Object.values(resources))
      if (r.Type === 'AWS::CloudWatch::Alarm')
        expect(r.Properties.AlarmName ?? 'matchstream-dev-').toMatch(/^matchstream-dev-/);
  });
});

/** The stack's one KMS key. */
function keyId(): string {
  const keys = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::KMS::Key');
  expect(keys).toHaveLength(1);
  return keys[0]?.[0] ?? '';
}

describe('each function is granted exactly what its code calls', () => {
  /** Per role, per resource, the actions allowed, one line each. */
  const table = () =>
    [...roleAccess()]
      .flatMap(([role, byResource]) =>
        [...byResource].map(
          ([resource, actions]) => `${role} → ${resource}: ${[...actions].sort().join(' ')}`,
        ),
      )
      .sort();

  it('never lets a function update, delete or batch-write event items (the store is append-only)', () => {
    const events = named(
      Object.keys(resources).find((k) => k.startsWith('EventStoreEvents')) ?? 'missing',
    );
    const rewrites = table().filter(
      (line) =>
        line.includes(`→ ${events}:`) &&
        /dynamodb:(UpdateItem|DeleteItem|BatchWriteItem|\*)/.test(line),
    );
    expect(rewrites).toEqual([]);
    // The API appends (POST /sagas) with a conditional PutItem, reads (a saga's timeline) and
    // describes the table (GET /store); nothing else.
    expect(
      table().filter((l) => l.startsWith('QueryApiHandlerRole') && l.includes(`→ ${events}:`)),
    ).toEqual([
      `QueryApiHandlerRole → ${events}: dynamodb:DescribeTable dynamodb:GetItem dynamodb:PutItem dynamodb:Query`,
    ]);
  });

  // Review reads the diff of this table: any new grant shows up here.
  it('allows these actions per role and resource, and nothing else', () => {
    expect(table()).toMatchInlineSnapshot(`
      [
        "BreakerSupervisorHandlerRole → BreakerSupervisorDeadLetters: sqs:GetQueueAttributes sqs:GetQueueUrl sqs:SendMessage",
        "BreakerSupervisorHandlerRole → BreakerSupervisorHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "BreakerSupervisorHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "BreakerSupervisorHandlerRole → Runtimebreakers: dynamodb:DeleteItem dynamodb:GetItem dynamodb:PutItem dynamodb:Scan",
        "BreakerSupervisorHandlerRole → arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:event-source-mapping:<CalculationEventHandlerFunctionSqsEventSourcematchstreamdevCalculationEventHandlerInbox1E8AE20C>: lambda:GetEventSourceMapping lambda:UpdateEventSourceMapping",
        "BreakerSupervisorHandlerRole → arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:event-source-mapping:<MatchEventHandlerFunctionSqsEventSourcematchstreamdevMatchEventHandlerInbox35E571D9>: lambda:GetEventSourceMapping lambda:UpdateEventSourceMapping",
        "BreakerSupervisorHandlerRole → arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:event-source-mapping:<MetadataEventHandlerFunctionSqsEventSourcematchstreamdevMetadataEventHandlerInbox0F7EA1C8>: lambda:GetEventSourceMapping lambda:UpdateEventSourceMapping",
        "BusRouterConsumerHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "BusRouterConsumerHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "BusRouterConsumerHandlerRole → <FailuresBucket.Arn>/aws/lambda/*: s3:PutObject",
        "BusRouterConsumerHandlerRole → ArchiveBucket: s3:ListBucket",
        "BusRouterConsumerHandlerRole → BusRouterConsumerHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "BusRouterConsumerHandlerRole → Busescalculation: events:PutEvents",
        "BusRouterConsumerHandlerRole → Busesmain: events:PutEvents",
        "BusRouterConsumerHandlerRole → Busesmetadata: events:PutEvents",
        "BusRouterConsumerHandlerRole → Busessoccer: events:PutEvents",
        "BusRouterConsumerHandlerRole → EventStoreChanges: kinesis:DescribeStream kinesis:DescribeStreamConsumer kinesis:DescribeStreamSummary kinesis:GetRecords kinesis:GetShardIterator kinesis:ListShards kinesis:ListStreams kinesis:SubscribeToShard",
        "BusRouterConsumerHandlerRole → EventStoreEvents: dynamodb:GetItem dynamodb:Query",
        "BusRouterConsumerHandlerRole → FailuresBucket: s3:ListBucket",
        "BusRouterConsumerHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey kms:GenerateDataKey* kms:ReEncrypt*",
        "BusRouterConsumerHandlerRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "BusRouterConsumerHandlerRole → RuntimedeadLetters: dynamodb:PutItem dynamodb:UpdateItem",
        "BusRouterConsumerHandlerRole → Runtimepositions: dynamodb:BatchGetItem dynamodb:BatchWriteItem",
        "CalculationEventHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "CalculationEventHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "CalculationEventHandlerRole → ArchiveBucket: s3:ListBucket",
        "CalculationEventHandlerRole → CalculationEventHandlerInbox: sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ReceiveMessage sqs:SendMessage",
        "CalculationEventHandlerRole → CalculationEventHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "CalculationEventHandlerRole → EventStoreEvents: dynamodb:GetItem dynamodb:Query",
        "CalculationEventHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "CalculationEventHandlerRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "CalculationEventHandlerRole → SagaTablesnotifications: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "MatchEventHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "MatchEventHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "MatchEventHandlerRole → ArchiveBucket: s3:ListBucket",
        "MatchEventHandlerRole → EventStoreEvents: dynamodb:GetItem dynamodb:PutItem dynamodb:Query",
        "MatchEventHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "MatchEventHandlerRole → MatchEventHandlerInbox: sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ReceiveMessage sqs:SendMessage",
        "MatchEventHandlerRole → MatchEventHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "MatchEventHandlerRole → ReadModelsmatches: dynamodb:BatchGetItem dynamodb:Query",
        "MatchEventHandlerRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "MatchEventHandlerRole → Runtimeregistry: dynamodb:BatchGetItem dynamodb:Query",
        "MatchEventHandlerRole → SagaTableswork: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "MatchEventHandlerRole → arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*: dynamodb:BatchGetItem dynamodb:Query",
        "MetadataEventHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "MetadataEventHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "MetadataEventHandlerRole → ArchiveBucket: s3:ListBucket",
        "MetadataEventHandlerRole → EventStoreEvents: dynamodb:GetItem dynamodb:PutItem dynamodb:Query",
        "MetadataEventHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "MetadataEventHandlerRole → MetadataEventHandlerInbox: sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ReceiveMessage sqs:SendMessage",
        "MetadataEventHandlerRole → MetadataEventHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "MetadataEventHandlerRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "MetadataEventHandlerRole → SagaTablescache: dynamodb:BatchGetItem dynamodb:Query",
        "MetadataEventHandlerRole → SagaTablesdirectory: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "MetadataEventHandlerRole → SagaTableswork: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "QueryApiHandlerRole → *: cloudwatch:GetMetricData",
        "QueryApiHandlerRole → <AWS::StackId>: cloudformation:DescribeStacks",
        "QueryApiHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "QueryApiHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "QueryApiHandlerRole → <FailuresBucket.Arn>/aws/lambda/*: s3:GetObject",
        "QueryApiHandlerRole → ArchiveBucket: s3:ListBucket",
        "QueryApiHandlerRole → BreakerSupervisorDeadLetters: sqs:GetQueueAttributes",
        "QueryApiHandlerRole → CalculationEventHandlerDeadLetters: sqs:GetQueueAttributes",
        "QueryApiHandlerRole → EventStoreEvents: dynamodb:DescribeTable dynamodb:GetItem dynamodb:PutItem dynamodb:Query",
        "QueryApiHandlerRole → FailuresBucket: s3:ListBucket",
        "QueryApiHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "QueryApiHandlerRole → MatchEventHandlerDeadLetters: sqs:GetQueueAttributes",
        "QueryApiHandlerRole → MetadataEventHandlerDeadLetters: sqs:GetQueueAttributes",
        "QueryApiHandlerRole → QueryApiHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "QueryApiHandlerRole → ReadModelsmatches: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → ReadModelspipelinestats: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → ReadModelsrankings: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → ReadModelssagas: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → ReadModelsstandings: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → ReadModelsteams: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → Runtimebreakers: dynamodb:Scan",
        "QueryApiHandlerRole → RuntimedeadLetters: dynamodb:Query dynamodb:Scan",
        "QueryApiHandlerRole → Runtimeregistry: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → SagaSweepDeadLetters: sqs:GetQueueAttributes",
        "QueryApiHandlerRole → SagaTablescache: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → SagaTablesnotifications: dynamodb:BatchGetItem dynamodb:Query",
        "QueryApiHandlerRole → arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*: dynamodb:BatchGetItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "ReadModelsConsumerHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "ReadModelsConsumerHandlerRole → <FailuresBucket.Arn>/aws/lambda/*: s3:PutObject",
        "ReadModelsConsumerHandlerRole → ArchiveBucket: s3:ListBucket",
        "ReadModelsConsumerHandlerRole → EventStoreChanges: kinesis:DescribeStream kinesis:DescribeStreamConsumer kinesis:DescribeStreamSummary kinesis:GetRecords kinesis:GetShardIterator kinesis:ListShards kinesis:ListStreams kinesis:SubscribeToShard",
        "ReadModelsConsumerHandlerRole → EventStoreEvents: dynamodb:GetItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → FailuresBucket: s3:ListBucket",
        "ReadModelsConsumerHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey kms:GenerateDataKey* kms:ReEncrypt*",
        "ReadModelsConsumerHandlerRole → ReadModelsConsumerHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "ReadModelsConsumerHandlerRole → ReadModelsmatches: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → ReadModelspipelinestats: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → ReadModelsrankings: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → ReadModelssagas: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → ReadModelsstandings: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → ReadModelsteams: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "ReadModelsConsumerHandlerRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "ReadModelsConsumerHandlerRole → Runtimepositions: dynamodb:BatchGetItem dynamodb:BatchWriteItem",
        "RebuildControlRole → *: cloudwatch:GetMetricData lambda:CreateEventSourceMapping lambda:GetEventSourceMapping lambda:ListEventSourceMappings",
        "RebuildControlRole → <ArchiveBucket.Arn>/events/*: s3:AbortMultipartUpload s3:GetObject s3:PutObject",
        "RebuildControlRole → <ArchiveBucket.Arn>/rebuilds/*: s3:AbortMultipartUpload s3:GetObject s3:PutObject",
        "RebuildControlRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "RebuildControlRole → <EventStoreEvents.Arn>/export/*: dynamodb:DescribeExport",
        "RebuildControlRole → <RebuildFeederFunction.Arn>:*: lambda:CreateAlias lambda:GetAlias",
        "RebuildControlRole → ArchiveBucket: s3:ListBucket",
        "RebuildControlRole → EventStoreEvents: dynamodb:BatchGetItem dynamodb:DescribeContinuousBackups dynamodb:DescribeTable dynamodb:ExportTableToPointInTime dynamodb:GetItem dynamodb:Query",
        "RebuildControlRole → Key: kms:CreateGrant kms:Decrypt kms:DescribeKey kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "RebuildControlRole → ReadModelsmatches: dynamodb:BatchGetItem dynamodb:DescribeTable dynamodb:Scan",
        "RebuildControlRole → ReadModelspipelinestats: dynamodb:BatchGetItem dynamodb:DescribeTable dynamodb:Scan",
        "RebuildControlRole → ReadModelsrankings: dynamodb:BatchGetItem dynamodb:DescribeTable dynamodb:Scan",
        "RebuildControlRole → ReadModelssagas: dynamodb:BatchGetItem dynamodb:DescribeTable dynamodb:Scan",
        "RebuildControlRole → ReadModelsstandings: dynamodb:BatchGetItem dynamodb:DescribeTable dynamodb:Scan",
        "RebuildControlRole → ReadModelsteams: dynamodb:BatchGetItem dynamodb:DescribeTable dynamodb:Scan",
        "RebuildControlRole → RebuildControlLogs: logs:CreateLogStream logs:PutLogEvents",
        "RebuildControlRole → RebuildFeederFunction: lambda:CreateAlias lambda:GetAlias",
        "RebuildControlRole → RuntimedeadLetters: dynamodb:PutItem dynamodb:UpdateItem",
        "RebuildControlRole → Runtimepositions: dynamodb:BatchGetItem dynamodb:BatchWriteItem",
        "RebuildControlRole → Runtimeregistry: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "RebuildControlRole → arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:CreateTable dynamodb:DescribeTable dynamodb:Query dynamodb:Scan dynamodb:TagResource dynamodb:UpdateContinuousBackups dynamodb:UpdateTable",
        "RebuildFeederRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "RebuildFeederRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "RebuildFeederRole → <FailuresBucket.Arn>/aws/lambda/*: s3:PutObject",
        "RebuildFeederRole → ArchiveBucket: s3:ListBucket",
        "RebuildFeederRole → EventStoreChanges: kinesis:DescribeStream kinesis:DescribeStreamConsumer kinesis:DescribeStreamSummary kinesis:GetRecords kinesis:GetShardIterator kinesis:ListShards kinesis:ListStreams kinesis:SubscribeToShard",
        "RebuildFeederRole → EventStoreEvents: dynamodb:GetItem dynamodb:Query",
        "RebuildFeederRole → FailuresBucket: s3:ListBucket",
        "RebuildFeederRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "RebuildFeederRole → RebuildFeederLogs: logs:CreateLogStream logs:PutLogEvents",
        "RebuildFeederRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "RebuildFeederRole → Runtimepositions: dynamodb:BatchGetItem dynamodb:BatchWriteItem",
        "RebuildFeederRole → Runtimeregistry: dynamodb:BatchGetItem dynamodb:Query",
        "RebuildFeederRole → arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "RebuildFilesRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "RebuildFilesRole → <ArchiveBucket.Arn>/rebuilds/*: s3:GetObject s3:PutObject",
        "RebuildFilesRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "RebuildFilesRole → ArchiveBucket: s3:ListBucket",
        "RebuildFilesRole → EventStoreEvents: dynamodb:GetItem dynamodb:Query",
        "RebuildFilesRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "RebuildFilesRole → RebuildFilesLogs: logs:CreateLogStream logs:PutLogEvents",
        "RebuildFilesRole → RuntimedeadLetters: dynamodb:PutItem dynamodb:UpdateItem",
        "RebuildFilesRole → Runtimepositions: dynamodb:BatchGetItem dynamodb:BatchWriteItem",
        "RebuildFilesRole → arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "RebuildStateMachineRole → *: logs:CreateLogDelivery logs:DeleteLogDelivery logs:DescribeLogGroups logs:DescribeResourcePolicies logs:GetLogDelivery logs:ListLogDeliveries logs:PutResourcePolicy logs:UpdateLogDelivery",
        "RebuildStateMachineRole → <RebuildControlFunction.Arn>:*: lambda:InvokeFunction",
        "RebuildStateMachineRole → <RebuildFilesFunction.Arn>:*: lambda:InvokeFunction",
        "RebuildStateMachineRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "RebuildStateMachineRole → RebuildControlFunction: lambda:InvokeFunction",
        "RebuildStateMachineRole → RebuildFilesFunction: lambda:InvokeFunction",
        "RebuildStateMachineRole → RebuildStateMachine: states:StartExecution",
        "RebuildStateMachineRole → arn:<AWS::Partition>:s3:::<ArchiveBucket>/*: s3:AbortMultipartUpload s3:GetObject s3:ListMultipartUploadParts s3:PutObject",
        "RebuildStateMachineRole → arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"RebuildStateMachineA3472951"}]}]}/*:*: states:RedriveExecution",
        "RebuildStateMachineRole → arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"RebuildStateMachineA3472951"}]}]}:*: states:DescribeExecution states:StopExecution",
        "SagaSweepHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "SagaSweepHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "SagaSweepHandlerRole → ArchiveBucket: s3:ListBucket",
        "SagaSweepHandlerRole → EventStoreEvents: dynamodb:GetItem dynamodb:PutItem dynamodb:Query",
        "SagaSweepHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey* kms:ReEncrypt*",
        "SagaSweepHandlerRole → ReadModelsmatches: dynamodb:BatchGetItem dynamodb:Query",
        "SagaSweepHandlerRole → ReadModelssagas: dynamodb:BatchGetItem dynamodb:Query",
        "SagaSweepHandlerRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "SagaSweepHandlerRole → Runtimeregistry: dynamodb:BatchGetItem dynamodb:Query",
        "SagaSweepHandlerRole → SagaSweepDeadLetters: sqs:GetQueueAttributes sqs:GetQueueUrl sqs:SendMessage",
        "SagaSweepHandlerRole → SagaSweepHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "SagaSweepHandlerRole → SagaTablescache: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "SagaSweepHandlerRole → SagaTablesdirectory: dynamodb:BatchGetItem dynamodb:Query",
        "SagaSweepHandlerRole → SagaTableswork: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:DeleteItem dynamodb:PutItem dynamodb:Query",
        "SagaSweepHandlerRole → arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*: dynamodb:BatchGetItem dynamodb:Query",
        "SagasConsumerHandlerRole → <ArchiveBucket.Arn>/events/*: s3:GetObject",
        "SagasConsumerHandlerRole → <ArchiveBucket.Arn>/seasons/*: s3:GetObject",
        "SagasConsumerHandlerRole → <FailuresBucket.Arn>/aws/lambda/*: s3:PutObject",
        "SagasConsumerHandlerRole → ArchiveBucket: s3:ListBucket",
        "SagasConsumerHandlerRole → EventStoreChanges: kinesis:DescribeStream kinesis:DescribeStreamConsumer kinesis:DescribeStreamSummary kinesis:GetRecords kinesis:GetShardIterator kinesis:ListShards kinesis:ListStreams kinesis:SubscribeToShard",
        "SagasConsumerHandlerRole → EventStoreEvents: dynamodb:GetItem dynamodb:PutItem dynamodb:Query",
        "SagasConsumerHandlerRole → FailuresBucket: s3:ListBucket",
        "SagasConsumerHandlerRole → Key: kms:Decrypt kms:Encrypt kms:GenerateDataKey kms:GenerateDataKey* kms:ReEncrypt*",
        "SagasConsumerHandlerRole → ReadModelsmatches: dynamodb:BatchGetItem dynamodb:Query",
        "SagasConsumerHandlerRole → ReadModelssagas: dynamodb:BatchGetItem dynamodb:Query",
        "SagasConsumerHandlerRole → Runtimebreakers: dynamodb:GetItem dynamodb:PutItem",
        "SagasConsumerHandlerRole → Runtimepositions: dynamodb:BatchGetItem dynamodb:BatchWriteItem",
        "SagasConsumerHandlerRole → Runtimeregistry: dynamodb:BatchGetItem dynamodb:Query",
        "SagasConsumerHandlerRole → SagaTablescache: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "SagasConsumerHandlerRole → SagaTablesdirectory: dynamodb:BatchGetItem dynamodb:Query",
        "SagasConsumerHandlerRole → SagaTableswork: dynamodb:BatchGetItem dynamodb:BatchWriteItem dynamodb:Query",
        "SagasConsumerHandlerRole → SagasConsumerHandlerLogs: logs:CreateLogStream logs:PutLogEvents",
        "SagasConsumerHandlerRole → arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*: dynamodb:BatchGetItem dynamodb:Query",
      ]
    `);
  });
});
