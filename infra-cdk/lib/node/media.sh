# Media node hooks for callstack-node: the media-fleet service (mediasoup) from the prebuilt artifact.
# The artifact carries its own Node runtime (runtime/bin/node) and the prebuilt mediasoup worker.
NODE_PACKAGES=()
NODE_MASKED_UNITS=()
CONTROL_URL=${CALLSTACK_CONTROL_URL:-http://127.0.0.1:8443}

control() {
  curl -sf --max-time 5 -H "@$SECRETS/control-auth-header" -X "$1" "$CONTROL_URL$2"
}

node_prepare() {
  id callstack >/dev/null 2>&1 || useradd --system --home-dir /opt/callstack --shell /usr/sbin/nologin callstack
}

# MEDIA_NODE_ID is the instance id, the name the agent registers the node under: the node's
# events carry it, and the edge ignores events from a node id it did not place the room on.
node_configure() {
  (umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SECRETS/control-secret")" >"$SECRETS/control-auth-header")
  install -m 0640 -g callstack /dev/null "$CONF/media.env"
  cat >"$CONF/media.env" <<ENV
NODE_ENV=production
MEDIA_NODE_ID=$CALLSTACK_INSTANCE_ID
MEDIA_CONTROL_SECRET=$(cat "$SECRETS/control-secret")
MEDIA_ANNOUNCED_IP=$CALLSTACK_PUBLIC_IP
MEDIA_RTC_MIN_PORT=$CALLSTACK_RTC_MIN_PORT
MEDIA_RTC_MAX_PORT=$CALLSTACK_RTC_MAX_PORT
EDGE_URL=$CALLSTACK_EDGE_URL
NODE_REGION=$CALLSTACK_REGION
ENV
}

node_registration() {
  jq -cn --arg url "http://$CALLSTACK_PUBLIC_IP:8443" \
    --argjson min "$CALLSTACK_RTC_MIN_PORT" --argjson max "$CALLSTACK_RTC_MAX_PORT" \
    '{controlUrl: $url, rtcPorts: {min: $min, max: $max}}'
}

node_drain() { control POST /control/drain >/dev/null; }

# Empty once no room is left; an unreachable service has nothing left to drain either.
node_idle() {
  local status
  status=$(control GET /control/status) || return 0
  jq -e '.rooms == 0 and .peers == 0' <<<"$status" >/dev/null
}

# ConsumersPerWorker drives scaling: consumers (or peers if the status has no count) per mediasoup
# worker (one per vCPU unless the status says otherwise).
node_metrics() {
  local status
  status=$(control GET /control/status) || return 0
  jq -r --argjson cpus "$(nproc)" '(.workers // $cpus) as $w | (.consumers // .peers) as $c
    | "ConsumersPerWorker \($c / $w) Count", "Peers \(.peers) Count", "Rooms \(.rooms) Count"' <<<"$status"
}
