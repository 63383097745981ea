import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { app } from './support.ts';

interface Finding {
  ruleName: string;
  severity: string;
  violatingResources: { constructPath: string }[];
}

/** cdk-nag's findings on the app; with `raw`, as if nothing were acknowledged. */
function findings(raw: boolean): Finding[] {
  const pack = new AwsSolutionsChecks();
  // isAcknowledged is private in the typings; replacing it shows what the acknowledgements hide.
  if (raw) Object.assign(pack, { isAcknowledged: () => false });
  return pack.validateScope(app().app).violations as Finding[];
}

/** Every acknowledgement in the tree: construct path, rule id, reason. */
function acknowledgements(): { path: string; id: string; reason: string }[] {
  const out: { path: string; id: string; reason: string }[] = [];
  const visit = (c: IConstruct) => {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push({ path: c.node.path, id: id.replace(/^[^:]+::/, ''), reason });
      }
    }
    c.node.children.forEach(visit);
  };
  visit(app().app);
  return out;
}

describe('cdk-nag AwsSolutions', () => {
  test('synth passes the validation plugins with no violation of any severity', () => {
    const { app: cdkApp, outdir } = app();
    cdkApp.synth();
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    for (const plugin of report.pluginReports) assert.deepEqual(plugin.violations, [], plugin.pluginName);
  });

  test('zero unacknowledged errors or warnings', () => {
    const open = findings(false);
    assert.deepEqual(
      open.map((f) => `${f.severity} ${f.ruleName} ${f.violatingResources.map((r) => r.constructPath).join(' ')}`),
      [],
    );
  });

  test('every acknowledgement names an exact rule id that really fires there, with a reason', () => {
    const raw = findings(true);
    const acks = acknowledgements().filter((a) => a.id.startsWith('AwsSolutions-'));
    assert.ok(acks.length > 0);
    for (const ack of acks) {
      assert.ok(ack.reason.length >= 20, `${ack.id} at ${ack.path} needs a reason`);
      const hit = raw.some(
        (f) => f.ruleName === ack.id && f.violatingResources.some((r) => r.constructPath === ack.path || r.constructPath.startsWith(`${ack.path}/`)),
      );
      assert.ok(hit, `stale acknowledgement ${ack.id} at ${ack.path}`);
    }
    if (process.env.CALLSTACK_PRINT_NAG === '1') {
      for (const a of acks) console.log(`${a.path}\t${a.id}\t${a.reason}`);
    }
  });
});
