#!/usr/bin/env bash
# The one command that runs the whole system locally: set-up, then a private RabbitMQ node,
# one dmr-server, agents A and B and a receiver. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/local-system.mjs "$@"
