import type { Server as HttpsServer } from 'node:https';
import { createLogger, LISTEN_BACKLOG, type Logger, OpsListener } from '@dmr/shared';
import type { FastifyInstance } from 'fastify';
import { type BrokerConnection, QueueFullTranslator } from './amqp/index.js';
import { CertificateGuard, createCrlMetrics, SessionCertificates } from './auth/index.js';
import { serverBinInfo } from './bin-info.js';
import { type BrokerSide, createBrokerSide } from './broker-side.js';
import { type CertificateUpkeep, createCertificateUpkeep } from './certificate-upkeep.js';
import type { ServerConfig } from './config/index.js';
import { type ControlSide, createControlSide } from './control-side.js';
import { SocketGateway } from './gateway/index.js';
import { buildHttpApp, LiveTlsContext, type ReadinessReport, readTlsMaterial } from './http/index.js';
import { createServerMetrics, type ServerMetrics } from './obs/index.js';
import { createPolicySide, type PolicySide } from './policy-side.js';
import { AgentRegistry } from './registry/index.js';
import { MessageRouter, RouteAdmission } from './routing/index.js';

/** Lifecycle state of a component. */
export type LifecycleState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** A built, not yet started dmr-server. */
export interface DmrServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  readonly registry: AgentRegistry;
  readonly broker: BrokerConnection;
  readonly gateway: SocketGateway;
  /** Config push, re-reads and the report to the control plane (issue 18). */
  readonly control: ControlSide;
  /** Issue 19: the policy engine, decision point and reads. */
  readonly policy: PolicySide;
  /** Keeper of the CRLs in force; undefined without mutual TLS. */
  readonly certificates: CertificateGuard | undefined;
  /** Issue 18: the keepers of the TLS and RabbitMQ client certificates (reload, renewal with dmr-control). */
  readonly certificateKeepers: CertificateUpkeep;
  readonly state: LifecycleState;
  /** Bound port of the ops listener (`DMR_OPS_PORT`) once started; undefined without one. */
  readonly opsPort: number | undefined;
  /** Starts the ops listener, broker loop, registry and HTTP listener; resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /** Graceful stop (intake off, drain, close). Memoised. */
  stop(): Promise<void>;
  readiness(): ReadinessReport;
}

/** Optional overrides for tests. */
export interface ServerDeps {
  readonly log?: Logger;
}

