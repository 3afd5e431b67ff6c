// Per-test RabbitMQ isolation: a fresh vhost on the run's shared node (started by test/global-setup.ts).
import { amqpUrlFor, createVhost, managementApiBaseFor, managementBaseFor, managementUrlFor, type RabbitNodeInfo } from '@dmr/testkit';
import { inject } from 'vitest';
import type {} from '../global-setup.js';

export { peekQueue, queueDepth, type StoredMessage } from './queues.js';

/** Everything a test needs to reach its own vhost on the shared node. */
export interface RabbitVhostInfo {
  /** The vhost name, `test-<uuid>`. */
  readonly vhost: string;
  /** AMQP URL for the vhost, with credentials. */
  readonly amqpUrl: string;
  /** AMQP port on 127.0.0.1. */
  readonly amqpPort: number;
  /** Management port on 127.0.0.1. */
  readonly managementPort: number;
  /** `http://user:pass@127.0.0.1:<port>`; global `fetch` rejects credentials in URLs, use `managementApiBase`. */
  readonly managementUrl: string;
  /** `http://127.0.0.1:<port>`, for clients taking user and password separately. */
  readonly managementBase: string;
  /** `http://127.0.0.1:<port>/api`, to call with an `Authorization: Basic` header. */
  readonly managementApiBase: string;
  /** Administrator user (full permissions on the vhost). */
  readonly user: string;
  /** Administrator password. */
  readonly password: string;
  /** Erlang name of the shared node. */
  readonly nodeName: string;
  /** Port of the shared node's rabbitmq_prometheus plugin on 127.0.0.1 (test/global-setup.ts enables it). */
  readonly prometheusPort: number | undefined;
}

/** A test's vhost plus `cleanup`, which deletes it (idempotent; call it in afterEach/afterAll). */
export interface RabbitVhostHandle extends RabbitVhostInfo {
  cleanup(): Promise<void>;
}

/**
 * Creates a unique vhost (`test-<uuid>`) on the run's shared RabbitMQ node, read from `inject('rabbit')`.
 * Only works in the `integration` project, whose global setup provides the node.
 */
export async function useRabbitVhost(): Promise<RabbitVhostHandle> {
  const node = inject('rabbit') as RabbitNodeInfo | undefined;
  if (node === undefined) throw new Error("No RabbitMQ node provided: run this test in the vitest 'integration' project.");
  const vhost = await createVhost(node);
  return {
    vhost: vhost.name,
    amqpUrl: amqpUrlFor(node, vhost.name),
    amqpPort: node.amqpPort,
    managementPort: node.managementPort,
    managementUrl: managementUrlFor(node),
    managementBase: managementBaseFor(node),
    managementApiBase: managementApiBaseFor(node),
    user: node.user,
    password: node.password,
    nodeName: node.nodeName,
    prometheusPort: node.prometheusPort,
    cleanup: () => vhost.delete(),
  };
}
