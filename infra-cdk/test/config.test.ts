import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_CONFIG, loadConfig, resolveConfig } from '../lib/config.ts';

const fromContext = (values: Record<string, unknown>) => (key: string) => values[key];

describe('config', () => {
  test('defaults are valid and describe one region with the RTC range 40000-49999', () => {
    const c = resolveConfig();
    assert.equal(c.regions.length, 1);
    assert.equal(c.primaryRegion, c.regions[0]?.region);
    assert.deepEqual(c.media.rtcPorts, { min: 40000, max: 49999 });
    assert.equal(c.drainTimeoutMinutes, 60);
    assert.equal(c.sip.realm, 'sip.callstack.local', "the edge's default SIP_REALM");
  });

  test('context: region list, edge URL, domain, instance types', () => {
    const c = loadConfig(
      fromContext({
        regions: 'us-east-1, eu-central-1',
        edgeUrl: 'https://edge.example.org',
        domain: 'rtc.example.org',
        mediaInstanceType: 'c7i.2xlarge',
        turnInstanceType: 'c7g.large',
      }),
    );
    assert.deepEqual(c.regions, [{ region: 'us-east-1' }, { region: 'eu-central-1' }]);
    assert.equal(c.primaryRegion, 'us-east-1', 'the first region holds the shared stack');
    assert.equal(c.edgeUrl, 'https://edge.example.org');
    assert.equal(c.media.instanceType, 'c7i.2xlarge');
    assert.equal(c.media.minCapacity, DEFAULT_CONFIG.media.minCapacity, 'other media settings keep their defaults');
    assert.equal(c.turn.instanceType, 'c7g.large');
  });

  test('a JSON config file, with context on top', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callstack-config-'));
    writeFileSync(
      join(dir, 'prod.json'),
      JSON.stringify({
        regions: [{ region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] }, { region: 'ap-southeast-1' }],
        media: { maxCapacity: 50 },
        sip: { nodes: 2 },
        artifactVersion: 'v1.2.3',
      }),
    );
    const c = loadConfig(fromContext({ config: 'prod.json', artifactVersion: 'abc123' }), dir);
    assert.equal(c.regions[0]?.availabilityZones?.length, 3);
    assert.equal(c.media.maxCapacity, 50);
    assert.equal(c.artifactVersion, 'abc123');
  });

  test('rejects what would make an unsafe or broken fleet, listing every problem', () => {
    const bad = () =>
      resolveConfig({
        regions: [{ region: 'mars-1' }],
        edgeUrl: 'http://plain.example',
        controlApiCidrs: ['0.0.0.0/0'],
        media: { rtcPorts: { min: 8000, max: 9000 }, minCapacity: 5, maxCapacity: 2 },
        turn: { relayPorts: { min: 3000, max: 4000 } },
        sip: { realm: 'Not A Realm!', rtpPorts: { min: 9000, max: 9100 } },
        drainTimeoutMinutes: 600,
      });
    assert.throws(bad, (e: Error) => {
      for (const part of [
        'region "mars-1"',
        'edgeUrl',
        'control API to the world',
        'media.rtcPorts must not include 8443',
        'media: need 1 <= minCapacity',
        'turn.relayPorts must not include 3478',
        'sip.realm',
        'sip.rtpPorts must not include 9022',
        'drainTimeoutMinutes',
      ]) {
        assert.ok(e.message.includes(part), `missing: ${part}\n${e.message}`);
      }
      return true;
    });
  });

  test('more SIP nodes than AZs is refused', () => {
    assert.throws(() => resolveConfig({ regions: [{ region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'] }], sip: { nodes: 3 } }), /sip.nodes/);
  });
});
