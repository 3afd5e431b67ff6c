import { randomUUID } from 'node:crypto';
import { amqpUrlFor, basicAuthHeader, managementApiBaseFor, managementUrlFor, type RabbitNodeInfo } from './node-info.js';

/** A vhost created by {@link createVhost}, with full permissions for the node's administrator. */
export interface RabbitVhost extends AsyncDisposable {
  /** The vhost name, e.g. `test-<uuid>`. */
  readonly name: string;
  /** AMQP URL for this vhost with the administrator's credentials. */
  readonly amqpUrl: string;
  /** Management base URL with credentials (`http://user:pass@127.0.0.1:<port>`). */
  readonly managementUrl: string;
  /** Deletes the vhost and everything in it. Idempotent (memoised); an already missing vhost counts as deleted. */
  delete(): Promise<void>;
  /** Same as {@link RabbitVhost.delete}. */
  [Symbol.asyncDispose](): Promise<void>;
}

const FULL_PERMISSIONS = { configure: '.*', write: '.*', read: '.*' };

/**
 * Creates a vhost on a node through the management HTTP API and grants the
 * node's administrator configure/write/read `.*` on it. Isolating each test
 * in its own vhost lets one node serve a whole test run.
 *
 * @param node - the node (or its serialisable info); needs the management plugin.
 * @param name - vhost name; default `test-<uuid>`.
 * @throws Error with the HTTP status and body when the API refuses, or when it is unreachable.
 */
export async function createVhost(node: RabbitNodeInfo, name = `test-${randomUUID()}`): Promise<RabbitVhost> {
  const vhostPath = `/vhosts/${encodeURIComponent(name)}`;
  await managementRequest(node, 'PUT', vhostPath, {});
  const permissionsPath = `/permissions/${encodeURIComponent(name)}/${encodeURIComponent(node.user)}`;
  await managementRequest(node, 'PUT', permissionsPath, FULL_PERMISSIONS);
  let deleted: Promise<void> | undefined;
  const remove = (): Promise<void> => {
    deleted ??= managementRequest(node, 'DELETE', vhostPath, undefined, [404]);
    return deleted;
  };
  return {
    name,
    amqpUrl: amqpUrlFor(node, name),
    managementUrl: managementUrlFor(node),
    delete: remove,
    [Symbol.asyncDispose]: remove,
  };
}

async function managementRequest(
  node: RabbitNodeInfo,
  method: string,
  path: string,
  body: unknown,
  acceptedFailures: readonly number[] = [],
): Promise<void> {
  const url = `${managementApiBaseFor(node)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: basicAuthHeader(node), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (cause) {
    throw new Error(`${method} ${url} failed: is the management plugin enabled on ${node.nodeName}?`, { cause });
  }
  if (response.ok || acceptedFailures.includes(response.status)) {
    await response.body?.cancel();
    return;
  }
  throw new Error(`${method} ${url} returned ${response.status}: ${await response.text()}`);
}
