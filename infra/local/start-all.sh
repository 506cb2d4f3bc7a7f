#!/usr/bin/env bash
# `npm run start:all`: `npm run dev` with the compiled apps of dist/, as they ship (tools/dev/dev.ts
# --built): it reads .env, says which mode (NODE_ENV) the apps run in, uses or starts Postgres and
# a nats-server with the generated users (never a server that lets anyone in unless NATS_URL names
# it), runs the local Stripe server unless real Stripe keys are set, and runs the four apps and the
# console, each as its own Postgres role and NATS user. Ctrl-C (or any app exiting) stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ -f dist/apps/order/apps/order/src/main.js ] && [ -f dist/apps/console/apps/console/src/main.js ] ||
  npm run build
exec node -r @swc-node/register tools/dev/dev.ts --built
