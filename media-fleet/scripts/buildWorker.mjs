#!/usr/bin/env node
// Builds (or reuses from cache) the mediasoup C++ worker against Debian's system libraries.
//
// Why: the stock `mediasoup` postinstall downloads a prebuilt worker from GitHub, pip-installs
// meson from PyPI and lets meson download its subprojects (.wrap files). None of those hosts is
// reachable here, so the root package.json denies mediasoup's install script (`allowScripts`)
// and this script is the project's own install step instead.
//
// What it does, in order:
//   1. ensures the Debian build/runtime packages (apt-get, as root) are installed;
//   2. computes the cache key: mediasoup version + a hash of what decides the binary (version,
//      packages, shims, meson/ninja arguments), not of this file's wording;
//   3. cache hit  -> copies ~/.cache/callstack/mediasoup-worker/<key>/mediasoup-worker to
//      node_modules/mediasoup/worker/out/Release/;
//      cache miss -> copies node_modules/mediasoup/worker to a temp folder, replaces every
//      meson subproject with a tiny shim backed by a system library, runs meson + ninja,
//      strips the binary, stores it in the cache, then places it as above.
//
// Usage: node media-fleet/scripts/buildWorker.mjs [--force] [--print-path]
//   --force        rebuild even if the cache has a binary (also: CALLSTACK_WORKER_REBUILD=1)
//   --print-path   print only the final binary path on stdout (progress goes to stderr)
// Env:  XDG_CACHE_HOME (cache root, default ~/.cache), CALLSTACK_WORKER_JOBS (ninja -j,
//       default: number of CPUs), CALLSTACK_WORKER_KEEP_TMP=1 (keep the temp build folder).
//
// Plain Node, node: builtins only (shared steps in scripts/lib/nativeBuild.mjs), so it runs
// right after `npm ci`.

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

const MEDIASOUP_VERSION = '3.12.16';

// Debian 12 packages: build tools + the -dev packages of the libraries the shims below use.
// The worker links the runtime libraries (libssl3, libuv1, libsrtp2-1, libusrsctp2, libabsl)
// dynamically, so these stay needed on a cache hit too (the -dev packages pull them in).
const APT_PACKAGES = [
  'pkg-config',
  'meson',
  'ninja-build',
  'g++',
  'binutils', // strip
  'libssl-dev',
  'libuv1-dev',
  'libsrtp2-dev',
  'libabsl-dev',
  'libusrsctp-dev',
  'nlohmann-json3-dev',
];

