import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/**
 * The SNS topic the stack's alarms notify: encrypted with the stack's key, TLS only, and open to
 * CloudWatch alarms of this stack. CloudWatch publishes to an encrypted topic only when the key
 * policy lets `cloudwatch.amazonaws.com` use the key (kms:Decrypt, kms:GenerateDataKey*)
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
 * and only when the topic policy allows it sns:Publish
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html).
 * Both grants hold only for alarms of this account whose names CloudFormation gave them under
 * this stack's name (`<stack>-<logical id>-<suffix>`), against the confused deputy.
 */
export function alarmTopic(
  scope: Construct,
  id: string,
  props: { readonly displayName: string; readonly key: kms.IKey },
): sns.Topic {
  const stack = Stack.of(scope);
  const topic = new sns.Topic(scope, id, {
    displayName: props.displayName,
    masterKey: props.key,
    enforceSSL: true,
  });
  const conditions = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': alarmArns(stack) },
  };
  const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  props.key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsEncryptNotifications',
      principals: [cloudwatch],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions,
    }),
  );
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [cloudwatch],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions,
    }),
  );
  return topic;
}

/** The ARNs of the stack's alarms: `arn:aws:cloudwatch:<region>:<account>:alarm:<stack>-*`. */
export function alarmArns(stack: Stack): string {
  return stack.formatArn({
    service: 'cloudwatch',
    resource: 'alarm',
    resourceName: `${stack.stackName}-*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
