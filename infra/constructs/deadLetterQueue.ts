import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * An SQS queue that keeps what failed every retry, for 14 days: encrypted with the stack's key,
 * TLS only. It is itself a dead-letter queue, so it has none (the acknowledged AwsSolutions-SQS3
 * and Serverless-SQSRedrivePolicy).
 */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  key: kms.IKey,
  keeps: string,
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const reason = `This queue is itself a dead-letter destination: it keeps ${keeps} that failed every retry, for an operator to read and replay.`;
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason });
  Validations.of(queue).acknowledge({ id: 'Serverless::Serverless-SQSRedrivePolicy', reason });
  return queue;
}

/**
 * Lets EventBridge put what a rule could not deliver into a dead-letter queue encrypted with
 * `key`: the queue's policy (written by the rule target) allows the send, and the key must let
 * EventBridge encrypt it (https://docs.aws.amazon.com/eventbridge/latest/userguide/rule-dlq.html),
 * for this rule only, by `aws:SourceArn` as EventBridge's key policies are scoped
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html). The
 * rule's ARN is spelled out from its name: the rule itself depends on the key through the queue.
 */
export function grantDeadLetterDelivery(
  scope: Construct,
  key: kms.IKey,
  rule: { readonly bus?: string; readonly name: string },
): void {
  const stack = Stack.of(scope);
  key.grant(
    new iam.ServicePrincipal('events.amazonaws.com', {
      conditions: {
        ArnEquals: {
          'aws:SourceArn': stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: rule.bus ? `${rule.bus}/${rule.name}` : rule.name,
          }),
        },
      },
    }),
    'kms:Decrypt',
    'kms:GenerateDataKey',
  );
}