/** Wires a dmr-server from its config without starting anything. */
export function buildServer(config: ServerConfig, deps: ServerDeps = {}): DmrServer {
  const log = deps.log ?? createLogger({ name: 'dmr-server', level: config.logLevel });
  const metrics = createServerMetrics();
  let registry: AgentRegistry | undefined;
  // built after the registry and the guard, which report to it once they applied something
  let control: ControlSide | undefined;
  // issue 15 (12-14): per-agent queue isolation, policies in the background, refusal while RabbitMQ blocks publishing
  const brokerSide = createBrokerSide(config, metrics, log, () => registry?.agentIds() ?? []);
  const { broker } = brokerSide;
  registry = createRegistry(config, brokerSide, metrics, log, () => control?.onApplied());
  const policy = createPolicySide(config, registry, metrics, log);
  const router = new MessageRouter(
    {
      // recipient-queue guard first (queues not declared), then a nack on a full queue told apart (max-length)
      broker: new QueueFullTranslator(
        { publish: (...args) => brokerSide.publisher.publish(...args), openChannel: () => broker.openChannel() },
        config.policies.maxQueueLength ?? 0,
        log.child({ component: 'router' }),
      ),
      isKnownAgent: (id) => registry.has(id),
      isDisabledAgent: (id) => registry.isDisabled(id),
      policy: policy.point,
      metrics,
      log: log.child({ component: 'router' }),
    },
    config.gateway.maxMessageBytes,
  );
  const readiness = (): ReadinessReport => {
    // an expired CRL in force makes TLS refuse every agent: not ready, so the load balancer sends agents elsewhere
    const crl = guard?.readiness();
    const { configVersion } = registry;
    const detail = {
      ...(configVersion === undefined ? {} : { configVersion: String(configVersion) }),
      ...(crl?.detail ? { crl: crl.detail } : {}),
      policy: policy.point.readiness(),
    };
    // a refused policy keeps the server ready (the last good one decides); none read yet is not (messages are refused)
    const isPolicyLoaded = policy.point.isLoaded;
    return {
      isReady: brokerSide.isPublishing() && registry.isLoaded && isPolicyLoaded && state === 'running' && crl?.isUsable !== false,
      checks: {
        broker: broker.status,
        registry: registry.isLoaded ? 'loaded' : 'not-loaded',
        policy: isPolicyLoaded ? 'loaded' : 'not-loaded',
        lifecycle: state,
        ...brokerSide.readinessChecks(),
        ...(control?.readinessChecks() ?? {}),
        ...(crl ? { crl: crl.health } : {}),
        ...(crl?.fetch ? { crlFetch: crl.fetch } : {}),
      },
      detail,
    };
  };
  const tls = config.tls;
  const tlsMaterial = tls ? readTlsMaterial(tls) : undefined;
  // one TLS context for the CRL and the identity: either can change at run time without the other being lost
  const liveTls = tlsMaterial ? new LiveTlsContext(tlsMaterial, () => app.server as unknown as HttpsServer) : undefined;
  // the CRL comes into force only once the guard verified it (guard.start(), before the listener opens)
  const app = buildHttpApp({
    metricsRegistry: metrics.registry,
    readiness,
    log,
    ...(liveTls ? { https: liveTls.serverOptions } : {}),
  });
  const guard =
    tls && liveTls
      ? new CertificateGuard(
          tls,
          {
            applyCrl: (crlPems) => liveTls.applyCrls(crlPems),
            recheck: () => gateway.recheckCertificates(),
            onCrlsChanged: () => control?.onApplied(),
          },
          log.child({ component: 'tls' }),
          createCrlMetrics(metrics.registry),
          { fetch: { timeoutMs: config.control.timeoutMs, caFile: config.control.caFile } },
        )
      : undefined;
  const certificateKeepers = createCertificateUpkeep(config, {
    liveTls,
    tlsMaterial,
    broker,
    metrics,
    log,
    onTrustChanged: async () => guard?.trustChanged(),
  });
  // probes and Prometheus without a client certificate: the same answers as the main port, nothing else
  const ops = config.ops
    ? new OpsListener(config.ops, { forward: (request) => app.inject(request), log: log.child({ component: 'ops' }) })
    : undefined;
  const sessionCertificates = guard
    ? new SessionCertificates({
        judge: (peer) => guard.judge(peer),
        log: log.child({ component: 'tls' }),
        onRefused: (code) => metrics.socketErrorsTotal.inc({ code }),
      })
    : undefined;
  const gateway = new SocketGateway(
    app.server,
    {
      broker,
      registry,
      router: new RouteAdmission(router, { metrics, log: log.child({ component: 'router' }) }, config.gateway.limits.maxInFlightPerAgent),
      metrics,
      log: log.child({ component: 'gateway' }),
      deliveryLimit: config.policies.deliveryLimit,
      messageTtlMs: config.policies.messageTtlMs,
      ...(sessionCertificates ? { certificates: sessionCertificates } : {}),
    },
    config.gateway,
  );
  control = createControlSide(config, {
    broker,
    registry,
    guard,
    trust: certificateKeepers.tls,
    metrics,
    log,
    policy: policy.refresh ? { refresh: policy.refresh } : undefined,
    version: serverBinInfo().version,
    startedAt: new Date(),
  });

  let state: LifecycleState = 'idle';
  let stopping: Promise<void> | undefined;
  const start = async (): Promise<{ port: number }> => {
    state = 'starting';
    // first, so liveness answers (and readiness says 503) while the CRL, broker and registry come up
    await ops?.start();
    if (!tls)
      log.warn(
        'DMR_ALLOW_PLAINTEXT=true: agents connect without TLS; only acceptable behind a TLS-terminating ingress or for local experiments',
      );
    await guard?.start();
    broker.start();
    // bound before the first sync; each binding catches up, so nothing announced from now on is missed
    await control?.start();
    await registry.start();
    await policy.start();
    await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
    certificateKeepers.start();
    state = 'running';
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    log.info({ port, environment: config.environment }, 'dmr-server started');
    return { port };
  };
  const stop = (): Promise<void> => {
    stopping ??= shutdown({
      gateway,
      registry,
      policy,
      brokerSide,
      broker,
      app,
      router,
      log,
      guard,
      certificateKeepers,
      control,
      ops,
      drainMs: config.shutdownTimeoutMs,
      setState: (next) => (state = next),
    });
    return stopping;
  };
  return {
    app,
    metrics,
    registry,
    broker,
    gateway,
    control,
    policy,
    certificates: guard,
    certificateKeepers,
    get state() {
      return state;
    },
    get opsPort() {
      return ops?.port;
    },
    start,
    stop,
    readiness,
  };
}

