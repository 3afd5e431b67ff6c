/**
 * RabbitMQ names and policies (design.md "RabbitMQ topology"). Pure: no broker I/O.
 */

/** Direct exchange; routing key = recipient agent id. */
export const MESSAGES_EXCHANGE = 'dmr.messages';
/** Dead-letter exchange; routing key = recipient agent id. */
export const DEAD_LETTER_EXCHANGE = 'dmr.dlx';
/** Queue for messages the server refused, with the reasons. */
export const VALIDATION_FAILURES_QUEUE = 'dmr.validation-failures';
/**
 * Fanout exchange in front of that queue. Refusals are published here rather than through the default
 * exchange, so the relay user needs permissions on `dmr.` resources only (the default exchange is `amq.default`).
 */
export const VALIDATION_FAILURES_EXCHANGE = 'dmr.validation-failures';
/**
 * Fanout exchange on which dmr-control announces every committed change as `{configVersion, kinds, at}`
 * (design.md, docs/control-plane.md). Durable, no arguments (declare-by-policy).
 */
export const CONTROL_EXCHANGE = 'dmr.control';

/**
 * Name of one server's exclusive, auto-delete announcement queue on {@link CONTROL_EXCHANGE}: `dmr.control.<instanceId>.<nonce>`.
 * Named by the server, not by RabbitMQ: the relay user may only touch `dmr.` resources, so a broker-named
 * `amq.gen-*` queue would be refused; the nonce (new per binding) keeps a reconnect clear of the old connection's queue.
 */
export function controlQueueName(instanceId: string, nonce: string): string {
  return `${CONTROL_EXCHANGE}.${instanceId}.${nonce}`;
}
/** Header carrying why DMR dead-lettered or refused a message. */
export const REASON_HEADER = 'x-dmr-reason';
/** Header carrying the DMR error code of a refusal or dead-letter. */
export const REASON_CODE_HEADER = 'x-dmr-reason-code';

/** Name of an agent's inbox queue. */
export function agentQueueName(agentId: string): string {
  return `dmr.agent.${agentId}`;
}

/** Name of an agent's dead-letter queue. */
export function agentDeadLetterQueueName(agentId: string): string {
  return `dmr.agent.${agentId}.dlq`;
}

/** Settings that become RabbitMQ policies, so changing them reaches existing queues. */
export interface PolicySettings {
  readonly messageTtlMs: number;
  readonly deadLetterTtlMs: number;
  readonly validationFailuresTtlMs: number;
  readonly deliveryLimit: number;
  /**
   * Most messages one queue holds (`max-length`, with `overflow: reject-publish`: RabbitMQ nacks the next publish,
   * which the server answers with DMR_ROUTE_QUEUE_FULL). Absent or 0: no limit.
   */
  readonly maxQueueLength?: number;
  /**
   * RabbitMQ's `delivery-limit`: how often a message may go back to its queue unsettled (a server, agent or connection
   * ended while holding it) before RabbitMQ dead-letters it. DMR never requeues, so only such returns count there;
   * failed attempts count against `deliveryLimit` in the server. Default: `deliveryLimit` (older callers).
   */
  readonly returnLimit?: number;
}

/** One RabbitMQ policy as the management API's PUT /api/policies body takes it. */
export interface PolicyDefinition {
  readonly name: string;
  readonly pattern: string;
  readonly applyTo: 'queues';
  readonly priority: number;
  readonly definition: Readonly<Record<string, string | number>>;
}

/**
 * The policies DMR needs. Only one policy applies to a queue (the highest priority),
 * so the DLQ and validation policies outrank the agent-queue policy whose pattern also matches them.
 */
export function buildPolicies(settings: PolicySettings): PolicyDefinition[] {
  // every dmr queue is bounded the same way, so one agent's flood fills its own queue, never the broker's disk or memory
  const maxLength: Record<string, number> = settings.maxQueueLength ? { 'max-length': settings.maxQueueLength } : {};
  return [
    {
      name: 'dmr-agent-queues',
      pattern: '^dmr\\.agent\\.',
      applyTo: 'queues',
      priority: 10,
      definition: {
        'message-ttl': settings.messageTtlMs,
        'dead-letter-exchange': DEAD_LETTER_EXCHANGE,
        // returns, not attempts: restarts must not push a message toward the DLQ (issue 15, finding 11)
        'delivery-limit': settings.returnLimit ?? settings.deliveryLimit,
        // at-least-once dead-lettering so an expiring or exhausted message is never lost between queues
        'dead-letter-strategy': 'at-least-once',
        overflow: 'reject-publish',
        ...maxLength,
      },
    },
    {
      name: 'dmr-agent-dead-letter-queues',
      pattern: '^dmr\\.agent\\..+\\.dlq$',
      applyTo: 'queues',
      priority: 20,
      definition: { 'message-ttl': settings.deadLetterTtlMs, overflow: 'reject-publish', ...maxLength },
    },
    {
      name: 'dmr-validation-failures',
      pattern: '^dmr\\.validation-failures$',
      applyTo: 'queues',
      priority: 20,
      definition: { 'message-ttl': settings.validationFailuresTtlMs, overflow: 'reject-publish', ...maxLength },
    },
  ];
}

