#!/usr/bin/env bash
# The one command that runs the whole system locally: set-up, then a private RabbitMQ node,
# one dmr-server, agents A and B and a receiver. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=node-env.sh
source scripts/node-env.sh # the system runs on Node >= 24 (the provisioned one when the machine's is older)
exec node scripts/local-system.mjs "$@"
