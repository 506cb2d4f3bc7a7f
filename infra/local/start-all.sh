#!/usr/bin/env bash
# `npm run start:all`: makes sure Postgres and NATS are up, then runs the four built apps in the
# foreground. Each app creates its streams, consumers, database schema and tables at boot.
# Ctrl-C (or any app exiting) stops them all.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi

bash infra/local/ensure-services.sh
[ -f dist/apps/order/apps/order/src/main.js ] || npm run build

if [ "${NODE_ENV:-development}" = production ]; then
  echo "start:all: NODE_ENV=production: development secrets, the superuser database and plain NATS are refused" >&2
else
  echo "start:all: NODE_ENV=${NODE_ENV:-development}: DEVELOPMENT MODE, development secrets are accepted; never expose it (NODE_ENV=production for that)" >&2
fi

pids=()
stop_all() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait || true; }
trap 'stop_all; exit 0' INT TERM

declare -A ports=([order]=3001 [payment]=3002 [inventory]=3003 [trading]=3004)
for app in order payment inventory trading; do
  PORT=${ports[$app]} node "dist/apps/$app/apps/$app/src/main.js" &
  pids+=($!)
done
echo "start:all: order :3001, payment :3002, inventory :3003, trading :3004 (Ctrl-C stops them)" >&2

# One app exiting on its own is a failure of the whole platform: stop the rest and say so.
status=0
wait -n || status=$?
echo "start:all: an app exited (status $status); stopping the others" >&2
stop_all
exit "$status"
