#!/bin/bash
# Gets (and later renews) the Let's Encrypt certificate for this SIP node's name over HTTP-01,
# then swaps it in for the snakeoil one and restarts Kamailio. A timer retries until DNS points here.
set -euo pipefail
. /etc/callstack/node.env
TLS=/etc/callstack/tls
certbot certonly --standalone --non-interactive --agree-tos --keep-until-expiring \
  --register-unsafely-without-email -d "$CALLSTACK_HOSTNAME"
live=/etc/letsencrypt/live/$CALLSTACK_HOSTNAME
if ! cmp -s "$live/fullchain.pem" "$TLS/fullchain.pem"; then
  install -m 0644 "$live/fullchain.pem" "$TLS/fullchain.pem.new" && mv "$TLS/fullchain.pem.new" "$TLS/fullchain.pem"
  install -m 0640 -g kamailio "$live/privkey.pem" "$TLS/privkey.pem.new" && mv "$TLS/privkey.pem.new" "$TLS/privkey.pem"
  systemctl try-restart callstack-kamailio.service
fi
