/**
 * CDK entry point. Configuration: defaults in lib/config.ts, a JSON file (-c config=path) and
 * single context keys (-c regions=eu-west-1,us-east-1 -c edgeUrl=... -c domain=...).
 */
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app.ts';
import { loadConfig } from '../lib/config.ts';

// A bare App only reads the context the CLI passes (cdk.json, -c); it must not synthesize itself.
const context = new App({ autoSynth: false });
const { app } = buildApp(loadConfig((key) => context.node.tryGetContext(key)));
app.synth();
