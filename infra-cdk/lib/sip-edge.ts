/**
 * SIP edge: Kamailio, rtpengine, drachtio-server and the gateway (sip-edge/src/main.ts) on nodes
 * that each have their own Elastic IP (the stable address trunk providers allow-list), in their own
 * single-instance Auto Scaling group, one per AZ.
 */
import { CfnOutput, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { hostNames, type CallStackConfig } from './config.ts';
import { acknowledge } from './nag.ts';
import { AGENT_DIR, nodeSource, serviceUnit, timerUnit } from './node/boot.ts';
import { NodeGroup } from './node-group.ts';
import { portRange, udpAndTcp } from './ports.ts';

export const SIP_NAMESPACE = 'CallStack/Sip';
/** The gateway's control API (the edge's signed deliveries; Kamailio's local calls), like media's. */
export const SIP_GATEWAY_PORT = 8443;

export interface SipEdgeProps {
  readonly config: CallStackConfig;
  readonly vpc: ec2.IVpc;
  readonly topic: sns.ITopic;
}

export interface SipNode {
  readonly nodes: NodeGroup;
  readonly eip: ec2.CfnEIP;
  readonly hostname: string;
}

export class SipEdge extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly nodes: SipNode[] = [];

  constructor(scope: Construct, id: string, props: SipEdgeProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'CallStack SIP edge: SIP, SIP over TLS and WSS, RTP, ACME HTTP-01, gateway control API from the edge only',
      allowAllOutbound: true,
    });
    for (const cidr of config.sip.allowedCidrs) udpAndTcp(this.securityGroup, ec2.Peer.ipv4(cidr), 5060, 'SIP');
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(5061), 'SIP over TLS');
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'SIP over WebSocket (WSS)');
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), "Let's Encrypt HTTP-01 for the node certificate");
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), portRange(config.sip.rtpPorts).udp, 'RTP/SRTP via rtpengine');
    for (const cidr of config.controlApiCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(SIP_GATEWAY_PORT), 'SIP gateway control API from the edge');
    }
    acknowledge(
      this.securityGroup,
      'AwsSolutions-EC23',
      'A public SIP edge: phones, browsers (WSS) and trunks connect from the Internet, and RTP flows to and from any peer; the gateway control API is limited to the edge ranges.',
    );

    // Start order: rtpengine, drachtio-server, the gateway (connects to both), then Kamailio (calls
    // the gateway's HTTP API for every digest). drachtio and the gateway need no root: user callstack.
    const units = {
      'callstack-rtpengine.service': serviceUnit({
        description: 'rtpengine (userspace) for the CallStack SIP edge',
        exec: '/usr/bin/rtpengine --foreground --config-file=/etc/callstack/rtpengine.conf',
        restart: true,
        limitNoFile: 1048576,
      }),
      'callstack-drachtio.service': serviceUnit({
        description: 'drachtio-server (SIP stack of the CallStack gateway)',
        exec: '/usr/local/bin/drachtio -f /etc/callstack/drachtio.conf.xml --disable-nat-detection',
        user: 'callstack',
        after: ['callstack-rtpengine.service'],
        restart: true,
        limitNoFile: 1048576,
        hardened: true,
      }),
      // As on the media nodes: the artifact's Node runtime, from /opt/callstack (tsx resolves there).
      'callstack-sip-gateway.service': serviceUnit({
        description: 'CallStack SIP gateway (drachtio-srf app)',
        exec: '/opt/callstack/runtime/bin/node --import tsx sip-edge/src/main.ts',
        user: 'callstack',
        workingDirectory: '/opt/callstack',
        environmentFiles: ['/etc/callstack/sip-gateway.env'],
        after: ['callstack-rtpengine.service', 'callstack-drachtio.service'],
        restart: true,
        limitNoFile: 65536,
        hardened: true,
        // Voicemail messages (SIP_GATEWAY_VOICEMAIL_DIR's default, /var/lib/callstack/voicemail).
        stateDirectory: 'callstack/voicemail',
      }),
      // Kamailio binds 443 and 5060 as root, then drops to the kamailio user itself (-u/-g). Its
      // config imports kamailio-local.cfg relative to the working directory.
      'callstack-kamailio.service': serviceUnit({
        description: 'Kamailio SIP proxy for the CallStack SIP edge',
        exec: '/usr/sbin/kamailio -DD -E -u kamailio -g kamailio -m 256 -M 16 -f /opt/callstack/sip-edge/kamailio/kamailio.cfg',
        workingDirectory: '/etc/callstack',
        after: ['callstack-rtpengine.service', 'callstack-drachtio.service', 'callstack-sip-gateway.service'],
        restart: true,
        limitNoFile: 1048576,
      }),
      'callstack-sip-cert.service': serviceUnit({
        description: "Let's Encrypt certificate for this SIP node",
        exec: `${AGENT_DIR}/sip-cert.sh`,
        type: 'oneshot',
      }),
      'callstack-sip-cert.timer': timerUnit('Obtain or renew the SIP node certificate', 3600),
    };

    props.vpc.publicSubnets.slice(0, config.sip.nodes).forEach((subnet, index) => {
      const name = `sip-${index + 1}`;
      const hostname = hostNames.sip(config, stack.region, index);
      const eip = new ec2.CfnEIP(this, `Eip${index + 1}`, { domain: 'vpc', tags: [{ key: 'Name', value: `${config.prefix}-${stack.region}-${name}` }] });
      const nodes = new NodeGroup(this, `Node${index + 1}`, {
        config,
        kind: 'sip',
        name,
        vpc: props.vpc,
        subnets: { subnets: [subnet] },
        securityGroup: this.securityGroup,
        instanceType: config.sip.instanceType,
        minCapacity: 1,
        maxCapacity: 1,
        topic: props.topic,
        hostname,
        secrets: { 'database-url': 'CALLSTACK_DATABASE_SECRET_ID' },
        artifact: 'sip-edge',
        drain: true,
        metricsNamespace: SIP_NAMESPACE,
        env: {
          CALLSTACK_EIP: eip.ref,
          CALLSTACK_EIP_ALLOCATION: eip.attrAllocationId,
          CALLSTACK_RTP_MIN_PORT: String(config.sip.rtpPorts.min),
          CALLSTACK_RTP_MAX_PORT: String(config.sip.rtpPorts.max),
          CALLSTACK_SIP_REALM: config.sip.realm,
          CALLSTACK_GATEWAY_PORT: String(SIP_GATEWAY_PORT),
        },
        units,
        files: [{ path: `${AGENT_DIR}/sip-cert.sh`, content: nodeSource('sip-cert.sh'), mode: '0755' }],
      });
      Tags.of(nodes.asg).add('callstack:node', name);
      this.allowAssociate(nodes, eip, name);
      this.nodes.push({ nodes, eip, hostname });
      new CfnOutput(stack, `SipNode${index + 1}`, {
        value: eip.ref,
        description: `Elastic IP of ${hostname}: point its A record here and give it to trunk providers`,
      });
    });
  }

  /** The node moves its own Elastic IP onto itself at boot, and only onto an instance of its group. */
  private allowAssociate(nodes: NodeGroup, eip: ec2.CfnEIP, name: string) {
    const stack = Stack.of(this);
    nodes.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:AssociateAddress'],
        resources: [stack.formatArn({ service: 'ec2', resource: 'elastic-ip', resourceName: eip.attrAllocationId })],
      }),
    );
    nodes.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:AssociateAddress'],
        resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
        conditions: { StringEquals: { 'aws:ResourceTag/callstack:node': name, 'aws:ResourceTag/callstack:group': nodes.groupName } },
      }),
    );
    acknowledge(
      nodes.role,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${stack.region}:<AWS::AccountId>:instance/*]`,
      'Instance IDs are not known before launch; the tag condition limits the association to instances of this node group.',
    );
  }
}
