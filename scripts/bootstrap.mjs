#!/usr/bin/env node
/**
 * Entry point of `npm start` and `npm test` on a fresh machine. Plain Node with no dependencies:
 * it installs what is missing (npm packages; for tests, Debian packages via apt), then hands over
 * to the TypeScript script for the command.
 *
 *   node scripts/bootstrap.mjs start|test [args...]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const [command, ...args] = process.argv.slice(2);

/**
 * The SIP edge: Kamailio with every module its config may load (http_client, jansson, tls,
 * websocket, db_postgres), and rtpengine (sip-edge/README.md).
 */
const SIP_EDGE_PACKAGES = [
  'kamailio',
  'kamailio-utils-modules',
  'kamailio-extra-modules',
  'kamailio-tls-modules',
  'kamailio-websocket-modules',
  'kamailio-postgres-modules',
  'rtpengine-daemon',
].map((pkg) => ({
  pkg,
  probe: () => hasDebianPackage(pkg),
}));

/** Debian packages each command needs, by what proves each is installed. */
const APT_PACKAGES = {
  // The media node records conferences with ffmpeg (and measures the files with ffprobe).
  // coturn gives the browsers STUN and TURN.
  start: [
    { pkg: 'ffmpeg', probe: () => existsSync('/usr/bin/ffmpeg') },
    { pkg: 'coturn', probe: () => existsSync('/usr/bin/turnserver') },
    ...SIP_EDGE_PACKAGES,
  ],
  test: [
    { pkg: 'ffmpeg', probe: () => existsSync('/usr/bin/ffmpeg') },
    { pkg: 'postgresql', probe: () => hasPostgres() },
    { pkg: 'chromium', probe: () => existsSync('/usr/bin/chromium') },
    { pkg: 'coturn', probe: () => existsSync('/usr/bin/turnserver') },
    ...SIP_EDGE_PACKAGES,
    // Phones and scripted SIP peers for the SIP tests, and sox to measure the audio they receive.
    { pkg: 'baresip', probe: () => existsSync('/usr/bin/baresip') },
    { pkg: 'sip-tester', probe: () => existsSync('/usr/bin/sipp') },
    { pkg: 'sox', probe: () => existsSync('/usr/bin/sox') },
    // The invoice test reads its PDF back as text.
    { pkg: 'poppler-utils', probe: () => existsSync('/usr/bin/pdftotext') },
    // The Kamailio TLS test makes a throwaway certificate.
    { pkg: 'openssl', probe: () => existsSync('/usr/bin/openssl') },
  ],
};

if (!(command in APT_PACKAGES)) {
  console.error('usage: node scripts/bootstrap.mjs start|test');
  process.exit(2);
}

ensureNodeVersion();
ensureAptPackages(APT_PACKAGES[command]);
ensureNpmPackages();

const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', `${command}.ts`), ...args], {
  cwd: ROOT,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
// npm stopped by SIGTERM leaves us behind (its shell does not pass the signal on): stop too.
const parent = process.ppid;
const orphaned = setInterval(() => process.ppid !== parent && child.kill('SIGTERM'), 500);
child.on('exit', (code, signal) => {
  clearInterval(orphaned);
  process.exit(code ?? (signal ? 1 : 0));
});

function ensureNodeVersion() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`Node ${process.versions.node} is too old: CallStack needs Node 20.19 or newer.`);
    process.exit(2);
  }
}

function ensureNpmPackages() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  step('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function ensureAptPackages(wanted) {
  const missing = wanted.filter(({ probe }) => !probe()).map(({ pkg }) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`Missing Debian packages: ${missing.join(' ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(2);
  }
  // Installing a server package must not start a system service on its default port.
  const policy = '/usr/sbin/policy-rc.d';
  if (!existsSync(policy)) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  step(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], env);
  run('apt-get', ['install', '-y', '-qq', ...missing], env);
}

function hasDebianPackage(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { stdio: 'pipe' }).toString().includes('install ok installed');
  } catch {
    return false;
  }
}

function hasPostgres() {
  try {
    return execFileSync('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/postgres'], { stdio: 'pipe' }).length > 0;
  } catch {
    return false;
  }
}

function run(cmd, cmdArgs, env = process.env) {
  const result = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`${cmd} ${cmdArgs.join(' ')} failed (exit ${result.status})`);
    process.exit(result.status ?? 1);
  }
}

function step(text) {
  console.log(`\n▶ ${text}`);
}
