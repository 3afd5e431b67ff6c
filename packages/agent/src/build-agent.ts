import {
  aesJwe,
  type BackoffSettings,
  createLogger,
  DEFAULT_CERT_RELOAD_INTERVAL_MS,
  DmrError,
  EphemeralKeyReuse,
  ecdhP256,
  es256,
  KeyAgreementCache,
  LISTEN_BACKLOG,
  type Logger,
  OpsListener,
} from '@dmr/shared';
import type { CertificateKeeper } from '@dmr/shared/certs';
import type { FastifyInstance } from 'fastify';
import { buildHttpApp, LoopDelayGauge, OutboundSender, type Readiness } from './api/index.js';
import { createClientCertificateKeeper, PeerAnchorsWatcher } from './certs/index.js';
import type { AgentConfig } from './config/index.js';
import { createHttpPost, EndpointClient, httpPostFromFetch, InboundDelivery } from './delivery/index.js';
import { AgentDirectory, AgentLink, type LinkState } from './link/index.js';
import { AgentMetrics, createOutcomeSink } from './obs/index.js';

/** Lifecycle state of an agent. */
export type AgentState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Optional collaborators; everything defaults to the real thing. */
export interface AgentDeps {
  /** Root logger (default: JSON lines on stdout at `config.logLevel`). */
  readonly logger?: Logger;
  /** HTTP client for the local endpoint (default: node:http with keep-alive; a fetch is adapted). */
  readonly fetch?: typeof fetch;
  /** Jitter source for every backoff (default `Math.random`). */
  readonly random?: () => number;
  /** Delay between endpoint attempts (default 250 ms doubling up to 2000 ms). */
  readonly endpointBackoff?: BackoffSettings;
}

/** A built agent. Nothing runs until {@link Agent.start}. */
export interface Agent {
  /** The fastify app (routes registered, not listening until start); tests use `app.inject()`. */
  readonly app: FastifyInstance;
  /** Lifecycle state. */
  readonly state: AgentState;
  /** State of the connection to the DMR server. */
  readonly linkState: LinkState;
  /** Bound port of the ops listener (`DMR_OPS_PORT`) once started; undefined without one. */
  readonly opsPort: number | undefined;
  /** The agent's metrics (`main.ts` counts survived process-level errors here). */
  readonly metrics: AgentMetrics;
  /** Issue 18: keeps the TLS client certificate current (reload, renewal with dmr-control); undefined without one. */
  readonly certificates: CertificateKeeper | undefined;
  /** Listens on `HOST:PORT` (and `DMR_OPS_HOST:DMR_OPS_PORT`), then opens the link. Idempotent; rejects after stop with DMR_LIFECYCLE_SHUTTING_DOWN. */
  start(): Promise<void>;
  /**
   * Graceful stop, memoised: refuses new messages (503 / DMR_LIFECYCLE_SHUTTING_DOWN acks), waits up to
   * `shutdownTimeoutMs` for in-flight sends and deliveries, closes the link, then the ops listener and the HTTP server.
   * `force` skips the wait and aborts in-flight deliveries.
   */
  stop(options?: { force?: boolean }): Promise<void>;
}

const DEFAULT_ENDPOINT_BACKOFF: BackoffSettings = { initialDelayMs: 250, maxDelayMs: 2000 };

