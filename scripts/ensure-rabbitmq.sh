#!/usr/bin/env bash
# Makes sure the RabbitMQ server scripts that packages/testkit runs private
# nodes with are installed. Installing the Debian package on a machine without
# systemd starts no system node, so this never adds a broker on 5672.
set -euo pipefail

find_sbin() {
  local candidate
  for candidate in /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server; do
    if [[ -x "$candidate" ]]; then
      printf '%s\n' "$(dirname "$candidate")"
      return 0
    fi
  done
  return 1
}

if [[ -n "${DMR_RABBITMQ_SBIN:-}" ]]; then
  if [[ -x "$DMR_RABBITMQ_SBIN/rabbitmq-server" ]]; then
    echo "ensure-rabbitmq: using DMR_RABBITMQ_SBIN=$DMR_RABBITMQ_SBIN"
    exit 0
  fi
  echo "ensure-rabbitmq: DMR_RABBITMQ_SBIN=$DMR_RABBITMQ_SBIN has no executable rabbitmq-server" >&2
  exit 1
fi

if sbin="$(find_sbin)"; then
  echo "ensure-rabbitmq: found $sbin"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-rabbitmq: rabbitmq-server is missing and installing it needs root, but sudo is not available." >&2
    echo "ensure-rabbitmq: install it yourself: apt-get update && apt-get install -y rabbitmq-server" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "ensure-rabbitmq: rabbitmq-server not found; installing the Debian package"
if ! "${SUDO[@]}" apt-get update \
  || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server; then
  echo "ensure-rabbitmq: apt-get could not install rabbitmq-server (see the output above)." >&2
  exit 1
fi

if ! sbin="$(find_sbin)"; then
  echo "ensure-rabbitmq: rabbitmq-server was installed but no /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server exists." >&2
  echo "ensure-rabbitmq: point DMR_RABBITMQ_SBIN at the directory holding rabbitmq-server and rabbitmqctl." >&2
  exit 1
fi
echo "ensure-rabbitmq: installed; found $sbin"
