/**
 * One Auto Scaling group of CallStack nodes: launch template (Debian 12 from its public SSM
 * parameter, IMDSv2 only, encrypted gp3 root, public address), a least-privilege role and the
 * boot user data. Media, SIP and TURN are all built from this.
 */
import { ArnFormat, Duration, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { sharedNames, type CallStackConfig } from './config.ts';
import { acknowledge } from './nag.ts';
import { agentUnits, nodeUserData, type NodeFile, type NodeKind } from './node/boot.ts';
import { artifactBucketName } from './shared-stack.ts';

/** Debian 12 as the tests run it; resolved by CloudFormation at deploy time, no lookup at synth. */
export const DEBIAN_12_AMI_PARAMETER = '/aws/service/debian/release/12/latest/amd64';
export const DRAIN_HOOK_NAME = 'callstack-drain';

type SecretKey = Parameters<typeof sharedNames.secret>[1];

export interface NodeGroupProps {
  readonly config: CallStackConfig;
  readonly kind: NodeKind;
  /** Group name suffix: the group is `<prefix>-<region>-<name>`. */
  readonly name: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly instanceType: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly topic: sns.ITopic;
  /** Public name of the node (or of its load balancer), reported in its registration. */
  readonly hostname?: string;
  /** Secrets the node reads besides the control secret (which signs its registration). */
  readonly secrets?: Partial<Record<SecretKey, string>>;
  readonly artifact?: 'media-fleet' | 'sip-edge';
  /** Scale-in lifecycle hook: the node drains, then completes the action itself. */
  readonly drain?: boolean;
  /** CloudWatch namespace the node's `callstack-node metrics` job publishes to. */
  readonly metricsNamespace?: string;
  readonly env?: Record<string, string>;
  readonly units: Record<string, string>;
  readonly files?: NodeFile[];
  readonly healthChecks?: autoscaling.HealthChecks;
  /** Instances replaced at once when the launch template changes. */
  readonly rollingBatch?: number;
}

export class NodeGroup extends Construct {
  readonly asg: autoscaling.AutoScalingGroup;
  readonly role: iam.Role;
  readonly groupName: string;

  constructor(scope: Construct, id: string, props: NodeGroupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    this.groupName = `${config.prefix}-${stack.region}-${props.name}`;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `CallStack ${props.kind} node (${this.groupName})`,
    });

    const secretEnv: Record<string, string> = {};
    const secrets: Partial<Record<SecretKey, string>> = { 'media-control-secret': 'CALLSTACK_CONTROL_SECRET_ID', ...props.secrets };
    for (const [key, envName] of Object.entries(secrets) as [SecretKey, string][]) {
      secretEnv[envName] = sharedNames.secret(config, key);
    }
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        // Secrets are replicated under the same name to every fleet region; "-??????" is Secrets Manager's suffix.
        resources: Object.values(secretEnv).map((name) =>
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${name}-??????`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );

    const artifactEnv: Record<string, string> = {};
    if (props.artifact) {
      const bucket = artifactBucketName(config);
      const key = sharedNames.artifactKey(config, props.artifact);
      Object.assign(artifactEnv, { CALLSTACK_ARTIFACT_BUCKET: bucket, CALLSTACK_ARTIFACT_KEY: key, CALLSTACK_ARTIFACT_REGION: config.primaryRegion });
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [`arn:${stack.partition}:s3:::${bucket}/${key}`],
        }),
      );
    }

    const userData = nodeUserData({
      kind: props.kind,
      env: {
        CALLSTACK_REGION: stack.region,
        CALLSTACK_EDGE_URL: config.edgeUrl,
        CALLSTACK_HOSTNAME: props.hostname ?? '',
        CALLSTACK_ASG_NAME: this.groupName,
        ...(props.drain && { CALLSTACK_DRAIN_HOOK: DRAIN_HOOK_NAME }),
        ...(props.metricsNamespace && { CALLSTACK_METRIC_NAMESPACE: props.metricsNamespace }),
        ...secretEnv,
        ...artifactEnv,
        ...props.env,
      },
      units: { ...props.units, ...agentUnits({ drain: props.drain === true, metrics: props.metricsNamespace !== undefined }) },
      files: props.files,
    });

    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.fromSsmParameter(DEBIAN_12_AMI_PARAMETER, { os: ec2.OperatingSystemType.LINUX }),
      instanceType: new ec2.InstanceType(props.instanceType),
      userData,
      role: this.role,
      securityGroup: props.securityGroup,
      associatePublicIpAddress: true,
      requireImdsv2: true,
      // Only the host itself reads metadata: no containers one hop further away.
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(config.volumeGiB, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
        },
      ],
    });

    this.asg = new autoscaling.AutoScalingGroup(this, 'Group', {
      autoScalingGroupName: this.groupName,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      launchTemplate,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      groupMetrics: [autoscaling.GroupMetrics.all()],
      healthChecks: props.healthChecks ?? autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(10) }),
      defaultInstanceWarmup: Duration.minutes(5),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: props.rollingBatch ?? 1,
        // CloudFormation needs MinInstancesInService below MaxSize.
        minInstancesInService: Math.min(props.minCapacity, props.maxCapacity - 1),
      }),
    });
    Tags.of(this.asg).add('Name', this.groupName);
    Tags.of(this.asg).add('callstack:kind', props.kind);
    Tags.of(this.asg).add('callstack:group', this.groupName);

    // Scaling events reach the (KMS-encrypted) topic through EventBridge; see the acknowledgement.
    new events.Rule(this, 'ScalingEvents', {
      description: `Launch and termination results of ${this.groupName}`,
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [
          'EC2 Instance Launch Successful',
          'EC2 Instance Launch Unsuccessful',
          'EC2 Instance Terminate Successful',
          'EC2 Instance Terminate Unsuccessful',
        ],
        detail: { AutoScalingGroupName: [this.groupName] },
      },
      targets: [new targets.SnsTopic(props.topic)],
    });
    acknowledge(
      this.asg,
      'AwsSolutions-AS3',
      'Scaling notifications go to the encrypted alarm topic through an EventBridge rule: native ASG notifications would need the Auto Scaling service-linked role in the KMS key policy, which cannot be written before that role exists in a new account.',
    );

    if (props.drain) this.addDrainHook(config);
    if (props.metricsNamespace) this.allowMetrics(props.metricsNamespace);
  }

  private addDrainHook(config: CallStackConfig) {
    this.asg.addLifecycleHook('Drain', {
      lifecycleHookName: DRAIN_HOOK_NAME,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      // After the drain timeout the node is removed anyway.
      defaultResult: autoscaling.DefaultResult.CONTINUE,
      heartbeatTimeout: Duration.minutes(config.drainTimeoutMinutes),
    });
    const stack = Stack.of(this);
    const groupArn = `arn:${stack.partition}:autoscaling:${stack.region}:${stack.account}:autoScalingGroup:*:autoScalingGroupName/${this.groupName}`;
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['autoscaling:CompleteLifecycleAction'], resources: [groupArn] }));
    acknowledge(
      this.role,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${stack.region}:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${this.groupName}]`,
      'The group ARN contains a UUID that CloudFormation does not expose; the name pins it to this one group.',
    );
  }

  private allowMetrics(namespace: string) {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
      }),
    );
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      `cloudwatch:PutMetricData has no resource-level permissions; the condition limits it to the ${namespace} namespace.`,
    );
  }
}
