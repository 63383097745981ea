/**
 * The node scripts: syntax of everything that reaches a node, and the agent's registration,
 * metrics and drain run for real against local stand-ins (edge, media control API, IMDS, aws CLI).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bootScript, expandBootScript, serviceUnit } from '../lib/node/boot.ts';
import { renderTurnserverConf } from '../lib/node/turnserver.ts';

const NODE_DIR = fileURLToPath(new URL('../lib/node/', import.meta.url));
const SECRET = 'test-control-secret-0123456789';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** One loopback server standing in for the edge, the media control API and IMDS. */
async function listen(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('node scripts', () => {
  let dir: string;
  let server: Server;
  let url: string;
  const requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let status = { draining: false, rooms: 2, peers: 10, consumers: 40, workers: 4 };

  before(async () => {
    ({ server, url } = await listen((req, body, res) => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const reply = (code: number, text: string) => {
        res.writeHead(code);
        res.end(text);
      };
      if (req.url === '/latest/api/token') return reply(200, 'token');
      if (req.url === '/latest/meta-data/autoscaling/target-lifecycle-state') return reply(200, 'Terminated');
      if (req.url === '/control/status') return reply(200, JSON.stringify(status));
      if (req.url === '/control/drain') {
        status = { ...status, draining: true, rooms: 0, peers: 0, consumers: 0 };
        return reply(200, '{}');
      }
      if (req.url === '/api/fleet/nodes') return reply(204, '');
      return reply(404, '');
    }));
    dir = mkdtempSync(join(tmpdir(), 'callstack-node-'));
    for (const sub of ['etc/secrets', 'lib', 'state', 'bin']) mkdirSync(join(dir, sub), { recursive: true });
    copyFileSync(join(NODE_DIR, 'agent.sh'), join(dir, 'lib/callstack-node'));
    copyFileSync(join(NODE_DIR, 'media.sh'), join(dir, 'lib/node.sh'));
    writeFileSync(
      join(dir, 'etc/node.env'),
      [
        'CALLSTACK_KIND=media',
        'CALLSTACK_REGION=eu-west-1',
        `CALLSTACK_EDGE_URL=${url}`,
        'CALLSTACK_HOSTNAME=',
        'CALLSTACK_ASG_NAME=callstack-eu-west-1-media',
        'CALLSTACK_DRAIN_HOOK=callstack-drain',
        'CALLSTACK_METRIC_NAMESPACE=CallStack/Media',
        'CALLSTACK_RTC_MIN_PORT=40000',
        'CALLSTACK_RTC_MAX_PORT=49999',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'etc/addresses.env'),
      'CALLSTACK_INSTANCE_ID=i-0abc\nCALLSTACK_AZ=eu-west-1a\nCALLSTACK_PUBLIC_IP=203.0.113.7\nCALLSTACK_PRIVATE_IP=10.40.0.7\n',
    );
    writeFileSync(join(dir, 'etc/secrets/control-secret'), `${SECRET}\n`);
    writeFileSync(join(dir, 'etc/secrets/control-auth-header'), `Authorization: Bearer ${SECRET}\n`);
    // The aws CLI stand-in records each call, one line of arguments per call.
    writeFileSync(join(dir, 'bin/aws'), `#!/bin/bash\nprintf '%s\\n' "$*" >>"${dir}/aws-calls"\n`);
    chmodSync(join(dir, 'bin/aws'), 0o755);
  });

  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    ...process.env,
    PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
    CALLSTACK_ETC: join(dir, 'etc'),
    CALLSTACK_LIB: join(dir, 'lib'),
    CALLSTACK_STATE: join(dir, 'state'),
    CALLSTACK_IMDS: `${url}/latest`,
    CALLSTACK_CONTROL_URL: url,
  });
  // Async: the stand-in servers live in this process and must keep answering.
  const agent = (command: string) => promisify(execFile)('bash', [join(dir, 'lib/callstack-node'), command], { env: env(), timeout: 20_000 });
  const awsCalls = () => (existsSync(join(dir, 'aws-calls')) ? readFileSync(join(dir, 'aws-calls'), 'utf8').trim().split('\n') : []);

  test('every shell script and generated boot script parses', () => {
    for (const file of readdirSync(NODE_DIR).filter((f) => f.endsWith('.sh'))) {
      execFileSync('bash', ['-n', join(NODE_DIR, file)]);
    }
    for (const kind of ['media', 'sip', 'turn'] as const) {
      const script = bootScript({
        kind,
        env: { CALLSTACK_REGION: 'eu-west-1' },
        units: { 'callstack-x.service': serviceUnit({ description: 'x', exec: '/bin/true' }) },
        files: [
          {
            path: '/etc/callstack/turnserver.conf.in',
            content: renderTurnserverConf({ realm: 'example.com', relayPorts: { min: 49152, max: 65535 } }),
            mode: '0644',
          },
        ],
      });
      const file = join(dir, `boot-${kind}.sh`);
      writeFileSync(file, script);
      execFileSync('bash', ['-n', file]);
      assert.match(script, /CALLSTACK_UNITS="callstack-x\.service"/);
      // The static files travel compressed; written out, the script still parses and has them all.
      const plain = expandBootScript(script);
      writeFileSync(file, plain);
      execFileSync('bash', ['-n', file]);
      for (const path of ['/usr/local/lib/callstack/callstack-node', '/etc/systemd/system/callstack-x.service', '/etc/callstack/turnserver.conf.in']) {
        assert.ok(plain.includes(`cat >${path} <<'CALLSTACK_EOF'\n`), path);
      }
    }
  });

  test('boot script rejects env values that would break the env file', () => {
    assert.throws(() => bootScript({ kind: 'media', env: { CALLSTACK_EDGE_URL: 'https://x $(id)' }, units: {} }), /unsafe/);
    assert.throws(() => bootScript({ kind: 'media', env: { EDGE_URL: 'x' }, units: {} }), /CALLSTACK_/);
  });

  test('register: signed POST to {edge}/api/fleet/nodes with region, addresses and drain state', async () => {
    requests.length = 0;
    await agent('register');
    const [post] = requests.filter((r) => r.path === '/api/fleet/nodes');
    assert.ok(post);
    assert.equal(post.method, 'POST');
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(post.headers['x-callstack-signature']));
    assert.ok(match, 'signature header');
    const [, t, v1] = match;
    assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${post.body}`).digest('hex'));
    assert.ok(Math.abs(Number(t) - Date.now() / 1000) < 60);
    assert.deepEqual(JSON.parse(post.body), {
      kind: 'media',
      instanceId: 'i-0abc',
      region: 'eu-west-1',
      availabilityZone: 'eu-west-1a',
      publicIp: '203.0.113.7',
      privateIp: '10.40.0.7',
      hostname: null,
      draining: false,
      controlUrl: 'http://203.0.113.7:8443',
      rtcPorts: { min: 40000, max: 49999 },
    });
  });

  test('media configure: the service knows itself by the instance id it is registered under', async () => {
    // `install -g callstack` needs the node's system user; the stand-in only creates the file.
    const configure =
      'CONF=$1; SECRETS=$1/secrets; set -a; . "$1/node.env"; . "$1/addresses.env"; set +a; . "$2"; install() { : >"${@: -1}"; }; node_configure';
    await promisify(execFile)('bash', ['-c', configure, 'configure', join(dir, 'etc'), join(dir, 'lib/node.sh')], { env: env() });
    const mediaEnv = Object.fromEntries(
      readFileSync(join(dir, 'etc/media.env'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    assert.equal(mediaEnv.MEDIA_NODE_ID, 'i-0abc');
    assert.equal(mediaEnv.MEDIA_CONTROL_SECRET, SECRET);
    assert.equal(mediaEnv.MEDIA_ANNOUNCED_IP, '203.0.113.7');
    assert.equal(mediaEnv.EDGE_URL, url);
  });

  test('sip configure: drachtio config, gateway env and Kamailio defines agree, secrets root-only', async () => {
    const sip = join(dir, 'sip');
    for (const sub of ['secrets', 'tls']) mkdirSync(join(sip, sub), { recursive: true });
    writeFileSync(
      join(sip, 'node.env'),
      [
        'CALLSTACK_KIND=sip',
        'CALLSTACK_REGION=eu-west-1',
        `CALLSTACK_EDGE_URL=${url}`,
        'CALLSTACK_HOSTNAME=sip-1.eu-west-1.rtc.test.example',
        'CALLSTACK_DATABASE_SECRET_ID=callstack/database-url',
        'CALLSTACK_SIP_REALM=sip.test.example',
        'CALLSTACK_GATEWAY_PORT=8443',
        'CALLSTACK_RTP_MIN_PORT=30000',
        'CALLSTACK_RTP_MAX_PORT=39999',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(sip, 'addresses.env'),
      'CALLSTACK_INSTANCE_ID=i-0sip\nCALLSTACK_AZ=eu-west-1a\nCALLSTACK_PUBLIC_IP=203.0.113.9\nCALLSTACK_PRIVATE_IP=10.40.0.9\n',
    );
    writeFileSync(join(sip, 'secrets/control-secret'), `${SECRET}\n`);
    // The TLS files exist (no snakeoil copy); users and groups of the node are not needed here:
    // -g/-o and chown are dropped, everything else (modes included) runs for real.
    for (const f of ['fullchain.pem', 'privkey.pem']) writeFileSync(join(sip, 'tls', f), '');
    const configure = [
      'set -euo pipefail',
      'CONF=$1; SECRETS=$1/secrets; set -a; . "$1/node.env"; . "$1/addresses.env"; set +a; . "$2"',
      'log() { echo "$*" >&2; }',
      'fetch_secret() { echo "postgresql://callstack:s3cret@ep-test-123.eu-west-1.aws.neon.tech/callstack?sslmode=require" >"$2"; }',
      'install_drachtio() { echo installed >"$CONF/drachtio-installed"; }',
      'chown() { :; }',
      'install() { local a=(); while (($#)); do case $1 in -g|-o) shift 2 ;; *) a+=("$1"); shift ;; esac; done; command install "${a[@]}"; }',
      'node_configure',
    ].join('\n');
    const run = () => promisify(execFile)('bash', ['-c', configure, 'configure', sip, join(NODE_DIR, 'sip.sh')], { env: env() });
    await run();
    const read = (name: string) => readFileSync(join(sip, name), 'utf8');
    const mode = (name: string) => (statSync(join(sip, name)).mode & 0o777).toString(8);
    assert.equal(read('drachtio-installed'), 'installed\n');

    const gatewayEnv = Object.fromEntries(
      read('sip-gateway.env')
        .trim()
        .split('\n')
        .map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    const token = gatewayEnv.SIP_GATEWAY_LOCAL_TOKEN ?? '';
    const admin = gatewayEnv.DRACHTIO_SECRET ?? '';
    assert.match(token, /^[0-9a-f]{48}$/);
    assert.match(admin, /^[0-9a-f]{48}$/);
    assert.notEqual(token, admin);
    assert.deepEqual(gatewayEnv, {
      NODE_ENV: 'production',
      SIP_GATEWAY_NODE_ID: 'i-0sip',
      SIP_GATEWAY_EDGE_URL: url,
      SIP_GATEWAY_SECRET: SECRET,
      SIP_GATEWAY_LISTEN_HOST: '10.40.0.9',
      SIP_GATEWAY_LISTEN_PORT: '8443',
      SIP_GATEWAY_CONTROL_URL: 'http://203.0.113.9:8443',
      SIP_GATEWAY_LOCAL_TOKEN: token,
      SIP_GATEWAY_REALM: 'sip.test.example',
      SIP_GATEWAY_PROXY: 'sip:127.0.0.1:5060',
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_PORT: '9022',
      DRACHTIO_SECRET: admin,
      RTPENGINE_HOST: '127.0.0.1',
      RTPENGINE_PORT: '22222',
      // Voicemail recorders listen where rtpengine (on the private interface) sends.
      SIP_GATEWAY_MEDIA_IP: '10.40.0.9',
    });
    assert.equal(mode('sip-gateway.env'), '600');

    const xml = read('drachtio.conf.xml');
    assert.ok(xml.includes(`<admin port="9022" secret="${admin}">127.0.0.1</admin>`), xml);
    assert.ok(xml.includes('<contact>sip:127.0.0.1:5080;transport=udp,tcp</contact>'));
    assert.ok(xml.includes('<cdrs>false</cdrs>'));
    assert.ok(xml.includes('<logging><console/><loglevel>info</loglevel></logging>'));
    assert.equal(mode('drachtio.conf.xml'), '600');

    const kamailio = read('kamailio-local.cfg');
    for (const line of [
      '#!define CALLSTACK_PUBLIC_IP "203.0.113.9"',
      '#!define CALLSTACK_CONTROL_SECRET "test-control-secret-0123456789"',
      '#!define CALLSTACK_RTPENGINE_SOCK "udp:127.0.0.1:22222"',
      '#!define CALLSTACK_GATEWAY_SIP "sip:127.0.0.1:5080"',
      // Registrations in Neon, its URL in the form Kamailio parses.
      '#!define WITH_DB',
      '#!define CALLSTACK_DB_URL "postgres://callstack:s3cret@ep-test-123.eu-west-1.aws.neon.tech/callstack"',
      '#!substdef "!CALLSTACK_GATEWAY_HTTP!http://10.40.0.9:8443!g"',
      `#!substdef "!CALLSTACK_LOCAL_TOKEN!${token}!g"`,
      '#!substdef "!CALLSTACK_REALM!sip.test.example!g"',
      '#!substdef "!CALLSTACK_SIP_UDP!udp:10.40.0.9:5060 advertise 203.0.113.9:5060!g"',
      `#!substdef "!CALLSTACK_DISPATCHER_LIST!${sip}/dispatcher.list!g"`,
    ]) {
      assert.ok(kamailio.split('\n').includes(line), `kamailio-local.cfg: ${line}`);
    }
    assert.equal(mode('kamailio-local.cfg'), '640');
    assert.equal(read('dispatcher.list'), '1 sip:127.0.0.1:5080\n');
    assert.equal(mode('secrets/local-token'), '600');

    // A second boot (the service restarted, the instance rebooted) keeps the node-local secrets.
    await run();
    assert.ok(read('sip-gateway.env').includes(`SIP_GATEWAY_LOCAL_TOKEN=${token}\n`));
    assert.ok(read('drachtio.conf.xml').includes(`secret="${admin}"`));
  });

  test('metrics: ConsumersPerWorker, Peers and Rooms with the group dimension', async () => {
    await agent('metrics');
    const call = awsCalls().at(-1) ?? '';
    assert.match(call, /^cloudwatch put-metric-data --region eu-west-1 --namespace CallStack\/Media --metric-data /);
    const data = JSON.parse(call.slice(call.indexOf('[')));
    const dims = [{ Name: 'AutoScalingGroupName', Value: 'callstack-eu-west-1-media' }];
    assert.deepEqual(data, [
      { MetricName: 'ConsumersPerWorker', Value: 10, Unit: 'Count', Dimensions: dims },
      { MetricName: 'Peers', Value: 10, Unit: 'Count', Dimensions: dims },
      { MetricName: 'Rooms', Value: 2, Unit: 'Count', Dimensions: dims },
    ]);
  });

  test('lifecycle: on Terminated drains, waits until empty, completes the action', async () => {
    requests.length = 0;
    const child = spawn('bash', [join(dir, 'lib/callstack-node'), 'lifecycle'], { env: env(), stdio: 'ignore', detached: true });
    try {
      const deadline = Date.now() + 20_000;
      while (!awsCalls().some((c) => c.startsWith('autoscaling')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const complete = awsCalls().find((c) => c.startsWith('autoscaling'));
      assert.equal(
        complete,
        'autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name callstack-eu-west-1-media --lifecycle-hook-name callstack-drain --instance-id i-0abc --lifecycle-action-result CONTINUE',
      );
      const paths = requests.map((r) => `${r.method} ${r.path}`);
      assert.ok(paths.indexOf('POST /control/drain') < paths.lastIndexOf('GET /control/status'));
      const registration = requests.find((r) => r.path === '/api/fleet/nodes');
      assert.equal(JSON.parse(registration?.body ?? '{}').draining, true, 'the edge hears about the drain first');
    } finally {
      // The agent sleeps after completing; end its whole process group (it was started detached).
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    }
  });
});
