/**
 * Public-subnet-only VPC over two or more AZs. Every node needs a public address anyway (media and
 * RTP go straight to clients), so nothing needs a NAT gateway; flow logs go to the log bucket.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface NetworkProps {
  readonly cidr: string;
  /** Explicit AZs keep synth lookup-free for env-specific stacks; otherwise the region's first two. */
  readonly availabilityZones?: string[];
  readonly flowLogBucket: s3.IBucket;
}

export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      ...(props.availabilityZones ? { availabilityZones: props.availabilityZones } : { maxAzs: 2 }),
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toS3(props.flowLogBucket, 'vpc-flow-logs/'),
          trafficType: ec2.FlowLogTrafficType.ALL,
          maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.TEN_MINUTES,
        },
      },
    });
  }
}
