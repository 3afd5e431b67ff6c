#!/usr/bin/env bash
# Makes sure `promtool` and `prometheus` exist: the rule tests (promtool check/test rules) and the real-Prometheus
# end-to-end test (test/e2e/prometheus.test.ts) run them; each test starts its own private Prometheus (own port,
# data dir and --config.file), never a system one. When either is missing, installs Debian's `prometheus` package
# (2.42, ../shared/stack.md) without its recommends (no node exporter). On a machine without systemd the install
# should start no service; if it did start a `prometheus` process anyway, this script stops exactly that process
# (by the PID that appeared during the install) and leaves every other process alone.
set -euo pipefail

if [[ -n "${DMR_PROMETHEUS_BIN:-}" ]]; then
  if [[ -x "$DMR_PROMETHEUS_BIN/promtool" && -x "$DMR_PROMETHEUS_BIN/prometheus" ]]; then
    echo "ensure-prometheus: using DMR_PROMETHEUS_BIN=$DMR_PROMETHEUS_BIN"
    exit 0
  fi
  echo "ensure-prometheus: DMR_PROMETHEUS_BIN=$DMR_PROMETHEUS_BIN has no executable promtool and prometheus" >&2
  exit 1
fi

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  echo "ensure-prometheus: found $(command -v prometheus) and $(command -v promtool)"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-prometheus: prometheus/promtool are missing and installing them needs root, but sudo is not available." >&2
    echo "ensure-prometheus: install them yourself: apt-get update && apt-get install -y --no-install-recommends prometheus" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

# PIDs of processes named prometheus* before the install, to tell apart what the install starts
prometheus_pids() { pgrep '^prometheus' 2>/dev/null | sort || true; }
before="$(prometheus_pids)"

echo "ensure-prometheus: prometheus or promtool not found; installing the Debian package (no recommends)"
if ! "${SUDO[@]}" apt-get update \
  || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; then
  echo "ensure-prometheus: apt-get could not install prometheus (see the output above)." >&2
  exit 1
fi

started="$(comm -13 <(printf '%s\n' "$before") <(prometheus_pids) | sed '/^$/d')"
if [[ -n "$started" ]]; then
  for pid in $started; do
    echo "ensure-prometheus: the install started $(ps -o comm= -p "$pid" 2>/dev/null || echo '?') (pid $pid); stopping it"
    "${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
  done
  # a system service would start again at boot under systemd; where systemd runs, disable the unit too
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
else
  echo "ensure-prometheus: the install started no prometheus process"
fi

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "ensure-prometheus: prometheus was installed but promtool or prometheus is not on PATH." >&2
  echo "ensure-prometheus: point DMR_PROMETHEUS_BIN at the directory holding both." >&2
  exit 1
fi
echo "ensure-prometheus: installed; $(prometheus --version 2>&1 | head -1)"