// ---------------------------------------------------------------------------------------------
// Meson subproject shims. mediasoup's worker/meson.build calls subproject('<name>') for each
// worker/subprojects/<name>.wrap and reads the variables listed in each comment. Instead of
// downloading sources, we create the wrap's `directory =` folder holding a tiny meson project
// that exposes those variables backed by Debian's libraries via dependency() (pkg-config).
// The `*_lib` variables feed `link_whole:` upstream (they would be static copies of the
// library); here they are empty static libraries, since we link the shared system library.
// `options` declares the options mediasoup passes as subproject default_options; meson rejects
// unknown options, so they must exist even though the shims ignore them.
// ---------------------------------------------------------------------------------------------
const EMPTY_C = 'shim_empty.c';
const EMPTY_C_TEXT = '/* CallStack shim: intentionally empty */\ntypedef int callstack_shim_empty;\n';
const SHIMS = {
  // reads: openssl_dep, libcrypto_lib, libssl_lib (worker + deps/libwebrtc)
  openssl: {
    build: `
project('openssl', 'c')
openssl_dep = dependency('openssl', version: '>=3.0')
libcrypto_dep = dependency('libcrypto')
libssl_dep = dependency('libssl')
libcrypto_lib = static_library('shim_libcrypto', '${EMPTY_C}')
libssl_lib = static_library('shim_libssl', '${EMPTY_C}')
`,
  },
  // reads: libuv_dep, libuv
  libuv: {
    build: `
project('libuv', 'c')
libuv_dep = dependency('libuv', version: '>=1.44')
libuv = static_library('shim_libuv', '${EMPTY_C}')
`,
    options: `
option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)
`,
  },
  // reads: libsrtp2_dep, libsrtp2. mediasoup does `#include <srtp.h>`, Debian installs the
  // headers in <includedir>/srtp2, so the dependency adds that folder. (Debian's libsrtp2 uses
  // NSS as crypto backend; the crypto-library option is ignored.)
  libsrtp2: {
    build: `
project('libsrtp2', 'c')
_srtp = dependency('libsrtp2', version: '>=2.5')
libsrtp2_dep = declare_dependency(
  dependencies: _srtp,
  include_directories: include_directories(_srtp.get_variable(pkgconfig: 'includedir') / 'srtp2'),
)
libsrtp2 = static_library('shim_libsrtp2', '${EMPTY_C}')
`,
    options: `
option('crypto-library', type: 'combo', choices: ['none', 'openssl', 'nss', 'mbedtls'], value: 'none')
option('crypto-library-kdf', type: 'feature', value: 'auto')
option('tests', type: 'feature', value: 'auto')
`,
  },
  // reads: usrsctp_dep, usrsctp (pkg-config adds -DINET -DINET6)
  usrsctp: {
    build: `
project('usrsctp', 'c')
usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('shim_usrsctp', '${EMPTY_C}')
`,
    options: `
option('sctp_build_programs', type: 'boolean', value: false)
`,
  },
  // reads: nlohmann_json_dep (header-only)
  nlohmann_json: {
    build: `
project('nlohmann_json', 'cpp')
nlohmann_json_dep = dependency('nlohmann_json', version: '>=3.10')
`,
  },
  // reads: absl_container_dep, absl_container_lib (worker: flat_hash_map/set, btree,
  // inlined_vector), absl_strings_dep, absl_types_dep (deps/libwebrtc: string_view, optional).
  'abseil-cpp': {
    build: `
project('abseil-cpp', ['c', 'cpp'])
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'),
  dependency('absl_flat_hash_set'),
  dependency('absl_btree'),
  dependency('absl_inlined_vector'),
])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [
  dependency('absl_optional'),
  dependency('absl_variant'),
  dependency('absl_span'),
])
absl_container_lib = static_library('shim_absl_container', '${EMPTY_C}')
`,
  },
  // reads: catch2_dep, only for the mediasoup-worker-test target, which we never build.
  catch2: {
    build: `
project('catch2', 'cpp')
catch2_dep = declare_dependency()
`,
  },
};
// Wraps that the Linux build never opens (subproject() is inside `if windows`).
const NOT_NEEDED_ON_LINUX = new Set(['wingetopt']);

// The meson and ninja invocations (the build folder and -j are added at run time).
const MESON_SETUP_ARGS = ['--buildtype', 'release', '-Db_ndebug=true', '--wrap-mode=nodownload'];
const NINJA_TARGET = 'mediasoup-worker';

const RECIPE_HASH = sha256(
  JSON.stringify({
    MEDIASOUP_VERSION,
    APT_PACKAGES,
    SHIMS,
    NOT_NEEDED_ON_LINUX: [...NOT_NEEDED_ON_LINUX],
    EMPTY_C,
    EMPTY_C_TEXT,
    MESON_SETUP_ARGS,
    NINJA_TARGET,
  }),
).slice(0, 12);

const SCRIPT_PATH = fileURLToPath(import.meta.url);
const MEDIA_FLEET_DIR = path.resolve(path.dirname(SCRIPT_PATH), '..');
const args = new Set(process.argv.slice(2));
const FORCE = args.has('--force') || process.env.CALLSTACK_WORKER_REBUILD === '1';
const PRINT_PATH = args.has('--print-path');
const NAME = 'build:worker';
const USAGE = 'usage: node media-fleet/scripts/buildWorker.mjs [--force] [--print-path]';
const log = buildLog(NAME);

