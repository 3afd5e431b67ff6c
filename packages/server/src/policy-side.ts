import type { Logger } from '@dmr/shared';
import type { ServerConfig } from './config/index.js';
import type { ServerMetrics } from './obs/index.js';
import {
  controlPolicySource,
  createPolicyEngine,
  type OpaSidecarEngine,
  PendingEngine,
  type PolicyEngine,
  PolicyPoint,
  type PolicySource,
  PolicySync,
  urlPolicySource,
} from './policy/index.js';
import type { AgentRegistry } from './registry/index.js';

/** The server's policy (issue 19): the engine, the decision point the router asks, and the reads that keep it current. */
export interface PolicySide {
  readonly engine: PolicyEngine;
  readonly point: PolicyPoint;
  /** Undefined without a source (no DMR_POLICY_URL, no DMR_CONTROL_URL): no policy, every message allowed. */
  readonly sync: PolicySync | undefined;
  /**
   * For `policy` announcements: drops the engine's decision cache (the opa sidecar's; its bundle may have changed
   * even when the document the server reads did not), then re-reads the policy. Absent without a policy source.
   */
  readonly refresh: (() => Promise<boolean>) | undefined;
  /** First read (the server is not ready until it succeeded), then the schedule. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wires DMR_POLICY_ENGINE and the policy source: DMR_POLICY_URL when set, else dmr-control's latest version when
 * DMR_CONTROL_URL is set. Throws DMR_CONFIG_INVALID for an engine this server is not built with. Starts nothing.
 */
export function createPolicySide(config: ServerConfig, registry: AgentRegistry, metrics: ServerMetrics, log: Logger): PolicySide {
  const policyLog = log.child({ component: 'policy' });
  const engine = createPolicyEngine(config.policy);
  const source = sourceOf(config);
  const point = new PolicyPoint(
    { engine, attributesOf: (agentId) => registry.attributesOf(agentId), metrics: metrics.policy, log: policyLog },
    source !== undefined,
  );
  const sync = source ? new PolicySync(source, point, config.registry.cronTime, policyLog) : undefined;
  return {
    engine,
    point,
    sync,
    refresh: sync
      ? () => {
          invalidateCache(engine);
          return sync.refresh();
        }
      : undefined,
    start: async () => {
      // an engine built asynchronously (opa-wasm) must be usable before the first read and the first message
      if (engine instanceof PendingEngine) await engine.ready;
      if (!sync) policyLog.info({ engine: engine.name }, 'no policy source (DMR_POLICY_URL, DMR_CONTROL_URL): every message is allowed');
      await sync?.start();
    },
    stop: async () => {
      await sync?.stop();
      await engine.close();
    },
  };
}

function sourceOf(config: ServerConfig): PolicySource | undefined {
  const { source } = config.policy;
  if (!source) return undefined;
  const { control } = config;
  const tls = { caFile: control.caFile, certFile: control.clientCertFile, keyFile: control.clientKeyFile };
  const options = { timeoutMs: control.timeoutMs, tls };
  return source.kind === 'control' ? controlPolicySource(source.url, options) : urlPolicySource(source.url, options);
}

/** Clears the decision cache of an engine that keeps one (the opa sidecar engine; its builder is synchronous, so it is never behind a PendingEngine). */
function invalidateCache(engine: PolicyEngine): void {
  const cached = engine as Partial<Pick<OpaSidecarEngine, 'invalidate'>>;
  cached.invalidate?.();
}
