/**
 * TURN: coturn nodes behind an internet-facing NLB (TURN over UDP/TCP 3478, TURN over TLS on 5349
 * and 443 terminated at the NLB with an ACM certificate). Relayed media goes straight to each
 * node's public address, so the nodes sit in public subnets with the relay range open.
 */
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { hostNames, type CallStackConfig, type RegionConfig } from './config.ts';
import { acknowledge } from './nag.ts';
import { serviceUnit } from './node/boot.ts';
import { renderTurnserverConf } from './node/turnserver.ts';
import { NodeGroup } from './node-group.ts';
import { portRange, udpAndTcp } from './ports.ts';

export const TURN_PORT = 3478;
export const TURN_TLS_PORTS = [5349, 443];

export interface TurnProps {
  readonly config: CallStackConfig;
  readonly region: RegionConfig;
  readonly vpc: ec2.IVpc;
  readonly topic: sns.ITopic;
  readonly accessLogs: s3.IBucket;
}

export class Turn extends Construct {
  readonly nodes: NodeGroup;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly targetGroups: elbv2.NetworkTargetGroup[];
  readonly hostname: string;

  constructor(scope: Construct, id: string, props: TurnProps) {
    super(scope, id);
    const { config } = props;
    const turn = config.turn;
    this.hostname = hostNames.turn(config, Stack.of(this).region);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'CallStack TURN nodes: TURN from clients (through the NLB, client IP preserved) and relayed UDP',
      allowAllOutbound: true,
    });
    udpAndTcp(securityGroup, ec2.Peer.anyIpv4(), TURN_PORT, 'TURN');
    securityGroup.addIngressRule(ec2.Peer.anyIpv4(), portRange(turn.relayPorts).udp, 'TURN relayed media');
    acknowledge(
      securityGroup,
      'AwsSolutions-EC23',
      'TURN serves clients behind any NAT and relays to any public peer; private peers are denied by coturn (denied-peer-ip).',
    );

    this.nodes = new NodeGroup(this, 'Nodes', {
      config,
      kind: 'turn',
      name: 'turn',
      vpc: props.vpc,
      subnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup,
      instanceType: turn.instanceType,
      minCapacity: turn.minCapacity,
      maxCapacity: turn.maxCapacity,
      topic: props.topic,
      hostname: this.hostname,
      secrets: { 'turn-secret': 'CALLSTACK_TURN_SECRET_ID' },
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(10),
      }),
      units: {
        'callstack-coturn.service': serviceUnit({
          description: 'coturn TURN server for CallStack',
          exec: '/usr/bin/turnserver -c /etc/callstack/turnserver.conf --pidfile=',
          user: 'turnserver',
          restart: true,
          limitNoFile: 1048576,
        }),
      },
      files: [
        { path: '/etc/callstack/turnserver.conf.in', content: renderTurnserverConf({ realm: config.domain, relayPorts: turn.relayPorts }), mode: '0644' },
      ],
    });
    this.nodes.asg.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: turn.targetCpuPercent });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      crossZoneEnabled: true,
    });
    this.loadBalancer.logAccessLogs(props.accessLogs, 'turn-nlb');

    const healthCheck = { protocol: elbv2.Protocol.TCP, port: String(TURN_PORT), interval: Duration.seconds(10) };
    const udpTcp = new elbv2.NetworkTargetGroup(this, 'TurnTargets', {
      vpc: props.vpc,
      port: TURN_PORT,
      protocol: elbv2.Protocol.TCP_UDP,
      targets: [this.nodes.asg],
      healthCheck,
      deregistrationDelay: Duration.seconds(30),
    });
    const tls = new elbv2.NetworkTargetGroup(this, 'TurnTlsTargets', {
      vpc: props.vpc,
      port: TURN_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [this.nodes.asg],
      healthCheck,
      deregistrationDelay: Duration.seconds(30),
    });
    this.targetGroups = [udpTcp, tls];
    this.loadBalancer.addListener('Turn', { port: TURN_PORT, protocol: elbv2.Protocol.TCP_UDP, defaultTargetGroups: [udpTcp] });

    const certificate = props.region.turnCertificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.region.turnCertificateArn)
      : // DNS validation: the deploy waits until the CNAME that ACM shows is added to the domain's DNS.
        new acm.Certificate(this, 'Certificate', { domainName: this.hostname, validation: acm.CertificateValidation.fromDns() });
    for (const port of TURN_TLS_PORTS) {
      this.loadBalancer.addListener(`TurnTls${port}`, {
        port,
        protocol: elbv2.Protocol.TLS,
        certificates: [elbv2.ListenerCertificate.fromCertificateManager(certificate)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [tls],
      });
    }

    new CfnOutput(Stack.of(this), 'TurnLoadBalancer', {
      value: this.loadBalancer.loadBalancerDnsName,
      description: `Point ${this.hostname} (CNAME, DNS only) here`,
    });
  }
}
