#!/usr/bin/env bash
# Idempotent set-up shared by `npm start` and `npm test`: RabbitMQ binaries, npm dependencies, build.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-rabbitmq.sh

# Install only when package.json files or the lock changed since the last install (a stamp in node_modules).
# `npm install`, not `npm ci`: with this machine kind's npm setting omit-lockfile-registry-resolved=true the
# lock file leaves out other platforms' optional packages, and `npm ci` then refuses every lock as out of sync.
stamp=node_modules/.dmr-install-stamp
fingerprint=$(cat package.json packages/*/package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$fingerprint" ]; then
  echo "setup: installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
  fingerprint=$(cat package.json packages/*/package.json package-lock.json | sha256sum | cut -d' ' -f1)
  echo "$fingerprint" > "$stamp"
fi

echo "setup: building (tsc -b)"
npx tsc -b