/** Wires config and collaborators into an unstarted agent. Throws only on programming errors. */
export function buildAgent(config: AgentConfig, deps: AgentDeps = {}): Agent {
  const root = (deps.logger ?? createLogger({ name: 'dmr-agent', level: config.logLevel })).child({
    agentId: config.agentId,
    environment: config.environment,
  });
  const metrics = new AgentMetrics();
  const directory = new AgentDirectory({ trust: config.peerTrust });
  const lookupKey = (agentId: string) => directory.lookup(agentId);
  const { agentId, privateKey } = config;
  const endpointHttp = deps.fetch
    ? { post: httpPostFromFetch(deps.fetch), close: async () => undefined }
    : createHttpPost({ connectTimeoutMs: config.delivery.attemptTimeoutMs });
  const endpoint = new EndpointClient(
    { ...config.delivery, backoff: deps.endpointBackoff ?? DEFAULT_ENDPOINT_BACKOFF },
    { post: endpointHttp.post, random: deps.random },
  );
  const deliveryLog = root.child({ component: 'delivery' });
  const inbound = new InboundDelivery(
    { ...config.delivery, legacySenderIds: config.peerTrust.legacyAgentIds },
    {
      agentId,
      privateKey,
      lookupKey,
      endpoint,
      outcomes: createOutcomeSink(deliveryLog, metrics),
      onDuplicate: () => metrics.duplicateSuppressed(),
      agreements: { agreedKeys: new KeyAgreementCache() },
      onUnboundAccepted: (accepted) => {
        metrics.unboundAccepted(accepted.basis);
        deliveryLog.info(accepted, 'accepted a message whose signature does not cover its metadata (unbound)');
      },
    },
  );
  const link = new AgentLink(config.link, {
    agentId,
    privateKey,
    directory,
    onMessage: (message) => inbound.handle(message),
    observer: metrics,
    log: root.child({ component: 'link' }),
    random: deps.random,
  });
  const loopDelay = new LoopDelayGauge();
  const outbound = new OutboundSender({
    agentId,
    privateKey,
    lookupKey,
    link,
    outcomes: createOutcomeSink(root.child({ component: 'api' }), metrics),
    maxInFlight: config.http.maxInFlightSends,
    loopDelayMs: () => loopDelay.read(),
    maxLoopDelayMs: config.http.maxEventLoopDelayMs,
    agreements: { ephemeralKeys: new EphemeralKeyReuse({ maxAgeMs: config.ephemeralKeyReuseMs }) },
  });
  const app = buildHttpApp(config.http, { log: root.child({ component: 'http' }), metrics, outbound, readiness: () => runner.readiness() });
  // probes and Prometheus: the API's own health, readiness and metrics answers, and never POST /v1/messages
  const ops = config.ops
    ? new OpsListener(config.ops, { forward: (request) => app.inject(request), log: root.child({ component: 'ops' }) })
    : undefined;
  const { caFile: peerCaFile, allowUnverified, ...policy } = config.peerTrust;
  const peerAnchors =
    peerCaFile !== undefined && !allowUnverified
      ? new PeerAnchorsWatcher({
          caFile: peerCaFile,
          policy: { ...policy, allowUnverified },
          intervalMs: config.certificates?.lifecycle.reloadIntervalMs ?? DEFAULT_CERT_RELOAD_INTERVAL_MS,
          directory,
          log: root.child({ component: 'certificates', certificate: 'peer-ca' }),
        })
      : undefined;
  const certificates = createClientCertificateKeeper(config, {
    link,
    metrics,
    log: root,
    ...(peerAnchors ? { onApplied: () => peerAnchors.checkNow() } : {}),
  });
  const runner = new AgentRunner({
    config,
    metrics,
    certificates,
    peerAnchors,
    log: root.child({ component: 'agent' }),
    link,
    inbound,
    outbound,
    app,
    ops,
    loopDelay,
    closeEndpoint: () => endpointHttp.close(),
  });
  return runner;
}

interface AgentParts {
  readonly config: AgentConfig;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  readonly link: AgentLink;
  readonly certificates: CertificateKeeper | undefined;
  readonly peerAnchors: PeerAnchorsWatcher | undefined;
  readonly inbound: InboundDelivery;
  readonly outbound: OutboundSender;
  readonly app: FastifyInstance;
  readonly ops: OpsListener | undefined;
  readonly loopDelay: LoopDelayGauge;
  /** Closes the kept-alive connections to the endpoint. */
  readonly closeEndpoint: () => Promise<void>;
}

/** Owns the start/stop order. Steps of stop each run in their own try/catch so one failure cannot skip the rest. */
class AgentRunner implements Agent {
  readonly #parts: AgentParts;
  #state: AgentState = 'idle';
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  // Aborted by stop({force:true}), also when it arrives while a graceful stop is already draining.
  readonly #force = new AbortController();

  constructor(parts: AgentParts) {
    this.#parts = parts;
  }

  get app(): FastifyInstance {
    return this.#parts.app;
  }

  get state(): AgentState {
    return this.#state;
  }

  get linkState(): LinkState {
    return this.#parts.link.state;
  }

  get opsPort(): number | undefined {
    return this.#parts.ops?.port;
  }

  get metrics(): AgentMetrics {
    return this.#parts.metrics;
  }

  get certificates(): CertificateKeeper | undefined {
    return this.#parts.certificates;
  }

  /** Ready = running, connected, and the current connection delivered a full agent list. */
  readiness(): Readiness {
    const { link } = this.#parts;
    return {
      isReady: this.#state === 'running' && link.state === 'connected' && link.hasAgentList,
      checks: { server: link.state, agentList: link.hasAgentList ? 'received' : 'pending' },
    };
  }

