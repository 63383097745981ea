/**
 * `npm run deploy:check`: what a deploy would build, offline: the Worker bundle
 * (`wrangler deploy --dry-run`) and the CloudFormation templates (`cdk synth`).
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { buildWeb, ROOT, WRANGLER_OFFLINE_ENV } from './lib/stack.ts';

const outdir = join(ROOT, '.tmp', 'deploy-check');
const env = { ...process.env, ...WRANGLER_OFFLINE_ENV };

function run(title: string, command: string, args: string[]): void {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`✖ ${title} failed`);
    process.exit(result.status ?? 1);
  }
}

buildWeb();
run('wrangler deploy --dry-run', join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir]);
console.log(`Worker bundle: ${(statSync(join(outdir, 'index.js')).size / 1024).toFixed(0)} KiB (uncompressed)`);
run('cdk synth', 'npm', ['run', '--silent', 'synth', '-w', 'infra-cdk']);
console.log('\n✔ deploy check passed');
