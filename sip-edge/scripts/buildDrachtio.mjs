#!/usr/bin/env node
// Builds (or reuses from cache) drachtio-server, the SIP daemon that drachtio-srf drives. It is in
// neither npm nor Debian, so this is the project's own install step, like the mediasoup worker's.
//
// Sources: the pinned archive in ../shared/vendor/ (drachtio-server 9c2dd4cb6a with drachtio's
// sofia-sip fork 8889faf; sha256 checked) or, when that folder is absent, the same commits cloned
// from upstream (a machine with internet). Debian's jansson, hiredis and prometheus-cpp replace
// the in-tree copies: one edit to Makefile.am, no C++ change (../shared/notes/platform.md).
//
// The binary is cached at ~/.cache/callstack/drachtio-server/<version>-<recipe hash>/drachtio, the
// hash taken over what decides the binary (sources, packages, edits, build steps), not this file's
// wording
// (about 13 min cold on 2 cores, instant cached). It links Debian's boost, curl, ssl, jansson,
// hiredis and prometheus-cpp dynamically: the machine that runs it needs those packages.
//
// Usage: node sip-edge/scripts/buildDrachtio.mjs [--force] [--print-path]
// Env:   XDG_CACHE_HOME, CALLSTACK_VENDOR_DIR (default <repo>/../shared/vendor),
//        CALLSTACK_BUILD_JOBS (make -j, default: number of CPUs).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildLog,
  cacheRoot,
  ensureAptPackages,
  fail,
  fileSha,
  installStripped,
  mustRun,
  run,
  runBuild,
  sha256,
  unresolvedLibs,
  withLock,
} from '../../scripts/lib/nativeBuild.mjs';

const DRACHTIO = { repo: 'https://github.com/drachtio/drachtio-server', commit: '9c2dd4cb6a', describe: 'v0.9.10-1-g9c2dd4cb6a' };
const SOFIA = { repo: 'https://github.com/davehorton/sofia-sip', commit: '8889fafb674406d100a5a164a28af9be5ee31668' };
const ARCHIVE = { name: 'drachtio-server-9c2dd4cb-sofia-sip-8889faf.tar.gz', sha256: 'eb480927f07e1b1a59459aa0c02b6af97f85f008649799e07ad92d9e744e1763' };

// Build tools and the -dev packages of Debian's libraries (libtool-bin: sofia-sip's bootstrap
// calls the `libtool` binary). The runtime libraries come with them and stay needed.
const APT_PACKAGES = [
  'autoconf',
  'automake',
  'libtool',
  'libtool-bin',
  'make',
  'g++',
  'pkg-config',
  'binutils',
  'libboost-dev',
  'libboost-thread-dev',
  'libboost-system-dev',
  'libboost-log-dev',
  'libboost-filesystem-dev',
  'libssl-dev',
  'libcurl4-openssl-dev',
  'zlib1g-dev',
  'libjansson-dev',
  'libhiredis-dev',
  'prometheus-cpp-dev',
];

/** Makefile.am edits: each pattern must match, or the recipe no longer fits these sources. */
const MAKEFILE_EDITS = [
  // The code includes "hiredis.h"; Debian puts it in /usr/include/hiredis.
  { pattern: /-I\$\{srcdir\}\/deps\/hiredis \\/, replacement: '-I/usr/include/hiredis \\' },
  { pattern: /^(\s+)\$\{srcdir\}\/deps\/jansson\/src\/\.libs\/libjansson\.a/m, replacement: '$1-ljansson' },
  { pattern: /^(\s+)\$\{srcdir\}\/deps\/hiredis\/libhiredis\.a/m, replacement: '$1-lhiredis' },
  { pattern: /^(\s+)\$\{srcdir\}\/deps\/prometheus-cpp\/build\/lib\/libprometheus-cpp-(pull|core)\.a/gm, replacement: '$1-lprometheus-cpp-$2' },
  // Only sofia-sip is still built in tree.
  {
    pattern: /^BUILT_SOURCES=.*\\\n.*$/m,
    replacement: 'BUILT_SOURCES=${srcdir}/deps/sofia-sip/libsofia-sip-ua/.libs/libsofia-sip-ua.a',
  },
];

/** The build steps, in order: [folder ('sofia' or 'drachtio'), command, ...arguments]. */
const STEPS = [
  ['sofia', './bootstrap.sh'],
  ['sofia', './configure', '--with-glib=no'],
  ['sofia', 'make', '-j{jobs}'],
  ['drachtio', './bootstrap.sh'],
  ['drachtio', './configure'],
  // An exported tree has no .git: the version drachtio reports is passed in.
  ['drachtio', 'make', '-j{jobs}', `MYVERSION=${DRACHTIO.describe}`, 'drachtio'],
];

const RECIPE_HASH = sha256(
  JSON.stringify({ DRACHTIO, SOFIA, ARCHIVE, APT_PACKAGES, STEPS, edits: MAKEFILE_EDITS.map(({ pattern, replacement }) => [String(pattern), replacement]) }),
).slice(0, 12);

