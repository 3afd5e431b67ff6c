#!/usr/bin/env bash
# Compiles deploy/policy/dmr.rego to WebAssembly for the opa-wasm engine (DMR_POLICY_ENGINE=opa-wasm):
# `opa build -t wasm -e dmr/decision`, keeping only the module, at .tools/policy/dmr.wasm (git-ignored;
# DMR_POLICY_WASM_FILE points the server elsewhere). Rebuilt when the Rego or the OPA binary is newer than the module.
# Needs .tools/bin/opa (scripts/ensure-opa.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

opa=.tools/bin/opa
rego=deploy/policy/dmr.rego
out_dir=.tools/policy
wasm=$out_dir/dmr.wasm

if [[ ! -x "$opa" ]]; then
  echo "build-policy-wasm: $opa is missing; run scripts/ensure-opa.sh first" >&2
  exit 1
fi
if [[ -f "$wasm" && "$wasm" -nt "$rego" && "$wasm" -nt "$(readlink -f "$opa")" ]]; then
  echo "build-policy-wasm: $wasm is up to date"
  exit 0
fi

mkdir -p "$out_dir"
work=$(mktemp -d "$out_dir/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$opa" build -t wasm -e dmr/decision -o "$work/bundle.tar.gz" "$rego"
tar -xzf "$work/bundle.tar.gz" -C "$work" /policy.wasm 2>/dev/null || tar -xzf "$work/bundle.tar.gz" -C "$work" policy.wasm
chmod 644 "$work/policy.wasm"
touch "$work/policy.wasm" # tar kept the bundle entry's time (1970), which would look stale to the check above
mv -f "$work/policy.wasm" "$wasm"
echo "build-policy-wasm: built $wasm from $rego"
