import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { CLOUDFLARE_IPV4 } from '../lib/config.ts';
import { DEBIAN_12_AMI_PARAMETER } from '../lib/node-group.ts';
import { USER_DATA_LIMIT } from '../lib/node/boot.ts';
import { app, config, fleet, policyStatements, rawUserData, shared, userData } from './support.ts';

type Ingress = { IpProtocol: string; FromPort: number; ToPort: number; CidrIp?: string; SourceSecurityGroupId?: unknown };

/** Inline and separate ingress rules of the security group whose logical id contains `part`. */
function ingress(part: string, index = 0): Ingress[] {
  const t = fleet(index);
  const groups = t.findResources('AWS::EC2::SecurityGroup');
  const [id, sg] = Object.entries(groups).find(([logicalId]) => logicalId.includes(part)) ?? [];
  assert.ok(id, `security group ${part}`);
  const inline = (sg as { Properties: { SecurityGroupIngress?: Ingress[] } }).Properties.SecurityGroupIngress ?? [];
  const separate = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress'))
    .map((r) => (r as { Properties: Ingress & { GroupId: { 'Fn::GetAtt': [string] } } }).Properties)
    .filter((p) => p.GroupId['Fn::GetAtt'][0] === id);
  return [...inline, ...separate];
}

const opens = (rules: Ingress[], proto: string, from: number, to: number, cidr = '0.0.0.0/0') =>
  rules.some((r) => r.IpProtocol === proto && r.FromPort === from && r.ToPort === to && r.CidrIp === cidr);