// ---------------------------------------------------------------------------------------------
// locate mediasoup

function findMediasoupDir() {
  for (let dir = MEDIA_FLEET_DIR; ; dir = path.dirname(dir)) {
    const cand = path.join(dir, 'node_modules', 'mediasoup');
    if (fs.existsSync(path.join(cand, 'package.json'))) return cand;
    if (path.dirname(dir) === dir) break;
  }
  fail('node_modules/mediasoup not found: run `npm ci` (or `npm install`) at the repo root first');
}

// ---------------------------------------------------------------------------------------------
// the build

function mesonVersion() {
  const r = run('meson', ['--version']);
  if (r.status !== 0) fail(`meson --version failed: ${r.stderr}`);
  return r.stdout.trim();
}

function versionLt(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) < (pb[i] || 0);
  }
  return false;
}

function writeShims(workerDir) {
  const subDir = path.join(workerDir, 'subprojects');
  const wraps = fs.readdirSync(subDir).filter((f) => f.endsWith('.wrap'));
  for (const wrap of wraps) {
    const name = wrap.slice(0, -'.wrap'.length);
    if (NOT_NEEDED_ON_LINUX.has(name)) continue;
    const shim = SHIMS[name];
    if (!shim) {
      fail(`no shim for subproject '${name}' (${wrap}): the recipe in ${SCRIPT_PATH} must be updated for this mediasoup version`);
    }
    const text = fs.readFileSync(path.join(subDir, wrap), 'utf8');
    const m = /^\s*directory\s*=\s*(\S+)\s*$/m.exec(text);
    if (!m) fail(`${wrap} has no 'directory =' key`);
    const dir = path.join(subDir, m[1]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'meson.build'), shim.build.trimStart());
    if (shim.options) fs.writeFileSync(path.join(dir, 'meson_options.txt'), shim.options.trimStart());
    fs.writeFileSync(path.join(dir, EMPTY_C), EMPTY_C_TEXT);
  }
  const missingWraps = Object.keys(SHIMS).filter((n) => !wraps.includes(`${n}.wrap`));
  if (missingWraps.length) log(`note: shims unused by this mediasoup version: ${missingWraps.join(', ')}`);
  return wraps.length;
}

