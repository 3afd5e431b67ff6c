import { type BinInfo, readPackageVersion } from '@dmr/shared';

/** `dmr-agent --help`: the variables an operator sets first; the full table (defaults, meaning) is in the README. */
const HELP = `Usage: dmr-agent [--help | --version]

One institution's DMR agent: accepts messages on POST /v1/messages, signs and encrypts them end to end, sends them
through dmr-server, and delivers what it receives to the institution's endpoint.
Configured by environment variables only, validated at start (a bad value exits 2 naming the variable):

  AGENT_ID                              this agent's id in the registry
  AGENT_PRIVATE_KEY_FILE                its private key (or AGENT_PRIVATE_KEY)
  DMR_SERVER_WEBSOCKET_URL              dmr-server(s) to connect to
  DMR_TLS_CA_FILE                       CA of the server certificate
  DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE   the agent's client certificate and key (mutual TLS)
  DMR_ALLOW_PLAINTEXT=true              allow running without TLS (development only)
  DMR_CONTROL_URL, DMR_ENROLLMENT_TOKEN enroll with dmr-control (key made here) and renew the certificate
  OUTGOING_MESSAGE_ENDPOINT             where received messages are delivered
  PORT, HOST                            listen address of the agent's HTTP API
  DMR_OPS_PORT, DMR_OPS_HOST            health, readiness, metrics over plain HTTP (none unless set)
  LOGGER_LOG_LEVELS                     e.g. error,warn,info

Every variable with its default and meaning: packages/agent/README.md
`;

/** Name, version and help of the dmr-agent bin (version from packages/agent/package.json). */
export function agentBinInfo(): BinInfo {
  return { name: 'dmr-agent', version: readPackageVersion(new URL('../package.json', import.meta.url)), help: HELP };
}
