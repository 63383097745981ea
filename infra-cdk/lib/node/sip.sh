# SIP node hooks for callstack-node: Kamailio (SIP UDP/TCP 5060, TLS 5061, WSS 443) and rtpengine.
NODE_PACKAGES=(kamailio kamailio-tls-modules kamailio-websocket-modules kamailio-utils-modules
  kamailio-postgres-modules kamailio-json-modules kamailio-extra-modules rtpengine-daemon certbot ssl-cert)
NODE_MASKED_UNITS=(kamailio.service rtpengine-daemon.service rtpengine.service)
TLS=/etc/callstack/tls

# The node's stable identity: its own Elastic IP, moved here from any previous instance.
node_prepare() {
  aws ec2 associate-address --region "$CALLSTACK_REGION" --allocation-id "$CALLSTACK_EIP_ALLOCATION" \
    --instance-id "$(imds instance-id)" --allow-reassociation >/dev/null
  local _
  for _ in $(seq 60); do
    if [ "$(imds public-ipv4 || true)" = "$CALLSTACK_EIP" ]; then return 0; fi
    sleep 2
  done
  log "Elastic IP $CALLSTACK_EIP not visible in instance metadata"; return 1
}

node_configure() {
  fetch_secret "$CALLSTACK_DATABASE_SECRET_ID" "$SECRETS/database-url"
  cat >"$CONF/rtpengine.conf" <<CONF
[rtpengine]
table = -1
interface = $CALLSTACK_PRIVATE_IP!$CALLSTACK_PUBLIC_IP
listen-ng = 127.0.0.1:22222
port-min = $CALLSTACK_RTP_MIN_PORT
port-max = $CALLSTACK_RTP_MAX_PORT
log-stderr = true
CONF
  # Until certbot has a certificate for the node's name, TLS and WSS run on the snakeoil one.
  install -d -m 0750 -g kamailio "$TLS"
  [ -e "$TLS/fullchain.pem" ] || ln -s /etc/ssl/certs/ssl-cert-snakeoil.pem "$TLS/fullchain.pem"
  [ -e "$TLS/privkey.pem" ] || install -m 0640 -g kamailio /etc/ssl/private/ssl-cert-snakeoil.key "$TLS/privkey.pem"
  install -m 0640 -g kamailio /dev/null "$CONF/kamailio-local.cfg"
  cat >"$CONF/kamailio-local.cfg" <<CFG
#!define CALLSTACK_PUBLIC_IP "$CALLSTACK_PUBLIC_IP"
#!define CALLSTACK_PRIVATE_IP "$CALLSTACK_PRIVATE_IP"
#!define CALLSTACK_HOSTNAME "$CALLSTACK_HOSTNAME"
#!define CALLSTACK_REGION "$CALLSTACK_REGION"
#!define CALLSTACK_EDGE_URL "$CALLSTACK_EDGE_URL"
#!define CALLSTACK_DB_URL "$(cat "$SECRETS/database-url")"
#!define CALLSTACK_CONTROL_SECRET "$(cat "$SECRETS/control-secret")"
#!define CALLSTACK_RTPENGINE_SOCK "udp:127.0.0.1:22222"
#!define CALLSTACK_TLS_CERT "$TLS/fullchain.pem"
#!define CALLSTACK_TLS_KEY "$TLS/privkey.pem"
CFG
}

node_registration() { jq -cn --arg wss "wss://$CALLSTACK_HOSTNAME/ws" '{wssUrl: $wss}'; }

# The config answers new INVITEs with 503 while $shv(draining) is 1; dialogs in progress go on.
node_drain() { kamcmd shv.set draining int 1 >/dev/null; }

node_idle() {
  local active
  active=$(kamcmd dlg.stats_active 2>/dev/null | awk '$1 == "all:" {print $2}') || return 0
  [ "${active:-0}" = 0 ]
}

# SipFailures: 5xx and 6xx final replies since the last sample (counters reset on restart).
node_metrics() {
  local stats total previous active
  stats=$(kamcmd stats.get_statistics tmx: 2>/dev/null) || return 0
  total=$(awk -F' = ' '/:[56]xx_replies/ {sum += $2} END {print sum + 0}' <<<"$stats")
  previous=$(cat "$STATE/sip-failures" 2>/dev/null || echo "$total")
  echo "$total" >"$STATE/sip-failures"
  [ "$total" -ge "$previous" ] || previous=0
  active=$(kamcmd dlg.stats_active 2>/dev/null | awk '$1 == "all:" {print $2}')
  echo "SipFailures $((total - previous)) Count"
  echo "ActiveCalls ${active:-0} Count"
}
