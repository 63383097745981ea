# SIP node hooks for callstack-node: Kamailio (SIP UDP/TCP 5060, TLS 5061, WSS 443), rtpengine,
# drachtio-server (SIP 127.0.0.1:5080, admin 127.0.0.1:9022) and the gateway (control API on
# CALLSTACK_GATEWAY_PORT). The last line of packages is what drachtio-server links against.
NODE_PACKAGES=(kamailio kamailio-tls-modules kamailio-websocket-modules kamailio-utils-modules
  kamailio-postgres-modules kamailio-json-modules kamailio-extra-modules rtpengine-daemon certbot ssl-cert
  libboost-log1.74.0 libboost-thread1.74.0 libboost-filesystem1.74.0 libcurl4 libssl3 zlib1g libjansson4
  libhiredis0.14 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0)
NODE_MASKED_UNITS=(kamailio.service rtpengine-daemon.service rtpengine.service)
TLS=$CONF/tls
APP=/opt/callstack
# Kamailio's ctl socket (kamcmd's default path; Kamailio creates /run/kamailio for its user).
KAMAILIO_CTL=unix:/run/kamailio/kamailio_ctl

# The node's stable identity: its own Elastic IP, moved here from any previous instance.
node_prepare() {
  id callstack >/dev/null 2>&1 || useradd --system --home-dir /opt/callstack --shell /usr/sbin/nologin callstack
  aws ec2 associate-address --region "$CALLSTACK_REGION" --allocation-id "$CALLSTACK_EIP_ALLOCATION" \
    --instance-id "$(imds instance-id)" --allow-reassociation >/dev/null
  local _
  for _ in $(seq 60); do
    if [ "$(imds public-ipv4 || true)" = "$CALLSTACK_EIP" ]; then return 0; fi
    sleep 2
  done
  log "Elastic IP $CALLSTACK_EIP not visible in instance metadata"; return 1
}

