# TURN node hooks for callstack-node: coturn behind the NLB (which terminates TLS on 5349 and 443).
NODE_PACKAGES=(coturn)
NODE_MASKED_UNITS=(coturn.service)

node_prepare() {
  fetch_secret "$CALLSTACK_TURN_SECRET_ID" "$SECRETS/turn-secret"
}

# turnserver.conf.in comes from the stack (see lib/node/turnserver.ts); addresses and the shared
# REST secret are filled in here so the secret never appears in the template.
node_configure() {
  install -m 0640 -g turnserver /dev/null "$CONF/turnserver.conf"
  {
    sed -e "s/@PUBLIC_IP@/$CALLSTACK_PUBLIC_IP/g" -e "s/@PRIVATE_IP@/$CALLSTACK_PRIVATE_IP/g" "$CONF/turnserver.conf.in"
    printf 'static-auth-secret=%s\n' "$(cat "$SECRETS/turn-secret")"
  } >"$CONF/turnserver.conf"
}

node_registration() {
  jq -cn --arg host "$CALLSTACK_HOSTNAME" '{urls: ["turn:\($host):3478?transport=udp",
    "turn:\($host):3478?transport=tcp", "turns:\($host):5349?transport=tcp", "turns:\($host):443?transport=tcp"]}'
}
