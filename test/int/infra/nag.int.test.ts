import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../infra/buildApp.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

/** Every acknowledged rule in the tree: where, which rule, why. */
function acknowledgements(root: IConstruct) {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({
          path: c.node.path,
          rule,
          reason,
        })),
      ),
  );
}

describe("cdk-nag's AwsSolutions and Serverless rules", () => {
  it('fail the synth on a finding that is not acknowledged, from both packs', () => {
    const { app, stack } = buildApp({}, tmp.path('cdk.out-finding'));
    // A queue with no encryption policy, no TLS-only policy and no dead-letter queue.
    new sqs.Queue(stack, 'Careless', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = String((error as Error).message);
    }
    expect(message).toContain('matchstream-dev/Careless');
    expect(message).toContain('AwsSolutions-SQS3');
    expect(message).toContain('Serverless-SQSRedrivePolicy');
  }, 120_000);

  it('are acknowledged only where listed here, each with its reason (a new one shows in this list)', () => {
    const { app, stack } = buildApp({}, tmp.path('cdk.out'));
    app.synth();
    const found = acknowledgements(stack);
    for (const a of found) expect(a.reason.length, `${a.path} ${a.rule}`).toBeGreaterThan(60);
    expect(
      found.map((a) => `${a.path.replace(/^matchstream-dev\//, '')}: ${a.rule}`).sort(),
    ).toMatchInlineSnapshot(`
      [
        "Archive/Bucket: Annotation::AwsSolutions-S1",
        "BusRouterConsumer/Handler/Function: Annotation::AwsSolutions-L1",
        "BusRouterConsumer/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "BusRouterConsumer/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "BusRouterConsumer/Handler/Function: Serverless::Serverless-LambdaTracing",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
        "CalculationEventHandler/DeadLetters: Annotation::AwsSolutions-SQS3",
        "CalculationEventHandler/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "CalculationEventHandler/Handler/Function: Annotation::AwsSolutions-L1",
        "CalculationEventHandler/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "CalculationEventHandler/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "CalculationEventHandler/Handler/Function: Serverless::Serverless-LambdaTracing",
        "CalculationEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "CalculationEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "EventStore/Changes: Annotation::AwsSolutions-KDS3",
        "Failures/Bucket: Annotation::AwsSolutions-S1",
        "MatchEventHandler/DeadLetters: Annotation::AwsSolutions-SQS3",
        "MatchEventHandler/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "MatchEventHandler/Handler/Function: Annotation::AwsSolutions-L1",
        "MatchEventHandler/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "MatchEventHandler/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "MatchEventHandler/Handler/Function: Serverless::Serverless-LambdaTracing",
        "MatchEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "MatchEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "MetadataEventHandler/DeadLetters: Annotation::AwsSolutions-SQS3",
        "MetadataEventHandler/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "MetadataEventHandler/Handler/Function: Annotation::AwsSolutions-L1",
        "MetadataEventHandler/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "MetadataEventHandler/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "MetadataEventHandler/Handler/Function: Serverless::Serverless-LambdaTracing",
        "MetadataEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "MetadataEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "QueryApi/Api/GET--{proxy+}: Annotation::AwsSolutions-APIG4",
        "QueryApi/Handler/Function: Annotation::AwsSolutions-L1",
        "QueryApi/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "QueryApi/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "QueryApi/Handler/Function: Serverless::Serverless-LambdaTracing",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "ReadModelsConsumer/Handler/Function: Annotation::AwsSolutions-L1",
        "ReadModelsConsumer/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "ReadModelsConsumer/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "ReadModelsConsumer/Handler/Function: Serverless::Serverless-LambdaTracing",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
        "SagaSweep/DeadLetters: Annotation::AwsSolutions-SQS3",
        "SagaSweep/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "SagaSweep/Handler/Function: Annotation::AwsSolutions-L1",
        "SagaSweep/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "SagaSweep/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "SagaSweep/Handler/Function: Serverless::Serverless-LambdaTracing",
        "SagaSweep/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "SagaSweep/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "SagasConsumer/Handler/Function: Annotation::AwsSolutions-L1",
        "SagasConsumer/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "SagasConsumer/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "SagasConsumer/Handler/Function: Serverless::Serverless-LambdaTracing",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
      ]
    `);
  }, 120_000);

  it('with tracing on, acknowledge the X-Ray grant on "*" instead of the missing tracing', () => {
    const { app, stack } = buildApp({ tracing: true, node: 24 }, tmp.path('cdk.out-traced'));
    app.synth();
    const rules = new Set(acknowledgements(stack).map((a) => a.rule));
    expect(rules.has('Annotation::AwsSolutions-IAM5[Resource::*]')).toBe(true);
    expect([...rules].filter((r) => /LambdaTracing|LatestVersion|AwsSolutions-L1/.test(r))).toEqual(
      [],
    );
  }, 120_000);
});
