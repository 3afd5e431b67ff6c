#!/usr/bin/env bash
# `npm run bench [-- --quick]`: the same set-up as `npm test` / `npm start` (RabbitMQ binaries, dependencies, build),
# then the benchmark. Not part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=../scripts/node-env.sh
source scripts/node-env.sh # measured on Node >= 24, like the deployables
exec node bench/bench.mjs "$@"
