/** One region's fleet: network, media nodes, SIP edge, TURN, alarms and dashboard. */
import { CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { logBucket } from './buckets.ts';
import type { CallStackConfig, RegionConfig } from './config.ts';
import { MediaFleet } from './media-fleet.ts';
import { acknowledge } from './nag.ts';
import { Network } from './network.ts';
import { Observability } from './observability.ts';
import { SipEdge } from './sip-edge.ts';
import { Turn } from './turn.ts';

export interface FleetStackProps extends StackProps {
  readonly config: CallStackConfig;
  readonly region: RegionConfig;
}

export class FleetStack extends Stack {
  readonly media: MediaFleet;
  readonly sip: SipEdge;
  readonly turn: Turn;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, { ...props, env: { ...props.env, region: props.region.region } });
    const { config } = props;
    Tags.of(this).add('callstack:region', props.region.region);

    const logs = logBucket(this, 'Logs');
    acknowledge(
      logs,
      'AwsSolutions-S1',
      'This bucket is the log sink (flow logs, NLB access logs) and holds no data of its own to audit; logging it would need yet another bucket.',
    );
    const { vpc } = new Network(this, 'Network', { cidr: config.vpcCidr, availabilityZones: props.region.availabilityZones, flowLogBucket: logs });
    this.observability = new Observability(this, 'Observability', { config });
    const topic = this.observability.topic;

    this.sip = new SipEdge(this, 'SipEdge', { config, vpc, topic });
    this.media = new MediaFleet(this, 'MediaFleet', { config, vpc, topic });
    this.media.allowControlFrom(this.sip.securityGroup);
    this.turn = new Turn(this, 'Turn', { config, region: props.region, vpc, topic, accessLogs: logs });
    this.observability.watch({ media: this.media, sip: this.sip, turn: this.turn });

    new CfnOutput(this, 'AlarmTopic', { value: topic.topicArn });
  }
}
