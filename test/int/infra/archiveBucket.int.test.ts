import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../infra/buildApp.js';
import { REBUILD_OBJECTS_DAYS } from '../../../infra/constructs/ArchiveBucket.js';
import type { MatchstreamStack } from '../../../infra/MatchstreamStack.js';
import { defaultStack, sharedOutdir, UNBUNDLED } from '../../support/synth.js';

let stack: MatchstreamStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = defaultStack());
}, 120_000);

const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  Stack.of(stack).getLogicalId(c.node.defaultChild as CfnElement);

describe('the event archive bucket', () => {
  it("is encrypted with the stack's key, versioned, private, moves to Standard-IA at 30 days and Glacier Instant Retrieval at 90, and is kept", () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack.key as never), 'Arn'] },
              },
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Status: 'Enabled',
              Transitions: [
                { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
                { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
              ],
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            }),
            { Status: 'Enabled', Prefix: 'rebuilds/', ExpirationInDays: 30 },
          ],
        },
      }),
    });
    // TLS only.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack.archive.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it("keeps the rebuilds' lists and results as long as a run and its redrive can read them", () => {
    // A run lasts at most the state machine's timeout; RedriveExecution takes an execution
    // that ended unsuccessfully within the last 14 days, and goes on reading its lists.
    const timeouts = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))
      .map(
        (r) => JSON.stringify(r.Properties.DefinitionString).match(/TimeoutSeconds\\?":(\d+)/)?.[1],
      )
      .filter((t): t is string => t !== undefined)
      .map(Number);
    expect(timeouts.length).toBeGreaterThan(0);
    const longestRunDays = Math.max(...timeouts) / 86_400;
    expect(REBUILD_OBJECTS_DAYS).toBeGreaterThanOrEqual(longestRunDays + 14);
  });

  it('names the bucket and its key in the outputs', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ArchiveBucket?.Value).toEqual({ Ref: logicalId(stack.archive.bucket) });
    expect(outputs.ArchiveKey?.Value).toEqual({
      'Fn::GetAtt': [logicalId(stack.key as never), 'Arn'],
    });
  });

  it('takes its transitions from context, and refuses Glacier less than 30 days after Standard-IA', () => {
    const later = Template.fromStack(
      buildApp({ archiveInfrequentDays: 60, archiveGlacierDays: 365, ...UNBUNDLED }, sharedOutdir())
        .stack,
    );
    later.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 60 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 365 },
            ],
          }),
          { Status: 'Enabled', Prefix: 'rebuilds/', ExpirationInDays: 30 },
        ],
      },
    });
    expect(() =>
      buildApp({ archiveInfrequentDays: 60, archiveGlacierDays: 70, ...UNBUNDLED }, sharedOutdir()),
    ).toThrow(
      'archive: Glacier Instant Retrieval after 70 days comes too soon after Standard-IA at 60: S3 needs 30 days between the two',
    );
    // Two stacks built without bundles: the test reads only the template.
  }, 180_000);
});
