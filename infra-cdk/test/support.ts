/** Shared fixture: the app for two regions (one with explicit AZs, one without), synthesized once. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type CallStackApp } from '../lib/app.ts';
import { resolveConfig, type CallStackConfig } from '../lib/config.ts';
import { expandBootScript } from '../lib/node/boot.ts';

export const config: CallStackConfig = resolveConfig({
  regions: [{ region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'] }, { region: 'us-east-1' }],
  edgeUrl: 'https://edge.test.example',
  domain: 'rtc.test.example',
  alarmEmail: 'ops@test.example',
});

let built: (CallStackApp & { outdir: string }) | undefined;

export function app(): CallStackApp & { outdir: string } {
  if (!built) {
    const outdir = mkdtempSync(join(tmpdir(), 'callstack-cdk-'));
    // The CloudFormation linter plugin costs ~8 s and is run by `npm run synth`; cdk-nag stays on.
    built = { ...buildApp(config, { outdir, builtinCloudFormationValidation: false }), outdir };
  }
  return built;
}

export const fleet = (index = 0) => Template.fromStack(app().fleets[index]!);
export const shared = () => Template.fromStack(app().shared);

type Json = unknown;

/** The launch template user data with CloudFormation references replaced by <Ref>, compressed block expanded. */
export function userData(template: Template, pathPart: string): string {
  return expandBootScript(rawUserData(template, pathPart));
}

/** The user data as EC2 gets it (before base64), CloudFormation references replaced by <Ref>. */
export function rawUserData(template: Template, pathPart: string): string {
  const lts = template.findResources('AWS::EC2::LaunchTemplate');
  const [id, lt] = Object.entries(lts).find(([logicalId]) => logicalId.includes(pathPart)) ?? [];
  if (!id) throw new Error(`no launch template matching ${pathPart}`);
  const data = (lt as { Properties: { LaunchTemplateData: { UserData: Json } } }).Properties.LaunchTemplateData.UserData;
  return flatten((data as { 'Fn::Base64': Json })['Fn::Base64']);
}

function flatten(value: Json): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Fn::Join' in value) {
    const [sep, parts] = (value as { 'Fn::Join': [string, Json[]] })['Fn::Join'];
    return parts.map(flatten).join(sep);
  }
  return '<Ref>';
}

/** Every statement of every IAM policy in a template. */
export function policyStatements(template: Template): { Action: string | string[]; Resource: Json; Condition?: Json; policy: string }[] {
  return Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([policy, res]) =>
    (res as { Properties: { PolicyDocument: { Statement: object[] } } }).Properties.PolicyDocument.Statement.map((s) => ({
      ...(s as { Action: string | string[]; Resource: Json }),
      policy,
    })),
  );
}
