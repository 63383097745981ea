/**
 * Typed deployment configuration: defaults, overrides from a JSON file and CDK context, and
 * validation. Everything a stack needs comes from here, so synth never looks anything up.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface RegionConfig {
  readonly region: string;
  /** Explicit AZs keep synth lookup-free; without them the stack uses its region's first two. */
  readonly availabilityZones?: string[];
  /** An existing ACM certificate for turn.<region>.<domain>; otherwise one is requested (DNS validation). */
  readonly turnCertificateArn?: string;
}

export interface MediaConfig {
  readonly instanceType: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly rtcPorts: PortRange;
  /** Target of the target-tracking policy on CallStack/Media ConsumersPerWorker. */
  readonly targetConsumersPerWorker: number;
  /** Safety net: mediasoup is CPU-bound, so CPU also scales the fleet out. */
  readonly targetCpuPercent: number;
}

export interface SipConfig {
  readonly instanceType: string;
  /** One node (own Elastic IP and Auto Scaling group) per entry, each in the AZ of that index. */
  readonly nodes: number;
  readonly rtpPorts: PortRange;
  /** Who may send SIP on 5060 (trunk providers, phones). */
  readonly allowedCidrs: string[];
  /** The SIP domain phones register in: must equal the edge's SIP_REALM (its default is this one's). */
  readonly realm: string;
}

export interface TurnConfig {
  readonly instanceType: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly relayPorts: PortRange;
  readonly targetCpuPercent: number;
}

export interface CallStackConfig {
  /** Prefix of stack names, secret names, bucket names and tags. */
  readonly prefix: string;
  /** Region of the shared stack (artifact bucket, primary copy of the secrets). */
  readonly primaryRegion: string;
  readonly regions: RegionConfig[];
  /** Public DNS domain; nodes are sip-N.<region>.<domain> and turn.<region>.<domain>. */
  readonly domain: string;
  /** The edge (Cloudflare Worker) base URL; nodes register at {edgeUrl}/api/fleet/nodes. */
  readonly edgeUrl: string;
  /** Object names under the artifact bucket: media-fleet/<version>.tar.gz, sip-edge/<version>.tar.gz. */
  readonly artifactVersion: string;
  /** CIDRs allowed to reach the media control API (TCP 8443) over the Internet: the edge's egress. */
  readonly controlApiCidrs: string[];
  readonly alarmEmail?: string;
  /** How long a terminating media or SIP node may drain before it is removed anyway (lifecycle heartbeat). */
  readonly drainTimeoutMinutes: number;
  readonly vpcCidr: string;
  readonly volumeGiB: number;
  readonly media: MediaConfig;
  readonly sip: SipConfig;
  readonly turn: TurnConfig;
}

/** Cloudflare's published IPv4 ranges (cloudflare.com/ips): where the edge Worker's requests come from. */
export const CLOUDFLARE_IPV4 = [
  '173.245.48.0/20',
  '103.21.244.0/22',
  '103.22.200.0/22',
  '103.31.4.0/22',
  '141.101.64.0/18',
  '108.162.192.0/18',
  '190.93.240.0/20',
  '188.114.96.0/20',
  '197.234.240.0/22',
  '198.41.128.0/17',
  '162.158.0.0/15',
  '104.16.0.0/13',
  '104.24.0.0/14',
  '172.64.0.0/13',
  '131.0.72.0/22',
];

