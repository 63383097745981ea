/**
 * User data for CallStack nodes: writes node.env, the callstack-node agent with the kind's hooks,
 * the systemd units and config templates, then runs `callstack-node boot`. Nothing is compiled
 * on the node: packages come from Debian, the application from a prebuilt artifact (SIP nodes
 * build drachtio-server only when the artifact has no usable binary; see sip.sh).
 *
 * node.env (the only part with deploy-time values) is plain text; the static files go as one
 * gzip+base64 block, which keeps the SIP node (seven daemons and jobs) well under 16 KB.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Token } from 'aws-cdk-lib';
import { UserData } from 'aws-cdk-lib/aws-ec2';

export type NodeKind = 'media' | 'sip' | 'turn';

/** Where the agent and its helpers live on the node. */
export const AGENT_DIR = '/usr/local/lib/callstack';
export const AGENT = `${AGENT_DIR}/callstack-node`;
/** EC2 refuses user data above 16 KB (before base64). */
export const USER_DATA_LIMIT = 16 * 1024;

/**
 * A script shipped to the nodes, from this folder. Whole-line comments stay in the repository:
 * user data is capped at 16 KB. Shebangs and Kamailio's `#!define` lines are kept.
 */
export function nodeSource(name: string): string {
  return readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line, i) => i === 0 || !/^\s*#(?!!)/.test(line))
    .join('\n');
}

export interface NodeFile {
  readonly path: string;
  readonly content: string;
  readonly mode: string;
}

export interface BootSpec {
  readonly kind: NodeKind;
  /** CALLSTACK_* settings for node.env; values may be CDK tokens (resolved at deploy time). */
  readonly env: Record<string, string>;
  /** systemd units by file name; all of them are enabled and started at the end of boot. */
  readonly units: Record<string, string>;
  /** Extra files: config templates, helper scripts. */
  readonly files?: NodeFile[];
}

interface ServiceOptions {
  readonly description: string;
  readonly exec: string;
  readonly type?: 'simple' | 'oneshot';
  readonly user?: string;
  readonly workingDirectory?: string;
  readonly environmentFiles?: string[];
  readonly after?: string[];
  /** Long-running daemons restart on exit; oneshot jobs are re-run by their timer instead. */
  readonly restart?: boolean;
  readonly limitNoFile?: number;
  /** Filesystem and privilege hardening for services that need no root after start. */
  readonly hardened?: boolean;
  /** A directory under /var/lib that systemd creates for `user` and keeps writable under hardening. */
  readonly stateDirectory?: string;
}

export function serviceUnit(o: ServiceOptions): string {
  const after = ['network-online.target', ...(o.after ?? [])];
  const lines = [
    '[Unit]',
    `Description=${o.description}`,
    `After=${after.join(' ')}`,
    'Wants=network-online.target',
    '',
    '[Service]',
    `Type=${o.type ?? 'simple'}`,
    `ExecStart=${o.exec}`,
    ...(o.user ? [`User=${o.user}`] : []),
    ...(o.workingDirectory ? [`WorkingDirectory=${o.workingDirectory}`] : []),
    ...(o.environmentFiles ?? []).map((f) => `EnvironmentFile=${f}`),
    ...(o.restart ? ['Restart=always', 'RestartSec=2'] : []),
    ...(o.limitNoFile ? [`LimitNOFILE=${o.limitNoFile}`] : []),
    ...(o.hardened ? ['NoNewPrivileges=true', 'ProtectSystem=strict', 'ProtectHome=true', 'PrivateTmp=true'] : []),
    ...(o.stateDirectory ? [`StateDirectory=${o.stateDirectory}`] : []),
  ];
  // Timer-driven oneshots are started by their timer, not at boot.
  if (o.type !== 'oneshot') lines.push('', '[Install]', 'WantedBy=multi-user.target');
  return `${lines.join('\n')}\n`;
}

