import { readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { buildPolicies, createLogger, LISTEN_BACKLOG, type Logger } from '@dmr/shared';
import type { FastifyInstance } from 'fastify';
import { applyPoliciesAnywhere, assertAgentQueues, assertBaseTopology, BrokerConnection, QueueFullTranslator } from './amqp/index.js';
import { CertificateGuard } from './auth/index.js';
import type { ServerConfig } from './config/index.js';
import { SocketGateway } from './gateway/index.js';
import { buildHttpApp, httpsServerOptions, type ReadinessReport, secureContextOptions } from './http/index.js';
import { createServerMetrics, type ServerMetrics } from './obs/index.js';
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
  readonly state: LifecycleState;
  /** Starts broker loop, registry and HTTP listener; resolves with the bound port. */
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
  const broker = new BrokerConnection(
    config.broker,
    async (channel) => {
      // Policies first: queues declared afterwards start with them. Applied after thousands of queues exist,
      // RabbitMQ re-applies a new policy to each of them and the management call outlives its timeout (bench/, 5000 agents).
      if (config.broker.applyPolicies) {
        await applyPoliciesAnywhere(config.broker.managementUris, managementTarget(config), buildPolicies(config.policies));
      }
      await assertBaseTopology(channel);
      for (const agentId of registry?.agentIds() ?? []) await assertAgentQueues(channel, agentId);
    },
    log.child({ component: 'amqp' }),
  );
  registry = createRegistry(config, broker, metrics, log);
  const router = new MessageRouter(
    {
      broker: new QueueFullTranslator(broker, config.policies.maxQueueLength ?? 0, log.child({ component: 'router' })),
      isKnownAgent: (id) => registry.has(id),
      metrics,
      log: log.child({ component: 'router' }),
    },
    config.gateway.maxMessageBytes,
  );
  const readiness = (): ReadinessReport => ({
    isReady: broker.isConnected && registry.isLoaded && state === 'running',
    checks: { broker: broker.status, registry: registry.isLoaded ? 'loaded' : 'not-loaded', lifecycle: state },
  });
  const tls = config.tls;
  const initialCrl = tls?.crlFile ? readFileSync(tls.crlFile, 'utf8') : undefined;
  const app = buildHttpApp({
    metricsRegistry: metrics.registry,
    readiness,
    log,
    ...(tls ? { https: httpsServerOptions(tls, initialCrl) } : {}),
  });
  const guard = tls
    ? new CertificateGuard(
        tls,
        {
          applyCrl: (crlPem) => (app.server as unknown as HttpsServer).setSecureContext(secureContextOptions(tls, crlPem)),
          recheck: () => gateway.recheckCertificates(),
        },
        log.child({ component: 'tls' }),
      )
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
      ...(guard ? { certificates: guard } : {}),
    },
    config.gateway,
  );
  broker.on('connected', () => metrics.brokerConnected.set(1));
  broker.on('disconnected', () => metrics.brokerConnected.set(0));

  let state: LifecycleState = 'idle';
  let stopping: Promise<void> | undefined;
  const start = async (): Promise<{ port: number }> => {
    state = 'starting';
    if (!tls)
      log.warn(
        'DMR_ALLOW_PLAINTEXT=true: agents connect without TLS; only acceptable behind a TLS-terminating ingress or for local experiments',
      );
    await guard?.start();
    broker.start();
    await registry.start();
    await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
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
      broker,
      app,
      router,
      log,
      guard,
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
    get state() {
      return state;
    },
    start,
    stop,
    readiness,
  };
}

function createRegistry(config: ServerConfig, broker: BrokerConnection, metrics: ServerMetrics, log: Logger): AgentRegistry {
  return new AgentRegistry(
    config.registry,
    {
      prepare: async (diff) => {
        if (diff.added.length === 0 || !broker.isConnected) return;
        const channel = await broker.openChannel();
        try {
          for (const agent of diff.added) await assertAgentQueues(channel, agent.info.id);
        } finally {
          await channel.close().catch(() => undefined);
        }
      },
      onSync: (result, agentCount) => {
        metrics.registrySyncsTotal.inc({ result });
        metrics.registryAgents.set(agentCount);
      },
    },
    log.child({ component: 'registry' }),
  );
}

function managementTarget(config: ServerConfig) {
  return { user: config.broker.user, password: config.broker.password, vhost: config.broker.vhost };
}

interface ShutdownParts {
  readonly gateway: SocketGateway;
  readonly registry: AgentRegistry;
  readonly broker: BrokerConnection;
  readonly app: FastifyInstance;
  readonly router: MessageRouter;
  readonly log: Logger;
  readonly guard: CertificateGuard | undefined;
  readonly drainMs: number;
  readonly setState: (state: LifecycleState) => void;
}

/** Reverse start order, draining first: intake off → in-flight publishes → deliveries → sockets → broker → HTTP. */
async function shutdown(parts: ShutdownParts): Promise<void> {
  parts.setState('stopping');
  parts.log.info('dmr-server stopping');
  const steps: Array<[string, () => Promise<void>]> = [
    ['intake', async () => parts.gateway.stopIntake()],
    ['registry', () => parts.registry.stop()],
    ['tls', async () => parts.guard?.stop()],
    ['publishes', () => waitFor(() => parts.router.inFlight === 0, parts.drainMs)],
    ['gateway', () => parts.gateway.stop(parts.drainMs)],
    ['broker', () => parts.broker.stop()],
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
