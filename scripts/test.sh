#!/usr/bin/env bash
# The one test command: set-up, lint + type check, then every test tier (unit, integration, e2e, faults)
# against private RabbitMQ nodes the harness starts and stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# shellcheck source=node-env.sh
source scripts/node-env.sh # npx, biome, tsc and vitest (and the processes tests start) on Node >= 24
echo "test: lint (biome) and type check of the tests"
npx biome check .
npx tsc -p tsconfig.tests.json
echo "test: vitest (unit, integration, end to end, faults)"
# every project: the fault-injection suite (test/faults) runs in a group of its own; alone: npm run test:faults
npx vitest run "$@"
