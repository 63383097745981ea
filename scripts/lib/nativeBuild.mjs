// Shared steps of the project's native builds (the mediasoup worker, drachtio-server): Debian
// packages, a cache outside the checkout keyed by version and recipe, a lock so that two runs do
// not build the same thing at once, and quiet subprocesses that keep a tail for errors.
//
// Plain Node, node: builtins only, so the build scripts run right after `npm ci`.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class BuildError extends Error {}

export function fail(message) {
  throw new BuildError(message);
}

/** A logger that prefixes each line with the build's name and the seconds since it started. */
export function buildLog(name) {
  const t0 = process.hrtime.bigint();
  return (message) => {
    const seconds = (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1).padStart(6);
    process.stderr.write(`[${name} ${seconds}s] ${message}\n`);
  };
}

export function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
  return r;
}

/** Runs a command quietly; `progress(line, last)` may report; keeps the last lines for errors. */
export function runStreaming(cmd, argv, { cwd, env = process.env, progress } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    let buf = '';
    let lastReport = 0;
    const onData = (chunk) => {
      buf += chunk.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        tail.push(line);
        if (tail.length > 60) tail.shift();
        if (progress) lastReport = progress(line, lastReport);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => reject(new BuildError(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (buf) tail.push(buf);
      resolve({ code: code ?? 1, signal, tail });
    });
  });
}

/** runStreaming that fails the build with the command's last lines when it exits non-zero. */
export async function mustRun(cmd, argv, opts) {
  const result = await runStreaming(cmd, argv, opts);
  if (result.code !== 0) fail(`${cmd} ${argv.join(' ')} failed (exit ${result.code}):\n${result.tail.join('\n')}`);
  return result;
}

export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

export function fileSha(file) {
  return sha256(fs.readFileSync(file));
}

/** `~/.cache/callstack/<what>` (XDG_CACHE_HOME respected). */
export function cacheRoot(what) {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'callstack', what);
}

/** The shared libraries a binary cannot resolve (empty when all are found). */
export function unresolvedLibs(bin) {
  const r = run('ldd', [bin]);
  return (r.stdout + r.stderr)
    .split('\n')
    .filter((l) => l.includes('not found'))
    .map((l) => l.trim());
}

function missingAptPackages(packages) {
  const r = run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\\n', ...packages]);
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => /\sii\s*$/.test(l))
      .map((l) => l.split(/\s/)[0].replace(/:.*/, '')),
  );
  return packages.filter((p) => !installed.has(p));
}

/** Installs the Debian packages that are missing (as root), without starting their services. */
export function ensureAptPackages(packages, log) {
  let missing;
  try {
    missing = missingAptPackages(packages);
  } catch (e) {
    fail(`dpkg-query failed (${e.message}): this build needs Debian/Ubuntu with apt`);
  }
  if (missing.length === 0) {
    log(`apt packages present (${packages.length})`);
    return;
  }
  const cmdline = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`missing Debian packages: ${missing.join(' ')}\n  run as root: ${cmdline}`);
  log(`installing apt packages: ${missing.join(' ')}`);
  const policy = '/usr/sbin/policy-rc.d';
  if (!fs.existsSync(policy)) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  let r = install();
  if (r.status !== 0) {
    log('apt-get install failed; running apt-get update and retrying');
    const u = run('apt-get', ['update'], { env });
    if (u.status !== 0) fail(`apt-get update failed:\n${u.stdout}${u.stderr}`);
    r = install();
  }
  if (r.status !== 0) fail(`${cmdline} failed:\n${r.stdout}${r.stderr}`);
  const still = missingAptPackages(packages);
  if (still.length) fail(`apt packages still missing after install: ${still.join(' ')}`);
  log('apt packages installed');
}

/** Runs `fn` holding a lock folder; a lock left by a dead process is taken over. */
export async function withLock(lockDir, fn, log) {
  const deadline = Date.now() + 30 * 60 * 1000;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = 0;
      try {
        pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        /* lock being created right now */
      }
      let alive = false;
      if (pid) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch {
          alive = false;
        }
      }
      let ageMs = 0;
      try {
        ageMs = Date.now() - fs.statSync(lockDir).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if ((pid && !alive) || (!pid && ageMs > 10_000)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) fail(`timed out waiting for lock ${lockDir}`);
      if (!told) {
        log(`another build (pid ${pid || '?'}) holds ${lockDir}; waiting`);
        told = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Strips `built` into `outFile` atomically (a reader sees no binary or a whole one). */
export function installStripped(built, outFile) {
  const stripped = `${outFile}.tmp-${process.pid}`;
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const s = run('strip', ['-o', stripped, built]);
  if (s.status !== 0) fail(`strip failed: ${s.stderr}`);
  fs.chmodSync(stripped, 0o755);
  const unresolved = unresolvedLibs(stripped);
  if (unresolved.length) fail(`built binary has unresolved libraries:\n  ${unresolved.join('\n  ')}`);
  fs.renameSync(stripped, outFile);
}

/** Top-level error handling of a build script: a BuildError is a message, anything else a stack. */
export function runBuild(name, main) {
  main().catch((e) => {
    if (e instanceof BuildError) process.stderr.write(`[${name}] ERROR: ${e.message}\n`);
    else process.stderr.write(`[${name}] ERROR (unexpected): ${e?.stack || e}\n`);
    process.exit(1);
  });
}