  start(): Promise<void> {
    if (this.#stopping) return Promise.reject(new DmrError('DMR_LIFECYCLE_SHUTTING_DOWN', 'the agent was stopped and cannot start again'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  stop(options: { force?: boolean } = {}): Promise<void> {
    if (options.force === true) this.#force.abort();
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    const { app, config, link, log } = this.#parts;
    // HTTP first so health probes answer while the link is still connecting.
    await app.listen({ host: config.http.host, port: config.http.port, backlog: LISTEN_BACKLOG });
    await this.#parts.ops?.start();
    if (config.http.maxEventLoopDelayMs > 0) this.#parts.loopDelay.start();
    logPeerTrust(log, config);
    link.start();
    await this.#parts.peerAnchors?.start();
    this.#parts.certificates?.start();
    this.#state = 'running';
    // `node:crypto` here means @dmr/native-ecdh was not built: correct, but ~0.12 ms more CPU per P-256 message
    log.info(
      {
        address: app.server.address(),
        ecdhBackend: ecdhP256.backend,
        es256Backend: es256.backend,
        aesBackend: aesJwe.backend,
        ephemeralKeyReuseMs: config.ephemeralKeyReuseMs,
      },
      'agent started',
    );
  }

  async #stop(): Promise<void> {
    const { outbound, inbound, link, app, log } = this.#parts;
    // Intake closes synchronously with the stop() call: no request may slip in while a start finishes.
    outbound.beginShutdown();
    inbound.beginShutdown();
    // Let a start in progress finish first, so its listen() cannot outlive app.close().
    await this.#starting?.catch(() => undefined);
    this.#state = 'stopping';
    // first: a renewal or reload in progress may be moving the link to a new connection, and is awaited
    await this.#step('certificates', async () => this.#parts.certificates?.stop());
    await this.#step('peer-anchors', async () => this.#parts.peerAnchors?.stop());
    await this.#step('drain', () => this.#drain());
    await this.#step('link', () => link.stop());
    // Closing the link failed every send still waiting for an ack, and aborted deliveries end promptly.
    await this.#step('settle', async () => {
      await Promise.all([outbound.drain(), inbound.drain()]);
    });
    await this.#step('ops', async () => this.#parts.ops?.stop());
    await this.#step('http', () => app.close());
    await this.#step('endpoint', () => this.#parts.closeEndpoint());
    this.#parts.loopDelay.stop();
    this.#state = 'stopped';
    log.info('agent stopped');
  }

  /** Waits for in-flight work until the deadline or a forced stop, then aborts what is left of the deliveries. */
  async #drain(): Promise<void> {
    const { outbound, inbound, log, config } = this.#parts;
    const force = this.#force.signal;
    const work = Promise.all([outbound.drain(), inbound.drain()]);
    const isDrained = force.aborted ? false : await settlesWithin(work, config.shutdownTimeoutMs, force);
    if (isDrained) return;
    if (!force.aborted) log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'drain deadline passed; aborting in-flight deliveries');
    inbound.abort();
  }

  async #step(name: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.#parts.log.error({ err: error, step: name }, 'shutdown step failed');
    }
  }
}

/** States once at start what the agent trusts peer keys through; loudly when verification is off. */
function logPeerTrust(log: Logger, config: AgentConfig): void {
  const { allowUnverified, caFile, anchors, legacyAgentIds } = config.peerTrust;
  const legacy = [...legacyAgentIds];
  if (config.delivery.allowUnboundMetadata) {
    log.warn(
      { allowUnboundMetadata: true },
      'AGENT_ALLOW_UNBOUND_METADATA=true: {data}-only signatures are accepted from EVERY sender, so the DMR server can alter any message metadata; list seed-003 senders in DMR_LEGACY_AGENT_IDS instead',
    );
  }
  if (allowUnverified) {
    log.warn(
      { peerKeyTrust: 'unverified' },
      'DMR_ALLOW_UNVERIFIED_PEER_KEYS=true: this agent encrypts to and accepts signatures from ANY key the DMR server sends; a compromised or misconfigured relay can read and forge its messages. Local experiments only.',
    );
    return;
  }
  log.info(
    { peerKeyTrust: 'certificate', caFile, anchors: anchors.length, legacyAgentIds: legacy },
    'peer keys are trusted through the DMR CA',
  );
  if (legacy.length > 0) {
    log.warn(
      { legacyAgentIds: legacy },
      'bare public keys and {data}-only signatures (unbound metadata) are accepted from these legacy agents: the DMR server can substitute their keys and alter the metadata of their messages',
    );
  }
}

/** True when `promise` settles within `ms` and before `signal` aborts; the deadline timer is always cleared. */
async function settlesWithin(promise: Promise<unknown>, ms: number, signal: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
