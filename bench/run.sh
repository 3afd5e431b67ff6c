#!/usr/bin/env bash
# `npm run bench [-- --quick]`: the same set-up as `npm test` / `npm start` (RabbitMQ binaries, dependencies, build),
# then the benchmark. Not part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bench/bench.mjs "$@"
