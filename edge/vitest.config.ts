/**
 * Unit tests that run inside workerd (vitest-pool-workers), with the Worker's real bindings from
 * wrangler.toml. The database is deliberately unreachable here (a closed local port): these tests
 * cover what the edge does without it; tests/integration covers the edge against PostgreSQL,
 * including a runtime killed and restarted mid-call.
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: {
          DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:9/none',
          NEON_WS_PROXY: 'ws://127.0.0.1:9',
          JWT_SECRET: 'unit-test-secret-unit-test-secret',
          RING_TIMEOUT_SECONDS: '1',
          TURN_SECRET: 'turn-secret',
          MEDIA_CONTROL_SECRET: 'media-control-secret',
          TURN_URLS: 'stun:stun.example.test:3478,turn:turn.example.test:3478?transport=udp,turns:turn.example.test:443?transport=tcp',
        },
      },
    }),
  ],
  test: { include: ['test/**/*.test.ts'], testTimeout: 20_000 },
});
