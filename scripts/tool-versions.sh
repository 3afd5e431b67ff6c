#!/usr/bin/env bash
# Pinned versions of the Go-built tools set-up provides (sourced by scripts/ensure-opa.sh and friends).
# Changing a pin makes set-up build the new version once into the per-user cache and relink .tools/bin.
# shellcheck disable=SC2034
OPA_MODULE=github.com/open-policy-agent/opa
OPA_VERSION=v1.22.4
