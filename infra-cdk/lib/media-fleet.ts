/**
 * Media fleet: mediasoup nodes (media-fleet service) in an Auto Scaling group that tracks
 * ConsumersPerWorker (CallStack/Media) and CPU, and drains each node before scale-in removes it.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { CallStackConfig } from './config.ts';
import { acknowledge } from './nag.ts';
import { NodeGroup } from './node-group.ts';
import { serviceUnit } from './node/boot.ts';
import { portRange } from './ports.ts';

export const MEDIA_NAMESPACE = 'CallStack/Media';
export const MEDIA_CONTROL_PORT = 8443;

export interface MediaFleetProps {
  readonly config: CallStackConfig;
  readonly vpc: ec2.IVpc;
  readonly topic: sns.ITopic;
}

export class MediaFleet extends Construct {
  readonly nodes: NodeGroup;
  readonly securityGroup: ec2.SecurityGroup;
  readonly consumersPerWorker: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: MediaFleetProps) {
    super(scope, id);
    const { config } = props;
    const media = config.media;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'CallStack media nodes: WebRTC from anywhere, control API from the edge only',
      allowAllOutbound: true,
    });
    const rtc = portRange(media.rtcPorts);
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), rtc.udp, 'WebRTC media (UDP)');
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), rtc.tcp, 'WebRTC media (TCP fallback)');
    for (const cidr of config.controlApiCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(MEDIA_CONTROL_PORT), 'Control API from the edge');
    }
    acknowledge(
      this.securityGroup,
      'AwsSolutions-EC23',
      'WebRTC clients connect from any address to the RTC port range; the control API is limited to the edge ranges and the SIP edge.',
    );

    this.nodes = new NodeGroup(this, 'Nodes', {
      config,
      kind: 'media',
      name: 'media',
      vpc: props.vpc,
      subnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.securityGroup,
      instanceType: media.instanceType,
      minCapacity: media.minCapacity,
      maxCapacity: media.maxCapacity,
      topic: props.topic,
      artifact: 'media-fleet',
      drain: true,
      metricsNamespace: MEDIA_NAMESPACE,
      rollingBatch: Math.max(1, Math.ceil(media.maxCapacity / 4)),
      env: { CALLSTACK_RTC_MIN_PORT: String(media.rtcPorts.min), CALLSTACK_RTC_MAX_PORT: String(media.rtcPorts.max) },
      units: {
        'callstack-media.service': serviceUnit({
          description: 'CallStack media-fleet (mediasoup) node',
          exec: '/opt/callstack/runtime/bin/node media-fleet/dist/server.js',
          user: 'callstack',
          workingDirectory: '/opt/callstack',
          environmentFiles: ['/etc/callstack/media.env'],
          restart: true,
          // mediasoup holds a socket per transport.
          limitNoFile: 1048576,
          hardened: true,
        }),
      },
    });

    this.consumersPerWorker = new cloudwatch.Metric({
      namespace: MEDIA_NAMESPACE,
      metricName: 'ConsumersPerWorker',
      dimensionsMap: { AutoScalingGroupName: this.nodes.groupName },
      statistic: 'Average',
    });
    this.nodes.asg.scaleToTrackMetric('ConsumersPerWorker', { metric: this.consumersPerWorker, targetValue: media.targetConsumersPerWorker });
    this.nodes.asg.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: media.targetCpuPercent });
  }

  /** Lets a same-VPC client (the SIP edge) reach the control API over private addresses. */
  allowControlFrom(peer: ec2.IConnectable) {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(MEDIA_CONTROL_PORT), 'Control API from the SIP edge');
  }
}
