#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) and the `postgres` OS user exist: the
# testkit starts private clusters with them for the control plane's store tests (packages/testkit/src/postgres.ts).
# Never starts, stops or touches a system cluster. When it must install the Debian package, it first tells
# postgresql-common not to create the `main` cluster, so the install adds no server on 5432 either.
set -euo pipefail

find_bin() {
  local candidate
  # the highest installed major version
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" && -x "$candidate/postgres" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if [[ -n "${DMR_POSTGRES_BIN:-}" ]]; then
  if [[ -x "$DMR_POSTGRES_BIN/initdb" && -x "$DMR_POSTGRES_BIN/pg_ctl" ]]; then
    echo "ensure-postgres: using DMR_POSTGRES_BIN=$DMR_POSTGRES_BIN"
    exit 0
  fi
  echo "ensure-postgres: DMR_POSTGRES_BIN=$DMR_POSTGRES_BIN has no executable initdb and pg_ctl" >&2
  exit 1
fi

if bin="$(find_bin)" && id -u postgres >/dev/null 2>&1; then
  echo "ensure-postgres: found $bin"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-postgres: the PostgreSQL server is missing and installing it needs root, but sudo is not available." >&2
    echo "ensure-postgres: install it yourself: apt-get update && apt-get install -y postgresql" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "ensure-postgres: PostgreSQL server binaries or the postgres user not found; installing the Debian package"
# postgresql-common reads createcluster.d: no `main` cluster, hence no system server on 5432 from this install
"${SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | "${SUDO[@]}" tee /etc/postgresql-common/createcluster.d/dmr-no-main-cluster.conf >/dev/null
if ! "${SUDO[@]}" apt-get update \
  || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; then
  echo "ensure-postgres: apt-get could not install postgresql (see the output above)." >&2
  exit 1
fi

if ! bin="$(find_bin)" || ! id -u postgres >/dev/null 2>&1; then
  echo "ensure-postgres: postgresql was installed but no /usr/lib/postgresql/*/bin/initdb or no postgres user exists." >&2
  echo "ensure-postgres: point DMR_POSTGRES_BIN at the directory holding initdb, pg_ctl and postgres." >&2
  exit 1
fi
echo "ensure-postgres: installed; found $bin"