const SCRIPT_PATH = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SCRIPT_PATH), '../..');
const NAME = 'build:drachtio';
const USAGE = 'usage: node sip-edge/scripts/buildDrachtio.mjs [--force] [--print-path]';
const log = buildLog(NAME);

async function main() {
  const args = new Set(process.argv.slice(2));
  if (args.has('--help') || args.has('-h')) return void process.stdout.write(`${USAGE}\n`);
  const unknown = [...args].filter((a) => a !== '--force' && a !== '--print-path');
  if (unknown.length) fail(`unknown argument(s) ${unknown.join(' ')}\n${USAGE}`);
  if (process.platform !== 'linux') fail(`only Linux is supported (this is ${process.platform})`);
  ensureAptPackages(APT_PACKAGES, log);

  const key = `${DRACHTIO.describe}-sofia-${SOFIA.commit.slice(0, 7)}-${RECIPE_HASH}`;
  const cacheDir = path.join(cacheRoot('drachtio-server'), key);
  const binary = path.join(cacheDir, 'drachtio');
  fs.mkdirSync(cacheDir, { recursive: true });
  await withLock(
    `${cacheDir}.lock`,
    async () => {
      const usable = !args.has('--force') && fs.existsSync(binary) && unresolvedLibs(binary).length === 0;
      if (usable) return log(`cache hit: ${binary}`);
      log(`building ${key} (about 13 min on 2 cores)`);
      await build(binary);
      log(`stored ${binary} (${(fs.statSync(binary).size / 1048576).toFixed(1)} MiB)`);
    },
    log,
  );
  if (args.has('--print-path')) process.stdout.write(`${binary}\n`);
}

async function build(outFile) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'callstack-drachtio-'));
  let ok = false;
  try {
    const source = await unpackSources(tmp);
    patchMakefile(path.join(source, 'Makefile.am'));
    const jobs = String(Number(process.env.CALLSTACK_BUILD_JOBS) || os.availableParallelism());
    const folders = { sofia: path.join(source, 'deps', 'sofia-sip'), drachtio: source };
    for (const [folder, command, ...argv] of STEPS) {
      log(`${folder}: ${command} ${argv.join(' ')}`);
      await mustRun(
        command,
        argv.map((arg) => arg.replace('{jobs}', jobs)),
        { cwd: folders[folder], progress: command === 'make' ? progressEvery(120) : undefined },
      );
    }
    installStripped(path.join(source, 'drachtio'), outFile);
    ok = true;
  } finally {
    if (ok) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`build folder kept for inspection: ${tmp}`);
  }
}

/** The archive when the vendor folder has it (checked), otherwise the pinned upstream commits. */
async function unpackSources(tmp) {
  const vendor = process.env.CALLSTACK_VENDOR_DIR || path.resolve(ROOT, '../shared/vendor');
  const archive = path.join(vendor, ARCHIVE.name);
  const source = path.join(tmp, 'drachtio-server');
  if (fs.existsSync(archive)) {
    if (fileSha(archive) !== ARCHIVE.sha256) fail(`${archive} does not have the pinned sha256 ${ARCHIVE.sha256}`);
    log(`unpacking ${archive}`);
    const r = run('tar', ['xzf', archive, '-C', tmp]);
    if (r.status !== 0) fail(`tar failed: ${r.stderr}`);
    return source;
  }
  log(`no ${archive}: cloning the pinned commits from upstream`);
  await mustRun('git', ['clone', '--quiet', DRACHTIO.repo, source]);
  await mustRun('git', ['checkout', '--quiet', DRACHTIO.commit], { cwd: source });
  const sofia = path.join(source, 'deps', 'sofia-sip');
  fs.rmSync(sofia, { recursive: true, force: true });
  await mustRun('git', ['clone', '--quiet', SOFIA.repo, sofia]);
  await mustRun('git', ['checkout', '--quiet', SOFIA.commit], { cwd: sofia });
  return source;
}

function patchMakefile(file) {
  let text = fs.readFileSync(file, 'utf8');
  for (const { pattern, replacement } of MAKEFILE_EDITS) {
    if (!pattern.test(text)) fail(`Makefile.am no longer matches ${pattern}: update the recipe in ${SCRIPT_PATH}`);
    pattern.lastIndex = 0;
    text = text.replace(pattern, replacement);
  }
  fs.writeFileSync(file, text);
}

/** Reports a compiled-file count every `seconds`, so a long make shows it is alive. */
function progressEvery(seconds) {
  let compiled = 0;
  return (line, last) => {
    if (/^\s*(CC|CXX|libtool: compile:|g\+\+ |gcc )/.test(line)) compiled++;
    const now = Date.now();
    if (now - last < seconds * 1000) return last || now;
    log(`  ${compiled} files compiled so far`);
    return now;
  };
}

runBuild(NAME, main);