async function build(mediasoupDir, outFile) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'callstack-mediasoup-worker-'));
  const workerDir = path.join(tmp, 'worker');
  const buildDir = path.join(tmp, 'build');
  let ok = false;
  try {
    log(`copying worker sources to ${workerDir}`);
    fs.cpSync(path.join(mediasoupDir, 'worker'), workerDir, {
      recursive: true,
      filter: (src) => !/[\\/]worker[\\/](out|subprojects[\\/]packagecache)$/.test(src),
    });
    const n = writeShims(workerDir);
    log(`wrote system-library shims for ${n} wraps`);

    // mediasoup 3.12.16 asks for meson >= 1.1.0 but uses nothing newer than Debian 12's 1.0.1.
    const mv = mesonVersion();
    const mesonBuild = path.join(workerDir, 'meson.build');
    const src = fs.readFileSync(mesonBuild, 'utf8');
    const req = /meson_version\s*:\s*'>=\s*([\d.]+)'/.exec(src);
    if (req && versionLt(mv, req[1])) {
      log(`meson ${mv} < required ${req[1]}: relaxing meson_version in the temp copy`);
      fs.writeFileSync(mesonBuild, src.replace(req[0], `meson_version: '>= ${mv}'`));
    }

    const tSetup = Date.now();
    log(`meson setup (meson ${mv})`);
    await mustRun('meson', ['setup', ...MESON_SETUP_ARGS, buildDir], { cwd: workerDir });
    log(`meson setup done in ${((Date.now() - tSetup) / 1000).toFixed(1)}s`);

    const jobs = Number(process.env.CALLSTACK_WORKER_JOBS) || os.availableParallelism();
    const tNinja = Date.now();
    log(`ninja -j${jobs} ${NINJA_TARGET} (about 5 min on 2 cores; progress every 10%)`);
    await mustRun('ninja', ['-C', buildDir, `-j${jobs}`, NINJA_TARGET], {
      cwd: workerDir,
      progress: (line, last) => {
        const m = /^\[(\d+)\/(\d+)\]/.exec(line);
        if (!m) return last;
        const pct = Math.floor((Number(m[1]) / Number(m[2])) * 10) * 10;
        if (pct > last) log(`  compiled ${m[1]}/${m[2]} (${pct}%)`);
        return Math.max(pct, last);
      },
    });
    log(`ninja done in ${((Date.now() - tNinja) / 1000).toFixed(1)}s`);

    const built = path.join(buildDir, NINJA_TARGET);
    if (!fs.existsSync(built)) fail(`ninja succeeded but ${built} is missing`);
    installStripped(built, outFile);
    ok = true;
  } finally {
    if (ok && process.env.CALLSTACK_WORKER_KEEP_TMP !== '1') {
      fs.rmSync(tmp, { recursive: true, force: true });
    } else if (!ok) {
      log(`build folder kept for inspection: ${tmp}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (args.has('--help') || args.has('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const unknown = [...args].filter((a) => a !== '--force' && a !== '--print-path');
  if (unknown.length) fail(`unknown argument(s) ${unknown.join(' ')}\n${USAGE}`);
  if (process.platform !== 'linux') fail(`only Linux is supported (this is ${process.platform})`);
  ensureAptPackages(APT_PACKAGES, log);

  const mediasoupDir = findMediasoupDir();
  const version = JSON.parse(fs.readFileSync(path.join(mediasoupDir, 'package.json'), 'utf8')).version;
  if (version !== MEDIASOUP_VERSION) {
    fail(
      `node_modules/mediasoup is ${version} but this recipe is for ${MEDIASOUP_VERSION} (newer versions segfault in the DTLS handshake with Debian's libssl)`,
    );
  }
  const key = `${version}-${RECIPE_HASH}`;
  const cacheDir = path.join(cacheRoot('mediasoup-worker'), key);
  const cached = path.join(cacheDir, 'mediasoup-worker');
  const target = path.join(mediasoupDir, 'worker', 'out', 'Release', 'mediasoup-worker');
  log(`mediasoup ${version}, recipe ${RECIPE_HASH}, cache ${cached}`);

  fs.mkdirSync(cacheDir, { recursive: true });
  await withLock(
    `${cacheDir}.lock`,
    async () => {
      let reuse = !FORCE && fs.existsSync(cached);
      if (reuse) {
        const unresolved = unresolvedLibs(cached);
        if (unresolved.length) {
          log(`cached binary cannot load (${unresolved.join('; ')}); rebuilding`);
          reuse = false;
        }
      }
      if (reuse) {
        log('cache hit');
      } else {
        log(FORCE ? 'forced rebuild' : 'cache miss: building from source');
        await build(mediasoupDir, cached);
        log(`stored ${cached} (${(fs.statSync(cached).size / 1048576).toFixed(1)} MiB)`);
      }

      // Place a copy at the path mediasoup uses by default (skip if identical already).
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if (fs.existsSync(target) && fs.statSync(target).size === fs.statSync(cached).size && fileSha(target) === fileSha(cached)) {
        log(`up to date: ${target}`);
      } else {
        const tmp = `${target}.tmp-${process.pid}`;
        fs.copyFileSync(cached, tmp);
        fs.chmodSync(tmp, 0o755);
        fs.renameSync(tmp, target);
        log(`installed ${target}`);
      }
    },
    log,
  );
  log('done');
  if (PRINT_PATH) process.stdout.write(`${target}\n`);
}

runBuild(NAME, main);
