import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib/core';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MatchstreamStack } from '../../../infra/MatchstreamStack.js';
import { defaultStack } from '../../support/synth.js';

let stack: MatchstreamStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = defaultStack());
}, 300_000);

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of the policies attached to a function's role. */
function statementsOf(fn: IConstruct & { role?: IConstruct | undefined }): Statement[] {
  const role = fn.role;
  if (!role) throw new Error('no role');
  const roleId = logicalId(role);
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => {
    const roles = p.Properties.Roles as { Ref: string }[];
    return roles.some((r) => r.Ref === roleId)
      ? (p.Properties.PolicyDocument.Statement as Statement[])
      : [];
  });
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe("the consumers' on-failure destination: one bucket", () => {
  it("sends every stream mapping's failed batches to the bucket, which Lambda writes whole invocation records to", () => {
    const bucketArn = { 'Fn::GetAtt': [logicalId(stack.failures.bucket), 'Arn'] };
    // The stream consumers' mappings (the bus handlers' queue mappings keep what fails in
    // their queues' dead-letter queues instead).
    const mappings = Object.values(
      template.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { StartingPosition: 'TRIM_HORIZON' },
      }),
    );
    expect(mappings).toHaveLength(3);
    for (const m of mappings)
      expect(m.Properties.DestinationConfig).toEqual({ OnFailure: { Destination: bucketArn } });
  });

  it("is encrypted with the stack's key, TLS only, private, with a lifecycle, and kept when the stack goes", () => {
    const bucketId = logicalId(stack.failures.bucket);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack.key), 'Arn'] },
              },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              ExpirationInDays: 30,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Status: 'Enabled',
            }),
          ],
        },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it("lets each consumer's role do what Lambda's S3 destination needs, and no more: PutObject, ListBucket, GenerateDataKey", () => {
    const bucketArn = { 'Fn::GetAtt': [logicalId(stack.failures.bucket), 'Arn'] };
    const keyArn = { 'Fn::GetAtt': [logicalId(stack.key), 'Arn'] };
    for (const consumer of Object.values(stack.consumers)) {
      const statements = statementsOf(consumer.function);
      const onBucket = statements.filter((s) =>
        JSON.stringify(s.Resource).includes(logicalId(stack.failures.bucket)),
      );
      expect(onBucket.map((s) => [actions(s), s.Resource])).toEqual([
        [['s3:PutObject'], { 'Fn::Join': ['', [bucketArn, '/aws/lambda/*']] }],
        [['s3:ListBucket'], bucketArn],
      ]);
      expect(statements).toContainEqual(
        expect.objectContaining({ Action: 'kms:GenerateDataKey', Resource: keyArn }),
      );
      expect(statements.flatMap(actions).filter((a) => a.startsWith('sqs:'))).toEqual([]);
    }
  });

  it('alarms when a mapping writes to the bucket (request metrics on aws/lambda/, where Lambda writes)', () => {
    const bucketId = logicalId(stack.failures.bucket);
    template.hasResourceProperties('AWS::S3::Bucket', {
      MetricsConfigurations: [{ Id: 'on-failure', Prefix: 'aws/lambda/' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/S3',
      MetricName: 'PutRequests',
      Dimensions: Match.arrayWith([
        { Name: 'BucketName', Value: { Ref: bucketId } },
        { Name: 'FilterId', Value: 'on-failure' },
      ]),
      Threshold: 0,
      AlarmActions: [{ Ref: logicalId(stack.monitoring.topic) }],
    });
    template.hasOutput('FailureBucket', { Value: { Ref: bucketId } });
  });
});
