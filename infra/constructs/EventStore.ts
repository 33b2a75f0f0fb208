import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EventStoreProps {
  /** Encrypts the table and the change stream. */
  readonly key: kms.IKey;
  /**
   * Provisioned shards of the change stream; 0 (the default) makes it on-demand, which scales
   * without planning and suits bursty match days.
   */
  readonly shards?: number;
  /** How long the change stream keeps records. @default 24 hours */
  readonly retention?: Duration;
  /** Keep the table when the stack is deleted. @default true */
  readonly retain?: boolean;
  /** Throughput the table takes at once from its creation (high-volume deployments). @default none */
  readonly warmThroughput?: dynamodb.WarmThroughput;
}

/**
 * The event store table (partition key `aggregate_id`, sort key `sequence`, one item per
 * commit) and its change stream: Kinesis Data Streams for DynamoDB captures every insert into
 * a KMS-encrypted Kinesis stream the consumers read. On-demand capacity, point-in-time
 * recovery, a customer-managed key and deletion protection: the events are the system of
 * record, everything else can be rebuilt from them.
 */
export class EventStore extends Construct {
  readonly table: dynamodb.Table;
  readonly stream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: EventStoreProps) {
    super(scope, id);
    const shards = props.shards ?? 0;
    this.stream = new kinesis.Stream(this, 'Changes', {
      ...(shards > 0
        ? { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: shards }
        : { streamMode: kinesis.StreamMode.ON_DEMAND }),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.key,
      retentionPeriod: props.retention ?? Duration.hours(24),
      // Deleted with the stack, whatever becomes of the table: it bills by the hour.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        "Encrypted with the stack's customer-managed key rather than aws/kinesis: the same key, rotation and key policy as the events it carries.",
    });
    const retain = props.retain ?? true;
    this.table = new dynamodb.Table(this, 'Events', {
      partitionKey: { name: 'aggregate_id', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sequence', type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      kinesisStream: this.stream,
      ...(props.warmThroughput ? { warmThroughput: props.warmThroughput } : {}),
    });
  }
}
