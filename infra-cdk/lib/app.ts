/** Builds the CDK app from a config: the shared stack plus one fleet stack per region, checked by cdk-nag. */
import { App, Tags, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CallStackConfig } from './config.ts';
import { FleetStack } from './fleet-stack.ts';
import { SharedStack } from './shared-stack.ts';

export interface CallStackApp {
  readonly app: App;
  readonly shared: SharedStack;
  readonly fleets: FleetStack[];
}

/** Feature flags this app is written against (the CLI's -c values still win). */
export const FEATURE_FLAGS = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-ec2:uniqueImdsv2TemplateName': true,
  '@aws-cdk/aws-ec2:ebsDefaultGp3Volume': true,
  '@aws-cdk/core:checkSecretUsage': true,
};

export function buildApp(config: CallStackConfig, props: AppProps = {}): CallStackApp {
  const app = new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } });
  const shared = new SharedStack(app, `${config.prefix}-shared`, {
    env: { region: config.primaryRegion },
    config,
    description: 'CallStack shared: artifact bucket and platform secrets (replicated to the fleet regions)',
  });
  const fleets = config.regions.map((region) => {
    const fleet = new FleetStack(app, `${config.prefix}-fleet-${region.region}`, {
      config,
      region,
      description: `CallStack fleet in ${region.region}: media nodes, SIP edge, TURN`,
    });
    // Nodes read the secrets' replicas and the artifact bucket at boot.
    fleet.addStackDependency(shared);
    return fleet;
  });
  Tags.of(app).add('project', config.prefix);
  // cdk-nag 3 runs as a policy-validation plugin: any unacknowledged error fails synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, shared, fleets };
}
