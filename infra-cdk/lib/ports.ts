/** Port-range helpers shared by the node security groups. */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { PortRange } from './config.ts';

export function portRange(range: PortRange) {
  return { udp: ec2.Port.udpRange(range.min, range.max), tcp: ec2.Port.tcpRange(range.min, range.max) };
}

/** The same port over UDP and TCP (SIP 5060, TURN 3478). */
export function udpAndTcp(sg: ec2.SecurityGroup, peer: ec2.IPeer, port: number, description: string) {
  sg.addIngressRule(peer, ec2.Port.udp(port), `${description} (UDP)`);
  sg.addIngressRule(peer, ec2.Port.tcp(port), `${description} (TCP)`);
}
