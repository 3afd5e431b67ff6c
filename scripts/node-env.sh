# Sourced (not run) by every entry point after scripts/ensure-node.sh: puts the provisioned Node
# (.tools/node/bin, see ensure-node.sh) first on PATH, so node, npx, vitest, tsc and node-gyp run on Node >= 24.
# When .tools/node is absent the machine's own Node is new enough and PATH stays as it is.
# $BASH_SOURCE (not ${BASH_SOURCE[0]}, which dash refuses as a bad substitution) names this file under bash; npm runs
# scripts with sh from the repo root, where the relative fallback is right.
dmr_self=${BASH_SOURCE:-scripts/node-env.sh}
dmr_root=$(cd "$(dirname "$dmr_self")/.." && pwd)
if [ -x "$dmr_root/.tools/node/bin/node" ]; then
  case ":$PATH:" in
    *":$dmr_root/.tools/node/bin:"*) ;;
    *) export PATH="$dmr_root/.tools/node/bin:$PATH" ;;
  esac
  # the machine's global npmrc, which npm would otherwise look for under the provisioned Node (see ensure-node.sh)
  if [ -z "${npm_config_globalconfig:-}" ] && [ -s "$dmr_root/.tools/npm-globalconfig" ]; then
    npm_config_globalconfig=$(cat "$dmr_root/.tools/npm-globalconfig")
    export npm_config_globalconfig
  fi
fi
unset dmr_root dmr_self
