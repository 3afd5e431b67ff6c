/**
 * Names an agent id may never take because RabbitMQ (or its operators) use them as broker user names.
 *
 * Agent certificates carry CN = agent id. Broker client certificates come from a separate broker CA that alone
 * is trusted by RabbitMQ (docs/security.md, "Broker CA separation"), so an agent certificate cannot log into
 * RabbitMQ at all; refusing these ids as well means a CA mix-up in a deployment still cannot turn an agent into
 * the relay user or an administrator.
 */

/** The relay's RabbitMQ user in the shipped deploy files (`deploy/rabbitmq/definitions.json`). */
export const DEFAULT_RELAY_USER = 'dmr-relay';

/** Broker user names reserved everywhere, compared case-insensitively. */
export const RESERVED_BROKER_USER_NAMES: readonly string[] = [
  DEFAULT_RELAY_USER,
  'guest',
  'admin',
  'administrator',
  'root',
  'rabbitmq',
  'rabbit',
  'management',
  'monitoring',
  'federation',
  'shovel',
];

/**
 * Why `agentId` may not be used, or undefined when it may. `extra`: deployment-specific broker user names
 * (e.g. the server's `RABBITMQ_DEFAULT_USER`, `DMR_RESERVED_AGENT_IDS`, `dmrctl cert agent --broker-users`).
 */
// Stryker disable next-line ArrayDeclaration: the default only stands for "no extra names"; a non-empty default changes the answer only for an agent named after it
export function reservedAgentIdProblem(agentId: string, extra: readonly string[] = []): string | undefined {
  const wanted = agentId.toLowerCase();
  const clash = [...RESERVED_BROKER_USER_NAMES, ...extra].find((name) => name.toLowerCase() === wanted);
  return clash === undefined ? undefined : `agent id "${agentId}" is reserved: it names a RabbitMQ user ("${clash}")`;
}
