import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface FailureBucketProps {
  /** Encrypts the objects (SSE-KMS with an S3 bucket key, fewer KMS requests). */
  readonly key: kms.IKey;
  /** How long an invocation record is kept. @default 30 days */
  readonly keep?: Duration;
}

/**
 * The on-failure destination of the stream consumers: Lambda writes each batch a mapping gives
 * up on to it as an invocation record with the whole event (an SQS destination would get only
 * shard and sequence pointers, unreadable once the stream's retention passes). Encrypted with
 * the stack's key, TLS only, no public access, objects expiring after `keep`. Retained with the
 * stack (what it holds is what processing lost; emptied by its lifecycle rule meanwhile).
 */
export class FailureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: FailureBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: props.keep ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "Only Lambda writes here (the mappings' on-failure records) and operators read it; its writes are counted by request metrics and alarmed on, and CloudTrail records the API calls.",
    });
  }
}
