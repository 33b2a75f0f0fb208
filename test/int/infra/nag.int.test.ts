import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../infra/buildApp.js';
import { defaultStack, sharedOutdir, synthesize, UNBUNDLED } from '../../support/synth.js';

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
    const { app, stack } = buildApp(UNBUNDLED, sharedOutdir());
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
  }, 300_000);

  it('are acknowledged only where listed here, each with its reason (a new one shows in this list)', () => {
    const { stack } = defaultStack();
    const found = acknowledgements(stack);
    for (const a of found) expect(a.reason.length, `${a.path} ${a.rule}`).toBeGreaterThan(60);
    expect(
      found.map((a) => `${a.path.replace(/^matchstream-dev\//, '')}: ${a.rule}`).sort(),
    ).toMatchInlineSnapshot(`
      [
        "Archive/Bucket: Annotation::AwsSolutions-S1",
        "BreakerSupervisor/DeadLetters: Annotation::AwsSolutions-SQS3",
        "BreakerSupervisor/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "BreakerSupervisor/Handler/Function: Annotation::AwsSolutions-L1",
        "BreakerSupervisor/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "BreakerSupervisor/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "BreakerSupervisor/Handler/Function: Serverless::Serverless-LambdaTracing",
        "BreakerSupervisor/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "BreakerSupervisor/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "BusRouterConsumer/Handler/Function: Annotation::AwsSolutions-L1",
        "BusRouterConsumer/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "BusRouterConsumer/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "BusRouterConsumer/Handler/Function: Serverless::Serverless-LambdaTracing",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "BusRouterConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
        "CalculationEventHandler/DeadLetters: Annotation::AwsSolutions-SQS3",
        "CalculationEventHandler/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "CalculationEventHandler/Handler/Function: Annotation::AwsSolutions-L1",
        "CalculationEventHandler/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "CalculationEventHandler/Handler/Function: Serverless::Serverless-LambdaEventSourceMappingDestination",
        "CalculationEventHandler/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "CalculationEventHandler/Handler/Function: Serverless::Serverless-LambdaTracing",
        "CalculationEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "CalculationEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "CalculationEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "CalculationEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "EventStore/Changes: Annotation::AwsSolutions-KDS3",
        "Failures/Bucket: Annotation::AwsSolutions-S1",
        "MatchEventHandler/DeadLetters: Annotation::AwsSolutions-SQS3",
        "MatchEventHandler/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "MatchEventHandler/Handler/Function: Annotation::AwsSolutions-L1",
        "MatchEventHandler/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "MatchEventHandler/Handler/Function: Serverless::Serverless-LambdaEventSourceMappingDestination",
        "MatchEventHandler/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "MatchEventHandler/Handler/Function: Serverless::Serverless-LambdaTracing",
        "MatchEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "MatchEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "MatchEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "MatchEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "MatchEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*]",
        "MetadataEventHandler/DeadLetters: Annotation::AwsSolutions-SQS3",
        "MetadataEventHandler/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "MetadataEventHandler/Handler/Function: Annotation::AwsSolutions-L1",
        "MetadataEventHandler/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "MetadataEventHandler/Handler/Function: Serverless::Serverless-LambdaEventSourceMappingDestination",
        "MetadataEventHandler/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "MetadataEventHandler/Handler/Function: Serverless::Serverless-LambdaTracing",
        "MetadataEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "MetadataEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "MetadataEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "MetadataEventHandler/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "QueryApi/Api/GET--: Annotation::AwsSolutions-APIG4",
        "QueryApi/Api/GET--{proxy+}: Annotation::AwsSolutions-APIG4",
        "QueryApi/Handler/Function: Annotation::AwsSolutions-L1",
        "QueryApi/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "QueryApi/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "QueryApi/Handler/Function: Serverless::Serverless-LambdaTracing",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::*]",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
        "QueryApi/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*]",
        "ReadModelsConsumer/Handler/Function: Annotation::AwsSolutions-L1",
        "ReadModelsConsumer/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "ReadModelsConsumer/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "ReadModelsConsumer/Handler/Function: Serverless::Serverless-LambdaTracing",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "ReadModelsConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
        "Rebuild/Control/Function: Annotation::AwsSolutions-L1",
        "Rebuild/Control/Function: Serverless::Serverless-LambdaDLQ",
        "Rebuild/Control/Function: Serverless::Serverless-LambdaLatestVersion",
        "Rebuild/Control/Function: Serverless::Serverless-LambdaTracing",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Resource::*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/rebuilds/*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Resource::<EventStoreEvents67C89B68.Arn>/export/*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Resource::<RebuildFeederFunction4533EA09.Arn>:*]",
        "Rebuild/Control/Role: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*]",
        "Rebuild/Feeder/Function: Annotation::AwsSolutions-L1",
        "Rebuild/Feeder/Function: Serverless::Serverless-LambdaDLQ",
        "Rebuild/Feeder/Function: Serverless::Serverless-LambdaLatestVersion",
        "Rebuild/Feeder/Function: Serverless::Serverless-LambdaTracing",
        "Rebuild/Feeder/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Rebuild/Feeder/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "Rebuild/Feeder/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "Rebuild/Feeder/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "Rebuild/Feeder/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
        "Rebuild/Feeder/Role: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*]",
        "Rebuild/Files/Function: Annotation::AwsSolutions-L1",
        "Rebuild/Files/Function: Serverless::Serverless-LambdaDLQ",
        "Rebuild/Files/Function: Serverless::Serverless-LambdaLatestVersion",
        "Rebuild/Files/Function: Serverless::Serverless-LambdaTracing",
        "Rebuild/Files/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Rebuild/Files/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "Rebuild/Files/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "Rebuild/Files/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/rebuilds/*]",
        "Rebuild/Files/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "Rebuild/Files/Role: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Resource::*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Resource::<RebuildControlFunctionAA75DA9B.Arn>:*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Resource::<RebuildFilesFunction713210B9.Arn>:*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<ArchiveBucket49F1AC64>/*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"RebuildStateMachineA3472951"}]}]}/*:*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"RebuildStateMachineA3472951"}]}]}:*]",
        "Rebuild/StateMachine: Annotation::AwsSolutions-SF2",
        "Rebuild/StateMachine: Serverless::Serverless-StepFunctionStateMachineXray",
        "SagaSweep/DeadLetters: Annotation::AwsSolutions-SQS3",
        "SagaSweep/DeadLetters: Serverless::Serverless-SQSRedrivePolicy",
        "SagaSweep/Handler/Function: Annotation::AwsSolutions-L1",
        "SagaSweep/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "SagaSweep/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "SagaSweep/Handler/Function: Serverless::Serverless-LambdaTracing",
        "SagaSweep/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "SagaSweep/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "SagaSweep/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "SagaSweep/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "SagaSweep/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*]",
        "SagasConsumer/Handler/Function: Annotation::AwsSolutions-L1",
        "SagasConsumer/Handler/Function: Serverless::Serverless-LambdaDLQ",
        "SagasConsumer/Handler/Function: Serverless::Serverless-LambdaLatestVersion",
        "SagasConsumer/Handler/Function: Serverless::Serverless-LambdaTracing",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/events/*]",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<ArchiveBucket49F1AC64.Arn>/seasons/*]",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::<FailuresBucket3D5A4556.Arn>/aws/lambda/*]",
        "SagasConsumer/Handler/Role: Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/matchstream-dev-rm-*]",
      ]
    `);
  }, 300_000);

  it('with tracing on, acknowledge the X-Ray grant on "*" instead of the missing tracing', () => {
    const { stack } = synthesize({ tracing: true, node: 24 });
    const rules = new Set(acknowledgements(stack).map((a) => a.rule));
    expect(rules.has('Annotation::AwsSolutions-IAM5[Resource::*]')).toBe(true);
    expect([...rules].filter((r) => /LambdaTracing|LatestVersion|AwsSolutions-L1/.test(r))).toEqual(
      [],
    );
  }, 300_000);
});