/** Arguments fixed at declaration (the rest lives in policies). Single active consumer keeps per-agent order across server instances. */
export const AGENT_QUEUE_ARGUMENTS = { 'x-queue-type': 'quorum', 'x-single-active-consumer': true } as const;
/** Arguments for DLQs and the validation-failures queue. */
export const PLAIN_QUORUM_ARGUMENTS = { 'x-queue-type': 'quorum' } as const;

/** One declaration of DMR's topology, as data: the server and `dmrctl` declare the same things through {@link declareTopology}. */
export type TopologyStep =
  | { readonly kind: 'exchange'; readonly name: string; readonly type: 'direct' | 'fanout' }
  | { readonly kind: 'queue'; readonly name: string; readonly arguments: Readonly<Record<string, unknown>> }
  | { readonly kind: 'bind'; readonly queue: string; readonly exchange: string; readonly routingKey: string };

/** The exchanges and the validation-failures queue with its exchange. */
export const BASE_TOPOLOGY: readonly TopologyStep[] = [
  { kind: 'exchange', name: MESSAGES_EXCHANGE, type: 'direct' },
  { kind: 'exchange', name: DEAD_LETTER_EXCHANGE, type: 'direct' },
  { kind: 'exchange', name: VALIDATION_FAILURES_EXCHANGE, type: 'fanout' },
  { kind: 'queue', name: VALIDATION_FAILURES_QUEUE, arguments: PLAIN_QUORUM_ARGUMENTS },
  { kind: 'bind', queue: VALIDATION_FAILURES_QUEUE, exchange: VALIDATION_FAILURES_EXCHANGE, routingKey: '' },
];

/**
 * An agent's inbox and DLQ with their bindings. TTL, dead-lettering and the delivery limit come from policies,
 * so they are not queue arguments here.
 */
export function agentTopology(agentId: string): TopologyStep[] {
  const inbox = agentQueueName(agentId);
  const deadLetters = agentDeadLetterQueueName(agentId);
  return [
    { kind: 'queue', name: inbox, arguments: AGENT_QUEUE_ARGUMENTS },
    { kind: 'bind', queue: inbox, exchange: MESSAGES_EXCHANGE, routingKey: agentId },
    { kind: 'queue', name: deadLetters, arguments: PLAIN_QUORUM_ARGUMENTS },
    { kind: 'bind', queue: deadLetters, exchange: DEAD_LETTER_EXCHANGE, routingKey: agentId },
  ];
}

/** The AMQP calls {@link declareTopology} makes (an amqplib `Channel` fits). */
export interface TopologyChannel {
  assertExchange(name: string, type: string, options: { durable: boolean }): Promise<unknown>;
  assertQueue(name: string, options: { durable: boolean; arguments: Record<string, unknown> }): Promise<unknown>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<unknown>;
}

/** Declares `steps` in order, all durable. Idempotent; a declaration RabbitMQ refuses rejects (and closes the channel). */
export async function declareTopology(channel: TopologyChannel, steps: readonly TopologyStep[]): Promise<void> {
  for (const step of steps) {
    if (step.kind === 'exchange') await channel.assertExchange(step.name, step.type, { durable: true });
    else if (step.kind === 'queue') await channel.assertQueue(step.name, { durable: true, arguments: { ...step.arguments } });
    else await channel.bindQueue(step.queue, step.exchange, step.routingKey);
  }
}

/** Permissions of the relay user: `dmr.` resources only (configure, write, read). */
export const RELAY_USER_PERMISSIONS = { configure: '^dmr\\.', write: '^dmr\\.', read: '^dmr\\.' } as const;

/** Inputs of {@link buildDefinitions}. */
export interface DefinitionsInput {
  readonly vhost: string;
  /** The relay's RabbitMQ user; with certificate login its name is the certificate CN. */
  readonly relayUser: string;
  readonly policies: PolicySettings;
}

/**
 * RabbitMQ definitions for a secure deployment: the relay user with no password (SASL EXTERNAL only),
 * its `dmr.`-only permissions, and DMR's policies. Exchanges and queues are declared by the servers.
 */
export function buildDefinitions(input: DefinitionsInput): Record<string, unknown> {
  return {
    users: [{ name: input.relayUser, password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] }],
    vhosts: [{ name: input.vhost }],
    permissions: [{ user: input.relayUser, vhost: input.vhost, ...RELAY_USER_PERMISSIONS }],
    policies: buildPolicies(input.policies).map((policy) => ({
      vhost: input.vhost,
      name: policy.name,
      pattern: policy.pattern,
      'apply-to': policy.applyTo,
      priority: policy.priority,
      definition: policy.definition,
    })),
  };
}
