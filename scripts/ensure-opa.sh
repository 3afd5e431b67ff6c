#!/usr/bin/env bash
# Makes sure <repo>/.tools/bin/opa is the pinned Open Policy Agent (scripts/tool-versions.sh): `opa test`,
# `opa build -t wasm` (scripts/build-policy-wasm.sh) and `opa run --server` (the sidecar tests) use it.
# Built once with the machine's Go (`go install`, module mode) into a per-user cache outside the clone,
# ${XDG_CACHE_HOME:-$HOME/.cache}/dmr/tools/opa-<version>/opa, then linked into .tools/bin (git-ignored), so a fresh
# clone on the same machine only links it. A cold build takes minutes on 2 cores; Go's own module and build caches
# make a rebuild cheaper. DMR_GO overrides the Go binary (default: `go` on PATH, else /usr/local/go/bin/go).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tool-versions.sh
source scripts/tool-versions.sh

cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/dmr/tools/opa-$OPA_VERSION"
cached="$cache_dir/opa"
link=.tools/bin/opa

if [[ ! -x "$cached" ]] || ! "$cached" version 2>/dev/null | grep -q "^Version: ${OPA_VERSION#v}\$"; then
  go_bin="${DMR_GO:-}"
  if [[ -z "$go_bin" ]]; then
    if command -v go >/dev/null 2>&1; then go_bin=$(command -v go); else go_bin=/usr/local/go/bin/go; fi
  fi
  if [[ ! -x "$go_bin" ]]; then
    echo "ensure-opa: Go not found (no 'go' on PATH and no $go_bin); OPA $OPA_VERSION is built from source with Go." >&2
    echo "ensure-opa: install Go >= 1.24 (https://go.dev/dl/) or point DMR_GO at the go binary." >&2
    exit 1
  fi
  echo "ensure-opa: building $OPA_MODULE@$OPA_VERSION with $("$go_bin" version) into $cache_dir (cold: several minutes)"
  mkdir -p "$cache_dir"
  tmp_bin=$(mktemp -d "$cache_dir/.build.XXXXXX")
  trap 'rm -rf "$tmp_bin"' EXIT
  start=$(date +%s)
  GOFLAGS=-mod=mod GOBIN="$tmp_bin" CGO_ENABLED=0 "$go_bin" install "$OPA_MODULE@$OPA_VERSION"
  mv -f "$tmp_bin/opa" "$cached"
  echo "ensure-opa: built in $(($(date +%s) - start)) s"
fi

mkdir -p .tools/bin
if [[ "$(readlink "$link" 2>/dev/null)" != "$cached" ]]; then
  ln -sfn "$cached" "$link"
fi
echo "ensure-opa: $link -> $cached ($("$link" version | head -1))"