describe('stacks', () => {
  test('one fleet stack per region, each pinned to its region, after the shared stack', () => {
    const { fleets, shared: sharedStack } = app();
    assert.deepEqual(
      fleets.map((f) => f.region),
      ['eu-west-1', 'us-east-1'],
    );
    assert.equal(sharedStack.region, 'eu-west-1');
    for (const f of fleets) assert.ok(f.dependencies.includes(sharedStack));
  });

  test('network: public subnets in two AZs, no NAT gateway, flow logs to S3', () => {
    for (const index of [0, 1]) {
      const t = fleet(index);
      t.resourceCountIs('AWS::EC2::NatGateway', 0);
      t.resourceCountIs('AWS::EC2::Subnet', 2);
      t.hasResourceProperties('AWS::EC2::FlowLog', { LogDestinationType: 's3', TrafficType: 'ALL' });
    }
    fleet(0).hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'eu-west-1b', MapPublicIpOnLaunch: true });
    // Without configured AZs the AZs come from Fn::GetAZs at deploy time: no lookup at synth.
    fleet(1).hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] } });
  });

  test('every launch template: Debian 12 SSM AMI, IMDSv2 only, encrypted root, public address', () => {
    const t = fleet();
    const lts = Object.values(t.findResources('AWS::EC2::LaunchTemplate'));
    assert.equal(lts.length, 4); // media, sip-1, sip-2, turn
    for (const lt of lts) {
      const data = (lt as { Properties: { LaunchTemplateData: Record<string, any> } }).Properties.LaunchTemplateData;
      assert.equal(data.MetadataOptions.HttpTokens, 'required');
      assert.equal(data.MetadataOptions.HttpPutResponseHopLimit, 1);
      assert.equal(data.BlockDeviceMappings[0].Ebs.Encrypted, true);
      assert.equal(data.NetworkInterfaces[0].AssociatePublicIpAddress, true);
      assert.equal(data.Monitoring.Enabled, true);
      assert.match(JSON.stringify(data.ImageId), /SsmParameterValue.*debian/i);
    }
    const params = t.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    assert.ok(Object.values(params).some((p) => p.Default === DEBIAN_12_AMI_PARAMETER && p.Type.includes('AWS::EC2::Image::Id')));
  });

  test('media: RTC range open to the world, control API only to the edge ranges and the SIP edge', () => {
    const rules = ingress('MediaFleetSecurityGroup');
    assert.ok(opens(rules, 'udp', 40000, 49999));
    assert.ok(opens(rules, 'tcp', 40000, 49999));
    const control = rules.filter((r) => r.FromPort === 8443);
    assert.ok(control.every((r) => r.CidrIp !== '0.0.0.0/0'));
    assert.deepEqual(
      control
        .filter((r) => r.CidrIp)
        .map((r) => r.CidrIp)
        .sort(),
      [...CLOUDFLARE_IPV4].sort(),
    );
    assert.equal(control.filter((r) => r.SourceSecurityGroupId).length, 1);
  });

  test('media: target tracking on CallStack/Media ConsumersPerWorker and on CPU', () => {
    const t = fleet();
    t.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: {
        TargetValue: config.media.targetConsumersPerWorker,
        CustomizedMetricSpecification: {
          Namespace: 'CallStack/Media',
          MetricName: 'ConsumersPerWorker',
          Statistic: 'Average',
          Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'callstack-eu-west-1-media' }],
        },
      },
    });
    t.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      TargetTrackingConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' } }),
    });
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      AutoScalingGroupName: 'callstack-eu-west-1-media',
      MinSize: String(config.media.minCapacity),
      MaxSize: String(config.media.maxCapacity),
    });
  });

  test('media and SIP: scale-in lifecycle hook, 1 h heartbeat, CONTINUE by default', () => {
    const t = fleet();
    const hooks = Object.values(t.findResources('AWS::AutoScaling::LifecycleHook')).map((h) => (h as { Properties: Record<string, unknown> }).Properties);
    assert.equal(hooks.length, 3); // media, sip-1, sip-2
    for (const hook of hooks) {
      assert.equal(hook.LifecycleTransition, 'autoscaling:EC2_INSTANCE_TERMINATING');
      assert.equal(hook.HeartbeatTimeout, 3600);
      assert.equal(hook.DefaultResult, 'CONTINUE');
      assert.equal(hook.LifecycleHookName, 'callstack-drain');
    }
    const script = userData(t, 'MediaFleet');
    assert.match(script, /CALLSTACK_DRAIN_HOOK=callstack-drain/);
    assert.match(script, /callstack-lifecycle\.service/);
  });

  test('SIP: Elastic IP per node, SIP/TLS/WSS and RTP ports', () => {
    const t = fleet();
    t.resourceCountIs('AWS::EC2::EIP', config.sip.nodes);
    const rules = ingress('SipEdgeSecurityGroup');
    for (const [proto, from, to] of [
      ['udp', 5060, 5060],
      ['tcp', 5060, 5060],
      ['tcp', 5061, 5061],
      ['tcp', 443, 443],
      ['udp', 30000, 39999],
    ] as const) {
      assert.ok(opens(rules, proto, from, to), `${proto} ${from}-${to}`);
    }
    t.resourcePropertiesCountIs('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '1' }, config.sip.nodes);
    const script = userData(t, 'SipEdgeNode1');
    assert.match(script, /CALLSTACK_HOSTNAME=sip-1\.eu-west-1\.rtc\.test\.example/);
    assert.match(script, /callstack-kamailio\.service/);
    assert.match(script, /callstack-rtpengine\.service/);
  });

  test('SIP: drachtio-server and the gateway are installed and enabled, in start order', () => {
    const script = userData(fleet(), 'SipEdgeNode1');
    const unit = (name: string) => {
      const m = new RegExp(`cat >/etc/systemd/system/${name} <<'CALLSTACK_EOF'\n([^]*?)CALLSTACK_EOF\n`).exec(script);
      assert.ok(m, `${name} is written`);
      return m[1] ?? '';
    };
    const drachtio = unit('callstack-drachtio.service');
    assert.match(drachtio, /^ExecStart=\/usr\/local\/bin\/drachtio -f \/etc\/callstack\/drachtio\.conf\.xml --disable-nat-detection$/m);
    assert.match(drachtio, /^User=callstack$/m);
    assert.match(drachtio, /^After=.*callstack-rtpengine\.service/m);
    const gateway = unit('callstack-sip-gateway.service');
    assert.match(gateway, /^ExecStart=\/opt\/callstack\/runtime\/bin\/node --import tsx sip-edge\/src\/main\.ts$/m);
    assert.match(gateway, /^WorkingDirectory=\/opt\/callstack$/m);
    assert.match(gateway, /^EnvironmentFile=\/etc\/callstack\/sip-gateway\.env$/m);
    assert.match(gateway, /^After=.*callstack-drachtio\.service/m);
    assert.match(unit('callstack-kamailio.service'), /^After=.*callstack-sip-gateway\.service/m);
    for (const u of [drachtio, gateway]) assert.match(u, /^WantedBy=multi-user\.target$/m);
    const enabled = /^CALLSTACK_UNITS="([^"]*)"$/m.exec(script)?.[1]?.split(' ') ?? [];
    const order = ['callstack-rtpengine.service', 'callstack-drachtio.service', 'callstack-sip-gateway.service', 'callstack-kamailio.service'];
    assert.deepEqual(
      enabled.filter((u) => order.includes(u)),
      order,
    );
    assert.match(script, /^CALLSTACK_SIP_REALM=sip\.callstack\.local$/m);
    assert.match(script, /^CALLSTACK_GATEWAY_PORT=8443$/m);
  });

  test('SIP: gateway control port only to the edge ranges, its secrets made on the node', () => {
    const rules = ingress('SipEdgeSecurityGroup').filter((r) => r.FromPort <= 8443 && r.ToPort >= 8443 && r.IpProtocol !== 'udp');
    assert.ok(rules.every((r) => r.CidrIp !== '0.0.0.0/0'));
    assert.deepEqual(rules.map((r) => r.CidrIp).sort(), [...CLOUDFLARE_IPV4].sort());
    for (const internal of [5080, 9022, 22222]) {
      assert.ok(!ingress('SipEdgeSecurityGroup').some((r) => r.FromPort <= internal && r.ToPort >= internal), `${internal} stays closed`);
    }
    // Every secret the gateway and drachtio get is read or generated by the node, at boot.
    const script = userData(fleet(), 'SipEdgeNode1');
    assert.match(script, /^SIP_GATEWAY_SECRET=\$\(cat "\$SECRETS\/control-secret"\)$/m);
    assert.match(script, /^SIP_GATEWAY_LOCAL_TOKEN=\$token$/m);
    assert.match(script, /^DRACHTIO_SECRET=\$admin$/m);
    assert.match(script, /<admin port="9022" secret="\$admin">127\.0\.0\.1<\/admin>/);
    const template = JSON.stringify(fleet().toJSON());
    for (const name of ['SIP_GATEWAY_SECRET', 'SIP_GATEWAY_LOCAL_TOKEN', 'DRACHTIO_SECRET', 'CALLSTACK_LOCAL_TOKEN']) {
      assert.doesNotMatch(template, new RegExp(`${name}=[^$]`), `${name} has no value in the template`);
    }
  });

  test('TURN: NLB on UDP/TCP 3478 and TLS 5349 and 443; coturn config denies private peers', () => {
    const t = fleet();
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internet-facing' });
    const listeners = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::Listener')).map(
      (l) => (l as { Properties: { Port: number; Protocol: string } }).Properties,
    );
    assert.deepEqual(listeners.map((l) => `${l.Protocol}:${l.Port}`).sort(), ['TCP_UDP:3478', 'TLS:443', 'TLS:5349']);
    const rules = ingress('TurnSecurityGroup');
    assert.ok(opens(rules, 'udp', 3478, 3478) && opens(rules, 'tcp', 3478, 3478));
    assert.ok(opens(rules, 'udp', config.turn.relayPorts.min, config.turn.relayPorts.max));
    const script = userData(t, 'Turn');
    for (const range of [
      '0.0.0.0-0.255.255.255',
      '10.0.0.0-10.255.255.255',
      '127.0.0.0-127.255.255.255',
      '169.254.0.0-169.254.255.255',
      '172.16.0.0-172.31.255.255',
      '192.168.0.0-192.168.255.255',
    ]) {
      assert.ok(script.includes(`denied-peer-ip=${range}\n`), range);
    }
    assert.match(script, /\nno-multicast-peers\n/);
    assert.match(script, /\nuse-auth-secret\n/);
    assert.doesNotMatch(script, /static-auth-secret=(?!%s)/, 'the secret is added on the node, never in the template');
  });

  test('IAM: no wildcard actions; "*" resources only with a condition; secrets and artifacts scoped', () => {
    for (const t of [fleet(0), fleet(1), shared()]) {
      for (const s of policyStatements(t)) {
        const actions = [s.Action].flat();
        assert.ok(
          actions.every((a) => !a.includes('*')),
          `${s.policy}: ${actions.join(',')}`,
        );
        if (s.Resource === '*') assert.ok(s.Condition, `${s.policy}: ${actions.join(',')} on * needs a condition`);
      }
    }
    const statements = policyStatements(fleet());
    const secretReads = statements.filter((s) => s.Action === 'secretsmanager:GetSecretValue');
    assert.ok(secretReads.length >= 4);
    for (const s of secretReads) assert.match(JSON.stringify(s.Resource), /secret:callstack\/[a-z-]+-\?{6}/);
    const artifactReads = statements.filter((s) => s.Action === 's3:GetObject');
    assert.ok(artifactReads.some((s) => JSON.stringify(s.Resource).includes('/media-fleet/latest.tar.gz')));
    assert.ok(artifactReads.some((s) => JSON.stringify(s.Resource).includes('/sip-edge/latest.tar.gz')));
    const turnPolicy = statements.filter((s) => s.policy.startsWith('TurnNodes'));
    assert.ok(turnPolicy.every((s) => !JSON.stringify(s.Resource).includes('media-control') || s.Action === 'secretsmanager:GetSecretValue'));
    assert.ok(!turnPolicy.some((s) => s.Action === 's3:GetObject'), 'TURN needs no artifact');
  });

  test('user data: region, edge URL and secret names only (no secret values), under 16 KB', () => {
    for (const [index, region] of [
      [0, 'eu-west-1'],
      [1, 'us-east-1'],
    ] as const) {
      const t = fleet(index);
      for (const part of ['MediaFleet', 'SipEdgeNode1', 'Turn']) {
        const raw = rawUserData(t, part);
        assert.ok(Buffer.byteLength(raw) + 1000 < USER_DATA_LIMIT, `${part} user data is ${Buffer.byteLength(raw)} bytes`);
        const script = userData(t, part);
        assert.match(script, new RegExp(`CALLSTACK_REGION=${region}\n`));
        assert.match(script, /CALLSTACK_EDGE_URL=https:\/\/edge\.test\.example\n/);
        assert.match(script, /CALLSTACK_CONTROL_SECRET_ID=callstack\/media-control-secret\n/);
        assert.match(script, /exec \/usr\/local\/lib\/callstack\/callstack-node boot\n/);
      }
    }
  });

  test('secrets: generated, replicated to the other regions, never in the template', () => {
    const t = shared();
    const secrets = Object.values(t.findResources('AWS::SecretsManager::Secret')).map((s) => (s as { Properties: Record<string, any> }).Properties);
    assert.deepEqual(secrets.map((s) => s.Name).sort(), ['callstack/database-url', 'callstack/media-control-secret', 'callstack/turn-secret']);
    for (const s of secrets) {
      assert.ok(s.GenerateSecretString);
      assert.equal(s.SecretString, undefined);
      assert.deepEqual(s.ReplicaRegions, [{ Region: 'us-east-1' }]);
    }
  });

  test('artifact bucket: versioned, encrypted, no public access, TLS only, access-logged', () => {
    const t = shared();
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: { 'Fn::Join': ['', ['callstack-artifacts-', { Ref: 'AWS::AccountId' }, '-eu-west-1']] },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('observability: encrypted topic, alarms to it, dashboard, email subscription', () => {
    const t = fleet();
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@test.example' });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: Record<string, any> }).Properties);
    assert.ok(alarms.length >= 10);
    for (const a of alarms) assert.equal(a.AlarmActions.length, 1);
    const names = JSON.stringify(alarms);
    for (const metric of ['GroupInServiceInstances', 'CPUUtilization', 'ConsumersPerWorker', 'SipFailures', 'UnHealthyHostCount']) {
      assert.ok(names.includes(metric), metric);
    }
    // Scaling events of every group reach the topic.
    t.resourceCountIs('AWS::Events::Rule', 4);
  });
});
