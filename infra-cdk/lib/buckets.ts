/** S3 buckets with the project's baseline: SSE-S3, no public access, TLS 1.2+ only, owner-enforced. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

function baseline(scope: Construct, id: string, props: s3.BucketProps): s3.Bucket {
  return new s3.Bucket(scope, id, {
    // SSE-S3 rather than KMS: NLB access logs and flow logs can only be delivered to SSE-S3 buckets.
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    removalPolicy: RemovalPolicy.RETAIN,
    ...props,
  });
}

/** Sink for S3 access logs, NLB access logs and VPC flow logs; expires after 90 days. */
export function logBucket(scope: Construct, id: string): s3.Bucket {
  return baseline(scope, id, { lifecycleRules: [{ expiration: Duration.days(90) }] });
}

/** A bucket whose own accesses are logged to `accessLogs`. */
export function loggedBucket(scope: Construct, id: string, accessLogs: s3.IBucket, props: s3.BucketProps = {}): s3.Bucket {
  return baseline(scope, id, { serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: `s3/${id}/`, ...props });
}
