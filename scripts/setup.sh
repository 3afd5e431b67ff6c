#!/usr/bin/env bash
# Idempotent set-up shared by `npm start` and `npm test`: RabbitMQ binaries, npm dependencies, build.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-rabbitmq.sh

# npm ci only when the lock file changed since the last install (a stamp inside node_modules)
stamp=node_modules/.dmr-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

echo "setup: building (tsc -b)"
npx tsc -b