export const DEFAULT_CONFIG: CallStackConfig = {
  prefix: 'callstack',
  primaryRegion: 'eu-west-1',
  regions: [{ region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'] }],
  domain: 'callstack.example.com',
  edgeUrl: 'https://callstack-edge.example.workers.dev',
  artifactVersion: 'latest',
  controlApiCidrs: CLOUDFLARE_IPV4,
  drainTimeoutMinutes: 60,
  vpcCidr: '10.40.0.0/16',
  volumeGiB: 16,
  media: {
    instanceType: 'c6i.xlarge',
    minCapacity: 2,
    maxCapacity: 20,
    rtcPorts: { min: 40000, max: 49999 },
    targetConsumersPerWorker: 300,
    targetCpuPercent: 60,
  },
  sip: {
    instanceType: 'c6i.large',
    nodes: 2,
    rtpPorts: { min: 30000, max: 39999 },
    allowedCidrs: ['0.0.0.0/0'],
    realm: 'sip.callstack.local',
  },
  turn: {
    instanceType: 'c6i.large',
    minCapacity: 2,
    maxCapacity: 10,
    relayPorts: { min: 49152, max: 65535 },
    targetCpuPercent: 60,
  },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type ConfigInput = DeepPartial<CallStackConfig>;

/** Reads a context value the way the CLI passes it (`-c key=value` is always a string). */
export type ContextReader = (key: string) => unknown;

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const DOMAIN = /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/;
// Values end up in shell heredocs and env files on the nodes: keep them to a safe alphabet.
const SAFE_VALUE = /^[A-Za-z0-9._~:/@+=-]+$/;

/**
 * Builds the configuration: defaults, then the JSON file named by context `config`, then single
 * context keys (regions, edgeUrl, domain, artifactVersion, alarmEmail, *InstanceType).
 */
export function loadConfig(context: ContextReader, cwd = process.cwd()): CallStackConfig {
  const file = context('config');
  const fromFile = typeof file === 'string' ? (JSON.parse(readFileSync(resolve(cwd, file), 'utf8')) as ConfigInput) : {};
  return resolveConfig(mergeConfig(fromFile, contextOverrides(context)));
}

function contextOverrides(context: ContextReader): ConfigInput {
  const str = (key: string): string | undefined => {
    const value = context(key);
    return value === undefined ? undefined : String(value);
  };
  const regions = context('regions');
  const out: ConfigInput = {
    ...(regions !== undefined && { regions: parseRegions(regions) }),
    ...(str('primaryRegion') !== undefined && { primaryRegion: str('primaryRegion') }),
    ...(str('edgeUrl') !== undefined && { edgeUrl: str('edgeUrl') }),
    ...(str('domain') !== undefined && { domain: str('domain') }),
    ...(str('artifactVersion') !== undefined && { artifactVersion: str('artifactVersion') }),
    ...(str('alarmEmail') !== undefined && { alarmEmail: str('alarmEmail') }),
    ...(str('mediaInstanceType') !== undefined && { media: { instanceType: str('mediaInstanceType') } }),
    ...(str('sipInstanceType') !== undefined && { sip: { instanceType: str('sipInstanceType') } }),
    ...(str('turnInstanceType') !== undefined && { turn: { instanceType: str('turnInstanceType') } }),
  };
  return out;
}

/** `-c regions=eu-west-1,us-east-1` or a JSON array of names or RegionConfig objects. */
function parseRegions(value: unknown): RegionConfig[] {
  const list =
    typeof value === 'string' && !value.trim().startsWith('[')
      ? value
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean)
      : typeof value === 'string'
        ? JSON.parse(value)
        : value;
  if (!Array.isArray(list)) throw new Error('config: regions must be a list');
  return list.map((r: unknown) => (typeof r === 'string' ? { region: r } : (r as RegionConfig)));
}

export function mergeConfig(...layers: ConfigInput[]): ConfigInput {
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a };
    for (const [key, value] of Object.entries(b)) {
      const prev = out[key];
      out[key] = isPlainObject(prev) && isPlainObject(value) ? merge(prev, value) : value;
    }
    return out;
  };
  return layers.reduce<Record<string, unknown>>((acc, layer) => merge(acc, layer as Record<string, unknown>), {}) as ConfigInput;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies defaults and validates; throws one error listing every problem. */
export function resolveConfig(input: ConfigInput = {}): CallStackConfig {
  const merged = mergeConfig(DEFAULT_CONFIG as ConfigInput, input) as CallStackConfig;
  const regions = merged.regions;
  const config: CallStackConfig = {
    ...merged,
    // Without an explicit primary region, the first fleet region holds the shared stack.
    primaryRegion: input.primaryRegion ?? input.regions?.[0]?.region ?? merged.primaryRegion,
    regions,
  };
  const errors = validate(config);
  if (errors.length > 0) throw new Error(`Invalid CallStack config:\n  - ${errors.join('\n  - ')}`);
  return config;
}

function validate(c: CallStackConfig): string[] {
  const errors: string[] = [];
  const check = (ok: boolean, message: string) => {
    if (!ok) errors.push(message);
  };

  check(/^[a-z][a-z0-9-]{1,20}$/.test(c.prefix), `prefix "${c.prefix}" must be 2-21 lowercase letters, digits or dashes`);
  check(REGION.test(c.primaryRegion), `primaryRegion "${c.primaryRegion}" is not a region name`);
  check(c.regions.length > 0, 'regions must list at least one region');
  const names = c.regions.map((r) => r.region);
  check(new Set(names).size === names.length, 'regions must not repeat');
  for (const r of c.regions) {
    check(REGION.test(r.region), `region "${r.region}" is not a region name`);
    if (r.availabilityZones) {
      check(r.availabilityZones.length >= 2, `${r.region}: at least two availabilityZones`);
      check(new Set(r.availabilityZones).size === r.availabilityZones.length, `${r.region}: availabilityZones repeat`);
      for (const az of r.availabilityZones) check(az.startsWith(r.region) && az.length > r.region.length, `${r.region}: "${az}" is not one of its AZs`);
    }
    if (r.turnCertificateArn)
      check(
        /^arn:aws[a-z-]*:acm:/.test(r.turnCertificateArn) && r.turnCertificateArn.includes(`:${r.region}:`),
        `${r.region}: turnCertificateArn must be an ACM ARN in that region`,
      );
  }
  check(DOMAIN.test(c.domain), `domain "${c.domain}" is not a lowercase DNS name`);
  check(DOMAIN.test(c.sip.realm), `sip.realm "${c.sip.realm}" is not a lowercase DNS name`);
  check(/^https:\/\/[^\s/]+(\/[^\s]*)?$/.test(c.edgeUrl) && SAFE_VALUE.test(c.edgeUrl), `edgeUrl "${c.edgeUrl}" must be an https URL`);
  check(/^[A-Za-z0-9._-]{1,64}$/.test(c.artifactVersion), `artifactVersion "${c.artifactVersion}" must be 1-64 of [A-Za-z0-9._-]`);
  check(c.controlApiCidrs.length > 0, 'controlApiCidrs must not be empty (use the edge egress ranges)');
  check(!c.controlApiCidrs.includes('0.0.0.0/0'), 'controlApiCidrs must not open the control API to the world');
  for (const cidr of [...c.controlApiCidrs, ...c.sip.allowedCidrs, c.vpcCidr]) check(isCidr(cidr), `"${cidr}" is not an IPv4 CIDR`);
  if (c.alarmEmail !== undefined) check(/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(c.alarmEmail), `alarmEmail "${c.alarmEmail}" is not an address`);
  check(Number.isInteger(c.volumeGiB) && c.volumeGiB >= 8 && c.volumeGiB <= 1024, 'volumeGiB must be 8-1024');

  for (const [name, type] of [
    ['media', c.media.instanceType],
    ['sip', c.sip.instanceType],
    ['turn', c.turn.instanceType],
  ] as const) {
    check(INSTANCE_TYPE.test(type), `${name}.instanceType "${type}" is not an instance type`);
  }
  checkCapacity(check, 'media', c.media.minCapacity, c.media.maxCapacity);
  checkCapacity(check, 'turn', c.turn.minCapacity, c.turn.maxCapacity);
  check(Number.isInteger(c.sip.nodes) && c.sip.nodes >= 1 && c.sip.nodes <= 6, 'sip.nodes must be 1-6');
  for (const r of c.regions) {
    if (r.availabilityZones) check(c.sip.nodes <= r.availabilityZones.length, `${r.region}: sip.nodes (${c.sip.nodes}) exceeds its AZ count`);
    else check(c.sip.nodes <= 2, `${r.region}: without explicit availabilityZones at most 2 sip.nodes`);
  }

  const ranges: [string, PortRange][] = [
    ['media.rtcPorts', c.media.rtcPorts],
    ['sip.rtpPorts', c.sip.rtpPorts],
    ['turn.relayPorts', c.turn.relayPorts],
  ];
  for (const [name, range] of ranges) {
    check(
      Number.isInteger(range.min) && Number.isInteger(range.max) && range.min >= 1024 && range.max <= 65535 && range.min < range.max,
      `${name} must be 1024 <= min < max <= 65535`,
    );
  }
  // Nodes also listen on fixed ports; a range that swallows them would fight over the socket.
  const fixed: [string, number[], PortRange][] = [
    ['media.rtcPorts', [8443], c.media.rtcPorts],
    ['sip.rtpPorts', [5060, 5061, 5080, 8443, 9022], c.sip.rtpPorts],
    ['turn.relayPorts', [3478], c.turn.relayPorts],
  ];
  for (const [name, ports, range] of fixed) {
    for (const port of ports) check(port < range.min || port > range.max, `${name} must not include ${port}`);
  }
  check(c.media.targetConsumersPerWorker > 0, 'media.targetConsumersPerWorker must be positive');
  for (const [name, pct] of [
    ['media', c.media.targetCpuPercent],
    ['turn', c.turn.targetCpuPercent],
  ] as const) {
    check(pct >= 10 && pct <= 90, `${name}.targetCpuPercent must be 10-90`);
  }
  // Lifecycle hooks allow a heartbeat of 30 s to 2 h.
  check(Number.isInteger(c.drainTimeoutMinutes) && c.drainTimeoutMinutes >= 1 && c.drainTimeoutMinutes <= 120, 'drainTimeoutMinutes must be 1-120');
  return errors;
}

function checkCapacity(check: (ok: boolean, m: string) => void, name: string, min: number, max: number) {
  check(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && min <= max && max <= 500, `${name}: need 1 <= minCapacity <= maxCapacity <= 500`);
}

function isCidr(value: string): boolean {
  const m = CIDR.exec(value);
  return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

/** Public host names derived from the domain (the operator points DNS at the stack outputs). */
export const hostNames = {
  sip: (c: CallStackConfig, region: string, index: number) => `sip-${index + 1}.${region}.${c.domain}`,
  turn: (c: CallStackConfig, region: string) => `turn.${region}.${c.domain}`,
};

/** Names shared across stacks and regions (secrets are replicated under the same name). */
export const sharedNames = {
  secret: (c: CallStackConfig, name: 'turn-secret' | 'media-control-secret' | 'database-url') => `${c.prefix}/${name}`,
  artifactKey: (c: CallStackConfig, component: 'media-fleet' | 'sip-edge') => `${component}/${c.artifactVersion}.tar.gz`,
};
