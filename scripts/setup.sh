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

# The native P-256 key agreement (packages/native-ecdh) needs python3, make and a C compiler (node-gyp, with
# Node's own headers). Built only when missing or older than its source; when it cannot be built, DMR still works
# on node:crypto (about 0.12 ms more CPU per message) and the unit test that expects the addon says so.
addon=packages/native-ecdh/build/Release/dmr_ecdh_p256.node
addon_is_stale() {
  [ ! -f "$addon" ] && return 0
  for source in packages/native-ecdh/src/* packages/native-ecdh/binding.gyp; do
    [ "$source" -nt "$addon" ] && return 0
  done
  return 1
}
if addon_is_stale; then
  echo "setup: building the native P-256 addon (node-gyp)"
  mkdir -p .local
  npm run build:native --silent >.local/native-build.log 2>&1 || {
    echo "setup: WARNING: the native P-256 addon did not build (see .local/native-build.log); using node:crypto" >&2
  }
fi

echo "setup: building (tsc -b)"
npx tsc -b