function createRegistry(
  config: ServerConfig,
  brokerSide: BrokerSide,
  metrics: ServerMetrics,
  log: Logger,
  onApplied: () => void,
): AgentRegistry {
  const registry: AgentRegistry = new AgentRegistry(
    config.registry,
    {
      prepare: (diff) => brokerSide.prepareRegistryChange(diff),
      onSync: (result, agentCount) => {
        metrics.registrySyncsTotal.inc({ result });
        metrics.registryAgents.set(agentCount);
        if (result !== 'changed' && result !== 'unchanged') return;
        metrics.configVersion.set(registry.configVersion ?? 0);
        onApplied();
      },
    },
    log.child({ component: 'registry' }),
  );
  return registry;
}

interface ShutdownParts {
  readonly gateway: SocketGateway;
  readonly registry: AgentRegistry;
  readonly policy: PolicySide;
  readonly brokerSide: BrokerSide;
  readonly broker: BrokerConnection;
  readonly app: FastifyInstance;
  readonly router: MessageRouter;
  readonly log: Logger;
  readonly guard: CertificateGuard | undefined;
  readonly certificateKeepers: CertificateUpkeep;
  readonly control: ControlSide | undefined;
  readonly ops: OpsListener | undefined;
  readonly drainMs: number;
  readonly setState: (state: LifecycleState) => void;
}

/**
 * Reverse start order, draining first: intake off → certificate upkeep → in-flight publishes → deliveries → sockets → broker → ops → HTTP.
 * The ops listener stays up through the drain (readiness says 503 `stopping`) and closes before the app it asks.
 */
async function shutdown(parts: ShutdownParts): Promise<void> {
  parts.setState('stopping');
  parts.log.info('dmr-server stopping');
  const steps: Array<[string, () => Promise<void>]> = [
    ['intake', async () => parts.gateway.stopIntake()],
    // before the broker stops: a reload in progress may be reconnecting to RabbitMQ and waits for it
    ['certificates', () => parts.certificateKeepers.stop()],
    ['control', async () => parts.control?.stop()],
    ['registry', () => parts.registry.stop()],
    ['policy', () => parts.policy.stop()],
    ['broker-retries', () => parts.brokerSide.stopRetries()],
    ['tls', async () => parts.guard?.stop()],
    ['publishes', () => waitFor(() => parts.router.inFlight === 0, parts.drainMs)],
    ['gateway', () => parts.gateway.stop(parts.drainMs)],
    ['broker', () => parts.broker.stop()],
    ['ops', async () => parts.ops?.stop()],
    ['http', () => parts.app.close()],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      parts.log.error({ err: error, step: name }, 'shutdown step failed');
    }
  }
  parts.setState('stopped');
  parts.log.info('dmr-server stopped');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
