/**
 * Shared stack in the primary region: the artifact bucket the pipeline fills, and the platform
 * secrets (generated here, replicated under the same name to every fleet region).
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { logBucket, loggedBucket } from './buckets.ts';
import { sharedNames, type CallStackConfig } from './config.ts';
import { acknowledge } from './nag.ts';

/** Globally unique and derivable in every region's stack without a cross-region reference. */
export function artifactBucketName(config: CallStackConfig): string {
  return `${config.prefix}-artifacts-${Aws.ACCOUNT_ID}-${config.primaryRegion}`;
}

export interface SharedStackProps extends StackProps {
  readonly config: CallStackConfig;
}

export class SharedStack extends Stack {
  constructor(scope: Construct, id: string, props: SharedStackProps) {
    super(scope, id, props);
    const { config } = props;

    const logs = logBucket(this, 'AccessLogs');
    const artifacts = loggedBucket(this, 'Artifacts', logs, {
      bucketName: artifactBucketName(config),
      // Each node pulls <component>/<version>.tar.gz; versioning keeps what a running node booted from.
      versioned: true,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
    });

    const replicaRegions = config.regions.filter((r) => r.region !== config.primaryRegion).map((r) => ({ region: r.region }));
    const secret = (id: string, name: Parameters<typeof sharedNames.secret>[1], description: string) => {
      const s = new secretsmanager.Secret(this, id, {
        secretName: sharedNames.secret(config, name),
        description,
        // Plain strings (no JSON) so that `wrangler secret put` takes them as they are.
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        replicaRegions,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        s,
        'AwsSolutions-SMG4',
        'Rotation must update the Cloudflare Worker secret (wrangler secret put) and restart the nodes together; it is a runbook step in the README, not a rotation Lambda.',
      );
      new CfnOutput(this, `${id}Name`, { value: s.secretName, description });
    };
    secret('TurnSecret', 'turn-secret', 'coturn REST secret (TURN_SECRET of the edge)');
    secret('MediaControlSecret', 'media-control-secret', 'Media control API and node registration secret (MEDIA_CONTROL_SECRET of the edge)');
    secret('DatabaseUrl', 'database-url', 'Neon DATABASE_URL for the SIP edge; generated placeholder, set it with put-secret-value');

    new CfnOutput(this, 'ArtifactBucketName', {
      value: artifacts.bucketName,
      description: 'Upload media-fleet/<version>.tar.gz and sip-edge/<version>.tar.gz here',
    });
  }
}
