#!/bin/bash
# callstack-node: boots a CallStack node and runs its periodic jobs.
#   boot      install packages, fetch the artifact and secrets, write configs, start units
#   register  signed heartbeat to {edge}/api/fleet/nodes (a systemd timer runs it every minute)
#   lifecycle wait for scale-in (IMDS target-lifecycle-state), drain, complete the lifecycle action
#   metrics   publish the node's CloudWatch metrics (a systemd timer runs it every minute)
# Settings come from /etc/callstack/node.env (user data); the node kind's hooks from node.sh.
set -euo pipefail
# The CALLSTACK_ETC/LIB/STATE/IMDS overrides exist for the tests, which run the agent in a temp dir.
CONF=${CALLSTACK_ETC:-/etc/callstack}
LIB=${CALLSTACK_LIB:-/usr/local/lib/callstack}
STATE=${CALLSTACK_STATE:-/run/callstack}
SECRETS=$CONF/secrets
. "$CONF/node.env"
IMDS=${CALLSTACK_IMDS:-http://169.254.169.254/latest}
BASE_PACKAGES=(awscli ca-certificates curl jq python3)
. "$LIB/node.sh"

log() { echo "callstack-node: $*" >&2; }

# IMDSv2 only (the launch template requires tokens): each read takes a short-lived session token.
imds() {
  local token
  token=$(curl -sf --retry 5 --retry-connrefused -X PUT "$IMDS/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
  curl -sf --retry 3 -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/$1"
}

# Secrets Manager value (the regional replica, same name in every region) into a root-only file.
fetch_secret() {
  local id=$1 file=$2
  install -d -m 0700 "$SECRETS"
  (umask 077 && aws secretsmanager get-secret-value --region "$CALLSTACK_REGION" --secret-id "$id" \
    --query SecretString --output text >"$file.tmp")
  mv "$file.tmp" "$file"
}

fetch_artifact() {
  local tarball=/var/cache/callstack-artifact.tar.gz
  aws s3 cp --only-show-errors --region "$CALLSTACK_ARTIFACT_REGION" \
    "s3://$CALLSTACK_ARTIFACT_BUCKET/$CALLSTACK_ARTIFACT_KEY" "$tarball"
  install -d -m 0755 /opt/callstack
  tar -xzf "$tarball" -C /opt/callstack --no-same-owner
  rm -f "$tarball"
}

# Packaged daemons would start with stock configs on install; our own callstack-* units run them.
install_packages() {
  local unit
  for unit in "${NODE_MASKED_UNITS[@]}"; do systemctl mask "$unit"; done
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -q -y --no-install-recommends "${BASE_PACKAGES[@]}" "${NODE_PACKAGES[@]}"
}

# HMAC-SHA256 over "<t>.<body>" with the control secret; python keeps the key out of argv.
sign() {
  python3 -c 'import hashlib,hmac,sys
key = open(sys.argv[1], "rb").read().strip()
print(hmac.new(key, sys.stdin.buffer.read(), hashlib.sha256).hexdigest())' "$SECRETS/control-secret"
}

cmd_boot() {
  install -d -m 0755 "$STATE"
  install_packages
  if [ -n "${CALLSTACK_ARTIFACT_KEY:-}" ]; then fetch_artifact; fi
  fetch_secret "$CALLSTACK_CONTROL_SECRET_ID" "$SECRETS/control-secret"
  node_prepare
  cat >"$CONF/addresses.env" <<EOF
CALLSTACK_INSTANCE_ID=$(imds instance-id)
CALLSTACK_AZ=$(imds placement/availability-zone)
CALLSTACK_PUBLIC_IP=$(imds public-ipv4)
CALLSTACK_PRIVATE_IP=$(imds local-ipv4)
EOF
  . "$CONF/addresses.env"
  node_configure
  systemctl daemon-reload
  # shellcheck disable=SC2086 # a list of unit names
  systemctl enable --now $CALLSTACK_UNITS
  log "serving as $CALLSTACK_KIND on $CALLSTACK_PUBLIC_IP in $CALLSTACK_REGION"
}

cmd_register() {
  . "$CONF/addresses.env"
  local draining=false body t
  if [ -e "$STATE/draining" ]; then draining=true; fi
  body=$(jq -cn --arg kind "$CALLSTACK_KIND" --arg region "$CALLSTACK_REGION" --arg az "$CALLSTACK_AZ" \
    --arg instanceId "$CALLSTACK_INSTANCE_ID" --arg publicIp "$CALLSTACK_PUBLIC_IP" \
    --arg privateIp "$CALLSTACK_PRIVATE_IP" --arg hostname "$CALLSTACK_HOSTNAME" \
    --argjson draining "$draining" --argjson extra "$(node_registration)" \
    '{kind: $kind, instanceId: $instanceId, region: $region, availabilityZone: $az, publicIp: $publicIp,
      privateIp: $privateIp, hostname: (if $hostname == "" then null else $hostname end),
      draining: $draining} + $extra')
  t=$(date +%s)
  curl -sf --max-time 10 -X POST "$CALLSTACK_EDGE_URL/api/fleet/nodes" \
    -H 'content-type: application/json' \
    -H "x-callstack-signature: t=$t,v1=$(printf '%s.%s' "$t" "$body" | sign)" \
    --data-binary "$body" >/dev/null
}

cmd_lifecycle() {
  until [ "$(imds autoscaling/target-lifecycle-state || true)" = Terminated ]; do sleep 5; done
  log "scale-in: draining before termination"
  touch "$STATE/draining"
  cmd_register || log "could not tell the edge about the drain"
  node_drain
  until node_idle; do sleep 10; done
  . "$CONF/addresses.env"
  aws autoscaling complete-lifecycle-action --region "$CALLSTACK_REGION" \
    --auto-scaling-group-name "$CALLSTACK_ASG_NAME" --lifecycle-hook-name "$CALLSTACK_DRAIN_HOOK" \
    --instance-id "$CALLSTACK_INSTANCE_ID" --lifecycle-action-result CONTINUE
  log "drained; termination may proceed"
  sleep infinity
}

# node_metrics prints "Name Value Unit" lines; all go out in one call with the group's dimension.
cmd_metrics() {
  local data
  data=$(node_metrics | jq -R -s -c --arg asg "$CALLSTACK_ASG_NAME" '[split("\n")[] | select(length > 0)
    | split(" ") | {MetricName: .[0], Value: (.[1] | tonumber), Unit: .[2],
      Dimensions: [{Name: "AutoScalingGroupName", Value: $asg}]}]')
  if [ "$data" = "[]" ]; then return 0; fi
  aws cloudwatch put-metric-data --region "$CALLSTACK_REGION" --namespace "$CALLSTACK_METRIC_NAMESPACE" \
    --metric-data "$data"
}

case "${1:-}" in
  boot) cmd_boot ;;
  register) cmd_register ;;
  lifecycle) cmd_lifecycle ;;
  metrics) cmd_metrics ;;
  *) echo "usage: $0 boot|register|lifecycle|metrics" >&2; exit 64 ;;
esac
