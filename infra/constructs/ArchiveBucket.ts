import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REBUILDS_PREFIX } from '../../pipeline/aws/rebuildControl.js';

/**
 * Days the rebuilds' objects (each run's lists of files and segments, and its maps' results,
 * under `rebuilds/`) are kept: a run lasts two days at most, and a failed one can be redriven
 * within 14 days of its end, which reads them again.
 */
export const REBUILD_OBJECTS_DAYS = 30;

export interface ArchiveBucketProps {
  /** Encrypts the exports (SSE-KMS with an S3 bucket key, fewer KMS requests). */
  readonly key: kms.IKey;
  /**
   * Days after which an export moves to S3 Standard-IA (a minimum storage duration of 30
   * days). @default 30
   */
  readonly infrequentAfterDays?: number;
  /**
   * Days after which an export moves to S3 Glacier Instant Retrieval, read in milliseconds as
   * a rebuild needs (a minimum storage duration of 90 days); Flexible Retrieval and Deep
   * Archive would need a restore before a rebuild could read. @default 90
   */
  readonly glacierAfterDays?: number;
}

/**
 * The event archive: DynamoDB's exports of the events table to S3 (`matchstream archive
 * export --aws`), the durable, cheap copy of every event that rebuilds read. Encrypted with the
 * stack's key, TLS only, no public access, versioned (an export overwritten or deleted by
 * mistake can be brought back), moving to cheaper storage classes as it ages, retained with
 * the stack. Objects under 128 KB (the manifests) stay in S3 Standard: S3 does not move them
 * by default, and they are read on every rebuild.
 */
export class ArchiveBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);
    const infrequent = props.infrequentAfterDays ?? 30;
    const glacier = props.glacierAfterDays ?? 90;
    if (!(glacier >= infrequent + 30))
      throw new Error(
        `archive: Glacier Instant Retrieval after ${glacier} days comes too soon after Standard-IA at ${infrequent}: S3 needs 30 days between the two`,
      );
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(infrequent),
            },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(glacier),
            },
          ],
          // A version replaced or deleted is kept a while, then goes.
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          // The rebuilds' lists and maps' results (REBUILD_OBJECTS_DAYS).
          prefix: `${REBUILDS_PREFIX}/`,
          expiration: Duration.days(REBUILD_OBJECTS_DAYS),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only DynamoDB exports (run by an operator) write here and rebuilds read; CloudTrail records the API calls.',
    });
  }
}