export function timerUnit(description: string, everySeconds: number): string {
  return [
    '[Unit]',
    `Description=${description}`,
    '',
    '[Timer]',
    'OnActiveSec=5',
    `OnUnitActiveSec=${everySeconds}`,
    'AccuracySec=5',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** Units of the agent itself: registration heartbeat always; drain and metrics where the kind has them. */
export function agentUnits(o: { drain: boolean; metrics: boolean }): Record<string, string> {
  const job = (description: string, command: string) => serviceUnit({ description, exec: `${AGENT} ${command}`, type: 'oneshot' });
  return {
    'callstack-register.service': job('Register this node with the CallStack edge', 'register'),
    'callstack-register.timer': timerUnit('Registration heartbeat every minute', 60),
    ...(o.drain && {
      'callstack-lifecycle.service': serviceUnit({ description: 'Drain this node on Auto Scaling scale-in', exec: `${AGENT} lifecycle`, restart: true }),
    }),
    ...(o.metrics && {
      'callstack-metrics.service': job('Publish CallStack node metrics to CloudWatch', 'metrics'),
      'callstack-metrics.timer': timerUnit('Node metrics every minute', 60),
    }),
  };
}

/** A heredoc that writes one file; the quoted delimiter keeps the content literal. */
function writeFile(file: NodeFile): string {
  const eof = 'CALLSTACK_EOF';
  if (file.content.includes(eof)) throw new Error(`${file.path} contains the heredoc delimiter`);
  const body = file.content.endsWith('\n') ? file.content : `${file.content}\n`;
  return `install -D -m ${file.mode} /dev/null ${file.path}\ncat >${file.path} <<'${eof}'\n${body}${eof}\n`;
}

export function bootScript(spec: BootSpec): string {
  for (const [key, value] of Object.entries(spec.env)) {
    if (!/^CALLSTACK_[A-Z0-9_]+$/.test(key)) throw new Error(`node.env key ${key} must be CALLSTACK_*`);
    // Tokens resolve to config-validated names and ARNs; literal values are checked here.
    if (!Token.isUnresolved(value) && !/^[A-Za-z0-9._~:/@+=,-]*$/.test(value)) {
      throw new Error(`node.env ${key} has characters unsafe in an env file`);
    }
  }
  const envText = [
    `CALLSTACK_KIND=${spec.kind}`,
    ...Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    // Oneshot jobs have no [Install] section: their timers start them.
    `CALLSTACK_UNITS="${Object.entries(spec.units)
      .filter(([, unit]) => unit.includes('[Install]'))
      .map(([name]) => name)
      .join(' ')}"`,
  ].join('\n');
  const files: NodeFile[] = [
    { path: AGENT, content: nodeSource('agent.sh'), mode: '0755' },
    { path: `${AGENT_DIR}/node.sh`, content: nodeSource(`${spec.kind}.sh`), mode: '0644' },
    ...(spec.files ?? []),
    ...Object.entries(spec.units).map(([name, content]) => ({ path: `/etc/systemd/system/${name}`, content, mode: '0644' })),
  ];
  for (const file of files) {
    // Tokens resolve in CloudFormation text, not inside a compressed block.
    if (Token.isUnresolved(file.content)) throw new Error(`${file.path}: deploy-time values belong in node.env`);
  }
  const packed = gzipSync(files.map(writeFile).join(''), { level: 9 })
    .toString('base64')
    .replace(/.{1,76}/g, '$&\n');
  return [
    '#!/bin/bash',
    `# CallStack ${spec.kind} node. Progress: journalctl -u cloud-final; ${AGENT} does the work.`,
    'set -euo pipefail',
    writeFile({ path: '/etc/callstack/node.env', content: envText, mode: '0644' }),
    `${PACKED_START}\n${packed}${PACKED_END}`,
    `exec ${AGENT} boot`,
    '',
  ].join('\n');
}

const PACKED_START = "base64 -d <<'CALLSTACK_EOF' | gunzip | bash -euo pipefail";
const PACKED_END = 'CALLSTACK_EOF';

/** The boot script with its compressed block written out as the plain heredocs it holds. */
export function expandBootScript(script: string): string {
  const start = script.indexOf(`${PACKED_START}\n`);
  if (start < 0) return script;
  const body = start + PACKED_START.length + 1;
  const end = script.indexOf(`${PACKED_END}\n`, body);
  const plain = gunzipSync(Buffer.from(script.slice(body, end), 'base64')).toString('utf8');
  return script.slice(0, start) + plain + script.slice(end + PACKED_END.length + 1);
}

export function nodeUserData(spec: BootSpec): UserData {
  return UserData.custom(bootScript(spec));
}
