import { type BinInfo, readPackageVersion } from '@dmr/shared/base';

/** `dmr-control --help`: the variables an operator sets first; the full table (defaults, meaning) is in the README. */
const HELP = `Usage: dmr-control [--help | --version]

The DMR control plane: the agent registry (served as the CentOps configuration dmr-server reads), the admin API
over mutual TLS with role-bearing client certificates, policies, the change log and config push on dmr.control.
Configured by environment variables only, validated at start (a bad value exits 2 naming the variable):

  DMR_CONTROL_PORT, DMR_CONTROL_HOST    listen address of the admin API (HTTPS, client certificates)
  DMR_OPS_PORT, DMR_OPS_HOST            health, readiness, metrics over plain HTTP (none unless set)
  DMR_CONTROL_DATABASE_URL              sqlite:<path> (default sqlite:./dmr-control.db) or postgres://…
  DMR_CONTROL_CA_DIR                    CA directory from \`dmrctl ca init\` (its key must be mode 0600)
  DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE   the admin API's server certificate and key
  DMR_TLS_CA_FILE                       CAs of client certificates (default: the CA directory's certificate)
  RABBITMQ_DEFAULT_HOST, _PORT, _VHOST  broker for config push (optional: without it servers only poll)
  DMR_MAX_BODY_BYTES                    largest request body (default 10 MiB, for imports)
  LOGGER_LOG_LEVELS                     e.g. error,warn,info

Every variable with its default and meaning: packages/control/README.md
`;

/** Name, version and help of the dmr-control bin (version from packages/control/package.json). */
export function controlBinInfo(): BinInfo {
  return { name: 'dmr-control', version: readPackageVersion(new URL('../../package.json', import.meta.url)), help: HELP };
}
