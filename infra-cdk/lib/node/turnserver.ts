/**
 * turnserver.conf for coturn behind the NLB. @PUBLIC_IP@ and @PRIVATE_IP@ are filled in on the
 * node at boot; the node appends static-auth-secret from Secrets Manager.
 */
import type { PortRange } from '../config.ts';

/** Peers a relay may never reach: "this" network, private ranges, loopback, link-local (IMDS). */
export const DENIED_PEER_RANGES = [
  '0.0.0.0-0.255.255.255', // 0/8
  '10.0.0.0-10.255.255.255', // 10/8
  '127.0.0.0-127.255.255.255', // 127/8
  '169.254.0.0-169.254.255.255', // 169.254/16
  '172.16.0.0-172.31.255.255', // 172.16/12
  '192.168.0.0-192.168.255.255', // 192.168/16
];

export interface TurnServerOptions {
  readonly realm: string;
  readonly relayPorts: PortRange;
}

export function renderTurnserverConf(o: TurnServerOptions): string {
  return [
    // TLS is terminated by the NLB (5349 and 443 forward to 3478/TCP), so coturn speaks plain TURN.
    'listening-port=3478',
    'listening-ip=@PRIVATE_IP@',
    'relay-ip=@PRIVATE_IP@',
    'external-ip=@PUBLIC_IP@/@PRIVATE_IP@',
    `min-port=${o.relayPorts.min}`,
    `max-port=${o.relayPorts.max}`,
    'no-tls',
    'no-dtls',
    `realm=${o.realm}`,
    // TURN REST credentials: username "expiry:user", password base64(HMAC-SHA1(secret, username)).
    'use-auth-secret',
    'fingerprint',
    'stale-nonce=600',
    'no-multicast-peers',
    ...DENIED_PEER_RANGES.map((range) => `denied-peer-ip=${range}`),
    'no-tcp-relay',
    'no-cli',
    'no-software-attribute',
    'user-quota=12',
    'total-quota=12000',
    'syslog',
    'simple-log',
    '',
  ].join('\n');
}
