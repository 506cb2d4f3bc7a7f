#!/usr/bin/env bash
# Makes sure the local Postgres (127.0.0.1:5432) and NATS with JetStream (127.0.0.1:4222) answer,
# starting them if they are installed but stopped, and installing nats-server (Debian) if missing:
# the tests start private nats-server processes of their own. Then creates the development
# Postgres roles (saga_owner and one role per app; the tests make them too).
set -euo pipefail

NATS_PORT=${NATS_PORT:-4222}
PG_PORT=${PG_PORT:-5432}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    listening "$port" && return 0
    sleep 0.5
  done
  echo "ensure-services: $name did not come up on port $port" >&2
  exit 1
}

nats_binary() {
  for candidate in "${NATS_SERVER_BIN:-}" /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

if ! nats_binary >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "ensure-services: installing nats-server"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  else
    echo "ensure-services: nats-server is not installed (Debian: apt-get install nats-server; or set NATS_SERVER_BIN)" >&2
    exit 1
  fi
fi

if listening "$PG_PORT"; then
  echo "ensure-services: Postgres is up on $PG_PORT"
elif command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "ensure-services: starting Postgres"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  wait_for "$PG_PORT" Postgres
else
  echo "ensure-services: Postgres is not reachable on 127.0.0.1:$PG_PORT and not installed here (apt-get install postgresql)" >&2
  exit 1
fi

echo "ensure-services: Postgres roles"
(cd "$(dirname "$0")/../.." && node -r @swc-node/register infra/postgres/roles.ts "postgres://postgres@127.0.0.1:$PG_PORT/saga")

if listening "$NATS_PORT"; then
  echo "ensure-services: NATS is up on $NATS_PORT"
else
  echo "ensure-services: starting nats-server with JetStream"
  store=${NATS_STORE_DIR:-/var/lib/nats-server}
  mkdir -p "$store"
  nohup "$(nats_binary)" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$store" >/tmp/nats-server.log 2>&1 &
  wait_for "$NATS_PORT" NATS
fi
