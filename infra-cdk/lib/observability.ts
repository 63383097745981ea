/**
 * Per-region alarms, dashboard and the KMS-encrypted notification topic they (and the scaling
 * events) publish to.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { CallStackConfig } from './config.ts';
import { MEDIA_NAMESPACE, type MediaFleet } from './media-fleet.ts';
import type { NodeGroup } from './node-group.ts';
import { SIP_NAMESPACE, type SipEdge } from './sip-edge.ts';
import type { Turn } from './turn.ts';

export interface ObservabilityProps {
  readonly config: CallStackConfig;
}

export interface WatchedFleet {
  readonly media: MediaFleet;
  readonly sip: SipEdge;
  readonly turn: Turn;
}

const MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly config: CallStackConfig;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.config = props.config;
    const key = new kms.Key(this, 'TopicKey', {
      description: 'CallStack notification topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms and EventBridge publish to the encrypted topic with these two operations
    // (in a key policy, "*" means this key).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'CallStack alarms', masterKey: key, enforceSSL: true });
    if (props.config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.config.alarmEmail));
  }

  /** Alarms on node count, CPU, media load and SIP failures, and a dashboard of the same. */
  watch(fleet: WatchedFleet) {
    const { media, sip, turn } = fleet;
    const groups: [string, NodeGroup, number][] = [
      ['Media', media.nodes, this.config.media.minCapacity],
      ...sip.nodes.map((n, i): [string, NodeGroup, number] => [`Sip${i + 1}`, n.nodes, 1]),
      ['Turn', turn.nodes, this.config.turn.minCapacity],
    ];
    for (const [name, group, min] of groups) {
      this.alarm(`${name}NodesBelowMinimum`, inService(group), {
        threshold: min,
        below: true,
        periods: 5,
        what: `${group.groupName} has fewer in-service nodes than its minimum`,
      });
      this.alarm(`${name}CpuHigh`, cpu(group), { threshold: 85, periods: 10, what: `${group.groupName} CPU above 85% for 10 minutes` });
    }
    const media100 = Math.round(this.config.media.targetConsumersPerWorker * 1.5);
    this.alarm('MediaOverloaded', media.consumersPerWorker.with({ period: MINUTE }), {
      threshold: media100,
      periods: 10,
      what: `ConsumersPerWorker above ${media100} for 10 minutes: the fleet is not keeping up (check maxCapacity)`,
    });
    this.alarm('MediaAtMaxCapacity', inService(media.nodes), {
      threshold: this.config.media.maxCapacity,
      periods: 15,
      orEqual: true,
      what: 'The media fleet has run at maxCapacity for 15 minutes',
    });
    const sipFailures = sip.nodes.map((n) => nodeMetric(SIP_NAMESPACE, 'SipFailures', n.nodes, 'Sum', FIVE_MINUTES));
    const sipFailureTotal = new cloudwatch.MathExpression({
      expression: sipFailures.map((_, i) => `FILL(f${i}, 0)`).join(' + '),
      usingMetrics: Object.fromEntries(sipFailures.map((m, i) => [`f${i}`, m])),
      label: 'SIP 5xx/6xx replies',
      period: FIVE_MINUTES,
    });
    this.alarm('SipFailures', sipFailureTotal, { threshold: 50, periods: 2, what: 'More than 50 SIP 5xx/6xx replies per 5 minutes' });
    turn.targetGroups.forEach((tg, i) => {
      this.alarm(`TurnUnhealthyTargets${i + 1}`, tg.metrics.unHealthyHostCount({ period: MINUTE, statistic: 'Maximum' }), {
        threshold: 0,
        periods: 5,
        what: `TURN NLB target group ${i + 1} has unhealthy targets`,
      });
    });

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.config.prefix}-${Stack.of(this).region}`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      graph(
        'Nodes in service',
        groups.map(([, g]) => inService(g)),
      ),
      graph(
        'CPU utilization (%)',
        groups.map(([, g]) => cpu(g)),
      ),
    );
    dashboard.addWidgets(
      graph(
        'Media consumers per worker',
        [media.consumersPerWorker.with({ period: MINUTE })],
        [{ value: this.config.media.targetConsumersPerWorker, label: 'scaling target' }],
      ),
      graph(
        'Media peers and rooms',
        ['Peers', 'Rooms'].map((m) => nodeMetric(MEDIA_NAMESPACE, m, media.nodes, 'Sum')),
      ),
    );
    dashboard.addWidgets(
      graph('SIP failures (5xx/6xx per 5 min)', [sipFailureTotal]),
      graph(
        'SIP active calls',
        sip.nodes.map((n) => nodeMetric(SIP_NAMESPACE, 'ActiveCalls', n.nodes, 'Maximum')),
      ),
      graph('TURN flows', [turn.loadBalancer.metrics.activeFlowCount({ period: MINUTE })]),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }

  private alarm(id: string, metric: cloudwatch.IMetric, o: { threshold: number; periods: number; what: string; below?: boolean; orEqual?: boolean }) {
    const comparison = o.below
      ? cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
      : o.orEqual
        ? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: o.threshold,
      evaluationPeriods: o.periods,
      comparisonOperator: comparison,
      alarmDescription: o.what,
      // A group that reports nothing has no nodes: that is the node-count alarm's business.
      treatMissingData: o.below ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

function inService(group: NodeGroup): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName: 'GroupInServiceInstances',
    statistic: 'Minimum',
    period: MINUTE,
    dimensionsMap: { AutoScalingGroupName: group.groupName },
    label: group.groupName,
  });
}

function cpu(group: NodeGroup): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/EC2',
    metricName: 'CPUUtilization',
    statistic: 'Average',
    period: MINUTE,
    dimensionsMap: { AutoScalingGroupName: group.groupName },
    label: group.groupName,
  });
}

function nodeMetric(namespace: string, metricName: string, group: NodeGroup, statistic: string, period = MINUTE): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace,
    metricName,
    statistic,
    period,
    dimensionsMap: { AutoScalingGroupName: group.groupName },
    label: `${metricName} ${group.groupName}`,
  });
}

function graph(title: string, left: cloudwatch.IMetric[], leftAnnotations?: cloudwatch.HorizontalAnnotation[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, leftAnnotations, width: 8, height: 6 });
}
