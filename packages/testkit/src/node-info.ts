/**
 * The serialisable facts about a running node: enough to connect over AMQP
 * and call the management API from another process (e.g. a vitest worker
 * receiving it through `provide`/`inject`).
 */
export interface RabbitNodeInfo {
  /** Erlang node name, e.g. `dmrtest-1a2b3c4d5e@localhost`. */
  readonly nodeName: string;
  /** AMQP 0-9-1 port on 127.0.0.1. */
  readonly amqpPort: number;
  /** Management HTTP port on 127.0.0.1 (only listening when management is enabled). */
  readonly managementPort: number;
  /** Administrator user (RabbitMQ `default_user`, tag `administrator`). */
  readonly user: string;
  /** Administrator password, random per node. */
  readonly password: string;
  /** Port of the rabbitmq_prometheus plugin on 127.0.0.1, when the node was started with `prometheus: true`. */
  readonly prometheusPort?: number | undefined;
}

/** Copies just the serialisable {@link RabbitNodeInfo} fields out of a node (or anything wider). */
export function toNodeInfo(node: RabbitNodeInfo): RabbitNodeInfo {
  const { nodeName, amqpPort, managementPort, user, password, prometheusPort } = node;
  return { nodeName, amqpPort, managementPort, user, password, ...(prometheusPort === undefined ? {} : { prometheusPort }) };
}

/**
 * AMQP URL for `vhost` (default `/`) with the node's credentials. The vhost is
 * percent-encoded, so `/` becomes `%2F` as amqplib and RabbitMQ expect.
 */
export function amqpUrlFor(info: RabbitNodeInfo, vhost = '/'): string {
  return `amqp://${userInfo(info)}@127.0.0.1:${info.amqpPort}/${encodeURIComponent(vhost)}`;
}

/**
 * Management base URL with credentials, `http://user:pass@127.0.0.1:<port>`.
 * Good for tools and humans; global `fetch` rejects URLs carrying credentials,
 * so HTTP code should use {@link managementApiBaseFor} plus {@link basicAuthHeader}.
 */
export function managementUrlFor(info: RabbitNodeInfo): string {
  return `http://${userInfo(info)}@127.0.0.1:${info.managementPort}`;
}

/** Management base URL without credentials, `http://127.0.0.1:<port>` (what HTTP clients taking user and password separately want). */
export function managementBaseFor(info: RabbitNodeInfo): string {
  return `http://127.0.0.1:${info.managementPort}`;
}

/** Management HTTP API root without credentials, `http://127.0.0.1:<port>/api`. */
export function managementApiBaseFor(info: RabbitNodeInfo): string {
  return `${managementBaseFor(info)}/api`;
}

/** `Authorization` header value (HTTP Basic) for the node's administrator. */
export function basicAuthHeader(info: RabbitNodeInfo): string {
  return `Basic ${Buffer.from(`${info.user}:${info.password}`).toString('base64')}`;
}

function userInfo(info: RabbitNodeInfo): string {
  return `${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}`;
}
