// The test runtime's `env` carries the Worker's bindings (wrangler.toml + vitest.config.ts).
import type { Env as EdgeEnv } from '../src/env.ts';

declare global {
  namespace Cloudflare {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends EdgeEnv {}
  }
}
