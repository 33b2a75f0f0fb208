import { Duration, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * An SQS queue that keeps what failed every retry, for 14 days: encrypted with the stack's key,
 * TLS only. It is itself a dead-letter queue, so it has none (the acknowledged AwsSolutions-SQS3).
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
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself a dead-letter destination: it keeps ${keeps} that failed every retry, for an operator to read and replay.`,
  });
  return queue;
}
