/**
 * The deploy artifact: `npm run build -w media-fleet` bundles the service into dist/server.js,
 * which the nodes run (infra-cdk). The bundle must start, answer /health, and stop cleanly on
 * SIGTERM as systemd sends it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('dist/server.js starts, answers /health and exits 0 on SIGTERM', async () => {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'dist/server.js')], {
    env: {
      ...process.env,
      MEDIA_CONTROL_SECRET: 'bundle-test-secret-0123',
      MEDIA_LISTEN_HOST: '127.0.0.1',
      MEDIA_LISTEN_PORT: String(port),
      MEDIA_RTC_LISTEN_IP: '127.0.0.1',
      MEDIA_WORKERS: '1',
      LOG_LEVEL: 'silent',
    },
    stdio: 'inherit',
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const deadline = Date.now() + 30_000;
    let health: Response | undefined;
    while (!health?.ok) {
      if (Date.now() > deadline) assert.fail('dist/server.js did not answer /health within 30 s');
      health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      if (!health?.ok) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(health.status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});
