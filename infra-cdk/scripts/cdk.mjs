#!/usr/bin/env node
// Runs the pinned CDK CLI from this folder with an offline-safe environment, so that
// `npm run cdk -- synth` behaves the same from the root (-w infra-cdk) and from here.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const cli = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
const env = {
  ...process.env,
  // Keeps the CLI's cache and notices state inside the work tree (gitignored).
  CDK_HOME: process.env.CDK_HOME ?? `${here}.cdk-home`,
  // Without credentials the SDK would otherwise probe the EC2 metadata endpoint and stall.
  AWS_EC2_METADATA_DISABLED: process.env.AWS_EC2_METADATA_DISABLED ?? 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};
const args = [cli, ...process.argv.slice(2), '--no-notices'];
const result = spawnSync(process.execPath, args, { cwd: here, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
