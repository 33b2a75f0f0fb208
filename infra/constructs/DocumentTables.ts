import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface DocumentTablesProps {
  readonly key: kms.IKey;
  /** The tables to make, by name: each gets a string partition key and a string sort key. */
  readonly tables: Readonly<
    Record<
      string,
      {
        readonly partitionKey: string;
        /** None: a table of single items by partition key. */
        readonly sortKey?: string;
        /** The attribute DynamoDB's TTL deletes items by (epoch seconds); none when absent. */
        readonly timeToLiveAttribute?: string;
      }
    >
  >;
  /** Keep the tables when the stack is deleted. @default false: they are rebuilt from events */
  readonly retain?: boolean;
  /** Throughput each table takes at once from its creation (high-volume deployments). @default none */
  readonly warmThroughput?: dynamodb.WarmThroughput;
}

/**
 * The tables derived from the events: read models, consumer positions, dead letters. On-demand,
 * encrypted with the stack's key, with point-in-time recovery; destroyed with the stack unless
 * `retain`, since a replay rebuilds them.
 */
export class DocumentTables extends Construct {
  readonly tables: Readonly<Record<string, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: DocumentTablesProps) {
    super(scope, id);
    const tables: Record<string, dynamodb.Table> = {};
    for (const [name, keys] of Object.entries(props.tables)) {
      tables[name] = new dynamodb.Table(this, name, {
        partitionKey: { name: keys.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(keys.sortKey
          ? { sortKey: { name: keys.sortKey, type: dynamodb.AttributeType.STRING } }
          : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        ...(props.warmThroughput ? { warmThroughput: props.warmThroughput } : {}),
        ...(keys.timeToLiveAttribute ? { timeToLiveAttribute: keys.timeToLiveAttribute } : {}),
      });
    }
    this.tables = tables;
  }
}