# Node-local random secret (hex: safe in env files, XML and Kamailio's substdef), kept across boots.
local_secret() {
  [ -s "$SECRETS/$1" ] || (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$SECRETS/$1")
  cat "$SECRETS/$1"
}

# drachtio-server: the artifact's prebuilt binary (sip-edge/bin/drachtio) when its libraries resolve
# here; otherwise built once from the pinned sources (~13 min on 2 cores; the vendor archive if the
# artifact has vendor/, else a clone from GitHub), cached under /var/cache/callstack.
drachtio_binary() {
  local bin=$APP/sip-edge/bin/drachtio
  if [ -x "$bin" ] && ! ldd "$bin" | grep -q 'not found'; then echo "$bin"; return 0; fi
  log "no usable prebuilt drachtio-server in the artifact: building it"
  XDG_CACHE_HOME=/var/cache CALLSTACK_VENDOR_DIR=$APP/vendor \
    "$APP/runtime/bin/node" "$APP/sip-edge/scripts/buildDrachtio.mjs" --print-path | tail -n 1
}

install_drachtio() {
  local bin
  bin=$(drachtio_binary)
  install -m 0755 "$bin" /usr/local/bin/drachtio
}

node_configure() {
  fetch_secret "$CALLSTACK_DATABASE_SECRET_ID" "$SECRETS/database-url"
  install_drachtio
  local token admin gateway_http="http://$CALLSTACK_PRIVATE_IP:$CALLSTACK_GATEWAY_PORT"
  token=$(local_secret local-token)
  admin=$(local_secret drachtio-secret)
  # drachtio-server reads its config itself, as user callstack.
  install -m 0600 /dev/null "$CONF/drachtio.conf.xml"
  chown callstack "$CONF/drachtio.conf.xml"
  cat >"$CONF/drachtio.conf.xml" <<XML
<drachtio>
  <admin port="9022" secret="$admin">127.0.0.1</admin>
  <sip><contacts><contact>sip:127.0.0.1:5080;transport=udp,tcp</contact></contacts></sip>
  <cdrs>false</cdrs>
  <logging><console/><loglevel>info</loglevel></logging>
</drachtio>
XML
  # systemd reads the EnvironmentFile as root: the gateway never needs the file itself.
  install -m 0600 /dev/null "$CONF/sip-gateway.env"
  cat >"$CONF/sip-gateway.env" <<ENV
NODE_ENV=production
SIP_GATEWAY_NODE_ID=$CALLSTACK_INSTANCE_ID
SIP_GATEWAY_EDGE_URL=$CALLSTACK_EDGE_URL
SIP_GATEWAY_SECRET=$(cat "$SECRETS/control-secret")
SIP_GATEWAY_LISTEN_HOST=$CALLSTACK_PRIVATE_IP
SIP_GATEWAY_LISTEN_PORT=$CALLSTACK_GATEWAY_PORT
SIP_GATEWAY_CONTROL_URL=http://$CALLSTACK_PUBLIC_IP:$CALLSTACK_GATEWAY_PORT
SIP_GATEWAY_LOCAL_TOKEN=$token
SIP_GATEWAY_REALM=$CALLSTACK_SIP_REALM
SIP_GATEWAY_PROXY=sip:127.0.0.1:5060
DRACHTIO_HOST=127.0.0.1
DRACHTIO_PORT=9022
DRACHTIO_SECRET=$admin
RTPENGINE_HOST=127.0.0.1
RTPENGINE_PORT=22222
SIP_GATEWAY_MEDIA_IP=$CALLSTACK_PRIVATE_IP
ENV
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
  # Registrations live in Neon (usrloc db_mode 3): every SIP node of the region sees them. Its libpq
  # URL (postgresql://...?sslmode=require) in the form db_postgres parses: scheme postgres and no
  # query; libpq's default sslmode (prefer) still takes the TLS Neon requires.
  local db_url
  db_url=$(sed -E 's#^postgresql://#postgres://#; s/[?].*$//' "$SECRETS/database-url")
  install -m 0640 -g kamailio /dev/null "$CONF/kamailio-local.cfg"
  cat >"$CONF/kamailio-local.cfg" <<CFG
#!define CALLSTACK_PUBLIC_IP "$CALLSTACK_PUBLIC_IP"
#!define CALLSTACK_PRIVATE_IP "$CALLSTACK_PRIVATE_IP"
#!define CALLSTACK_HOSTNAME "$CALLSTACK_HOSTNAME"
#!define CALLSTACK_REGION "$CALLSTACK_REGION"
#!define CALLSTACK_EDGE_URL "$CALLSTACK_EDGE_URL"
#!define WITH_DB
#!define CALLSTACK_DB_URL "$db_url"
#!define CALLSTACK_CONTROL_SECRET "$(cat "$SECRETS/control-secret")"
#!define CALLSTACK_RTPENGINE_SOCK "udp:127.0.0.1:22222"
#!define CALLSTACK_TLS_CERT "$TLS/fullchain.pem"
#!define CALLSTACK_TLS_KEY "$TLS/privkey.pem"
#!define CALLSTACK_GATEWAY_SIP "sip:127.0.0.1:5080"
#!substdef "!CALLSTACK_GATEWAY_HTTP!$gateway_http!g"
#!substdef "!CALLSTACK_LOCAL_TOKEN!$token!g"
#!substdef "!CALLSTACK_REALM!$CALLSTACK_SIP_REALM!g"
#!substdef "!CALLSTACK_SIP_UDP!udp:$CALLSTACK_PRIVATE_IP:5060 advertise $CALLSTACK_PUBLIC_IP:5060!g"
#!substdef "!CALLSTACK_SIP_TCP!tcp:$CALLSTACK_PRIVATE_IP:5060 advertise $CALLSTACK_PUBLIC_IP:5060!g"
#!substdef "!CALLSTACK_SIP_INTERNAL!udp:127.0.0.1:5060!g"
#!define WITH_TLS
#!substdef "!CALLSTACK_SIP_TLS!tls:$CALLSTACK_PRIVATE_IP:5061 advertise $CALLSTACK_PUBLIC_IP:5061!g"
#!define WITH_WS
#!substdef "!CALLSTACK_SIP_WS!tls:$CALLSTACK_PRIVATE_IP:443 advertise $CALLSTACK_PUBLIC_IP:443!g"
#!define CALLSTACK_WS_PORT 443
#!substdef "!CALLSTACK_CTL_SOCKET!$KAMAILIO_CTL!g"
#!substdef "!CALLSTACK_DISPATCHER_LIST!$CONF/dispatcher.list!g"
CFG
  echo '1 sip:127.0.0.1:5080' >"$CONF/dispatcher.list"
}

node_registration() { jq -cn --arg wss "wss://$CALLSTACK_HOSTNAME/ws" '{wssUrl: $wss}'; }

kamailio_rpc() { kamcmd -s "$KAMAILIO_CTL" "$@"; }

# The config answers phones' new INVITEs with 503 while $shv(draining) is 1; dialogs in progress go on.
node_drain() { kamailio_rpc pv.shvSet draining int 1 >/dev/null || log "kamcmd pv.shvSet draining failed"; }

node_idle() {
  local active
  active=$(kamailio_rpc dlg.stats_active 2>/dev/null | awk '$1 == "all:" {print $2}') || return 0
  [ "${active:-0}" = 0 ]
}

# SipFailures: 5xx and 6xx final replies since the last sample (counters reset on restart): those of
# transactions (relayed or local, tmx) plus the stateless ones (sl).
node_metrics() {
  local stats total previous active
  stats=$(kamailio_rpc stats.get_statistics tmx: sl: 2>/dev/null) || return 0
  total=$(awk -F' = ' '/^(tmx:[56]xx_transactions|sl:[56]xx_replies) / {sum += $2} END {print sum + 0}' <<<"$stats")
  previous=$(cat "$STATE/sip-failures" 2>/dev/null || echo "$total")
  echo "$total" >"$STATE/sip-failures"
  [ "$total" -ge "$previous" ] || previous=0
  active=$(kamailio_rpc dlg.stats_active 2>/dev/null | awk '$1 == "all:" {print $2}')
  echo "SipFailures $((total - previous)) Count"
  echo "ActiveCalls ${active:-0} Count"
}
