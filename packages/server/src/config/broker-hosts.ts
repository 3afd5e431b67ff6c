/** One RabbitMQ node the server may connect to. */
export interface BrokerEndpoint {
  readonly host: string;
  readonly port: number;
}

const ENTRY_PATTERN = /^(?:\[(?<v6>[0-9A-Fa-f:.]+)\]|(?<name>[A-Za-z0-9._-]+))(?::(?<port>\d{1,5}))?$/;

/**
 * Parses `RABBITMQ_DEFAULT_HOST`: one host, or a comma-separated list of cluster nodes, each `host`,
 * `host:port` or `[ipv6]:port`; an entry without a port uses `defaultPort` (`RABBITMQ_DEFAULT_PORT`).
 * Pure. Returns the endpoints in the given order, or the problem with the first bad entry.
 */
export function parseBrokerHosts(
  value: string,
  defaultPort: number,
): { ok: true; endpoints: BrokerEndpoint[] } | { ok: false; problem: string } {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return { ok: false, problem: 'RABBITMQ_DEFAULT_HOST names no host' };
  const endpoints: BrokerEndpoint[] = [];
  for (const entry of entries) {
    const match = ENTRY_PATTERN.exec(entry);
    const host = match?.groups?.v6 ?? match?.groups?.name;
    const port = match?.groups?.port === undefined ? defaultPort : Number(match.groups.port);
    if (!host || port < 1 || port > 65_535) {
      return { ok: false, problem: `RABBITMQ_DEFAULT_HOST entry "${entry}" is not host, host:port or [ipv6]:port` };
    }
    endpoints.push({ host, port });
  }
  return { ok: true, endpoints };
}

/** Splits a comma-separated list of URLs (`RABBITMQ_DEFAULT_MANAGEMENT_UI_URI` may name one per cluster node). Pure. */
export function splitUrlList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
