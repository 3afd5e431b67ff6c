import { DmrError, type PolicyDefinition } from '@dmr/shared';

/** Where and as whom to call the RabbitMQ management API. */
export interface ManagementTarget {
  readonly baseUri: string;
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
}

/**
 * Applies DMR's policies through the management HTTP API (PUT is an upsert, so this is idempotent
 * and a changed TTL reaches existing queues). Throws DMR_ROUTE_BROKER_UNAVAILABLE naming the policy that failed.
 */
export async function applyPolicies(target: ManagementTarget, policies: readonly PolicyDefinition[], signal?: AbortSignal): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${target.user}:${target.password}`).toString('base64')}`;
  const base = target.baseUri.replace(/\/+$/, '');
  for (const policy of policies) {
    const url = `${base}/api/policies/${encodeURIComponent(target.vhost)}/${encodeURIComponent(policy.name)}`;
    const body = { pattern: policy.pattern, definition: policy.definition, priority: policy.priority, 'apply-to': policy.applyTo };
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(10_000)]) : AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', `RabbitMQ management API unreachable at ${base}`, { cause: error });
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', `policy ${policy.name} refused: HTTP ${response.status} ${text.slice(0, 200)}`);
    }
  }
}

/**
 * Applies the policies through the first management API in `baseUris` that accepts them (policies are
 * cluster-wide, so one node is enough): a cluster keeps working while the node named first is down.
 * Throws the last failure (DMR_ROUTE_BROKER_UNAVAILABLE) when none does. `signal` aborts the calls (shutdown).
 */
export async function applyPoliciesAnywhere(
  baseUris: readonly string[],
  target: Omit<ManagementTarget, 'baseUri'>,
  policies: readonly PolicyDefinition[],
  signal?: AbortSignal,
): Promise<void> {
  let lastError: unknown = new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', 'no RabbitMQ management API configured');
  for (const baseUri of baseUris) {
    try {
      if (signal?.aborted) break;
      await applyPolicies({ ...target, baseUri }, policies, signal);
      return;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
