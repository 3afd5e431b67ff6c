import { type BinInfo, readPackageVersion } from '@dmr/shared';

/** `dmr-server --help`: the variables an operator sets first; the full table (defaults, meaning) is in the README. */
const HELP = `Usage: dmr-server [--help | --version]

Relays end-to-end encrypted messages between dmr-agents (Socket.IO over mutual TLS) through RabbitMQ.
Configured by environment variables only, validated at start (a bad value exits 2 naming the variable):

  PORT, HOST                            listen address of the agent-facing (mTLS) port
  DMR_OPS_PORT, DMR_OPS_HOST            health, readiness, metrics over plain HTTP (none unless set)
  DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE   server certificate and key
  DMR_TLS_CA_FILE, DMR_TLS_CRL_FILE     CA(s) of agent client certificates, one CRL per CA
  DMR_TLS_CRL_URL                       the CRL bundle from dmr-control instead of a file
  DMR_ALLOW_PLAINTEXT=true              allow running without TLS (development only)
  RABBITMQ_DEFAULT_HOST, _PORT, _VHOST  broker (comma-separated hosts for a cluster)
  RABBITMQ_DEFAULT_USER, _PASS          broker login (or RABBITMQ_AUTH_MECHANISM=EXTERNAL + RABBITMQ_TLS_*)
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI    management API for queue policies
  CENTOPS_CONFIGURATION_URL             agent registry (who may connect, their public keys)
  DMR_CONTROL_URL, DMR_INSTANCE_ID      report what this server runs to dmr-control
  LOGGER_LOG_LEVELS                     e.g. error,warn,info

Every variable with its default and meaning: packages/server/README.md
`;

/** Name, version and help of the dmr-server bin (version from packages/server/package.json). */
export function serverBinInfo(): BinInfo {
  return { name: 'dmr-server', version: readPackageVersion(new URL('../package.json', import.meta.url)), help: HELP };
}
