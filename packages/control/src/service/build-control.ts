import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { TlsOptions, Server as TlsServer } from 'node:tls';
import { type ControlKind, createLogger, DmrError, LISTEN_BACKLOG, type Logger, OpsListener, pemCertificates } from '@dmr/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiDeps, buildApiApp, type ReadinessReport, type RouteGroup } from '../api/index.js';
import type { PresentedCertificate } from '../domain/index.js';
import { CaRingHolder, CertificateLifecycle } from '../enroll/index.js';
import { ControlAnnouncer } from '../push/index.js';
import { type ControlStore, openControlStore, redactStoreUrl } from '../store/index.js';
import { type AuditComponent, startAudit } from './audit-wiring.js';
import type { ControlConfig } from './control-config.js';
import { type ControlMetrics, createControlMetrics } from './control-metrics.js';

/** Lifecycle state of dmr-control. */
export type ControlState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Paths pino masks in dmr-control's logs besides the shared ones: key material and tokens, wherever they are logged. */
export const CONTROL_REDACT_PATHS = ['key', '*.key', 'csr', '*.csr', 'tokenHash', '*.tokenHash', 'req.headers.cookie'];

/** A built, not yet started dmr-control. */
export interface DmrControl {
  readonly app: FastifyInstance;
  readonly metrics: ControlMetrics;
  readonly state: ControlState;
  /** The announcer on `dmr.control`, or undefined when push is off (no `RABBITMQ_DEFAULT_HOST`). */
  readonly announcer: ControlAnnouncer | undefined;
  /** Bound port of the ops listener once started; undefined without one. */
  readonly opsPort: number | undefined;
  /** The open store (throws DMR_CONTROL_STORE_FAILED before start and after stop). */
  store(): ControlStore;
  /** The certificate lifecycle once started with a CA (`DMR_CONTROL_CA_DIR`); undefined otherwise. */
  certificates(): CertificateLifecycle | undefined;
  /** Opens the store, starts the ops listener, the announcer and the HTTPS listener; resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /** Graceful stop: intake off, requests in flight finished, announcements settled, store closed. Memoised. */
  stop(): Promise<void>;
}

/** Optional overrides (tests). */
export interface ControlDeps {
  readonly log?: Logger;
  /** Opens the store; default `openControlStore(config.databaseUrl)`. */
  readonly openStore?: (url: string, log: Logger) => Promise<ControlStore>;
  /** The revocation port (control/certs implements it); default: the store's certificates table. */
  readonly isRevoked?: (store: ControlStore, serial: string) => Promise<boolean>;
  /** The client certificate of a request; default the TLS socket's. */
  readonly identify?: (request: FastifyRequest) => PresentedCertificate | undefined;
  /** Route groups; default every group of api/routes. */
  readonly routeGroups?: readonly RouteGroup[];
}

/** Wires dmr-control from its config without starting anything (conventions 9–11). */
export function buildControl(config: ControlConfig, deps: ControlDeps = {}): DmrControl {
  const log = deps.log ?? createLogger({ name: 'dmr-control', level: config.logLevel, redact: CONTROL_REDACT_PATHS });
  const metrics = createControlMetrics();
  let store: ControlStore | undefined;
  let state: ControlState = 'idle';
  const currentStore = (): ControlStore => {
    if (store === undefined) throw new DmrError('DMR_CONTROL_STORE_FAILED', `the store is not open (dmr-control is ${state})`);
    return store;
  };
  const announcer = config.broker
    ? new ControlAnnouncer(config.broker, {
        log: log.child({ component: 'push' }),
        onResult: (result) => metrics.announcementsTotal.inc({ result }),
      })
    : undefined;
  const announce = (kinds: readonly ControlKind[], configVersion: number): void => {
    metrics.configVersion.set(configVersion);
    void announcer?.announce({ configVersion, kinds: [...kinds], at: new Date().toISOString() });
  };
  const readiness = async (): Promise<ReadinessReport> => readinessOf(state, store, announcer);
  let lifecycle: CertificateLifecycle | undefined;
  const certificates = () => lifecycle;
  const app = buildApiApp(apiDeps(config, deps, { log, metrics, currentStore, announce, readiness, certificates }));
  const ops = config.ops
    ? new OpsListener(config.ops, { forward: (request) => app.inject(request), log: log.child({ component: 'ops' }) })
    : undefined;

  let stopping: Promise<void> | undefined;
  let audit: AuditComponent | undefined;
  const start = async (): Promise<{ port: number }> => {
    state = 'starting';
    await ops?.start();
    store = await (deps.openStore ?? openStore)(config.databaseUrl, log);
    metrics.configVersion.set(await store.configVersion());
    lifecycle = await startCertificates(config, { app, store, log, announce });
    audit = await startAudit(config, { store, log, metrics, instance: hostname() });
    if (announcer) announcer.start();
    else log.info('RABBITMQ_DEFAULT_HOST is not set: config push is off; servers learn of changes on their poll');
    await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
    state = 'running';
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    log.info({ port, database: redactStoreUrl(config.databaseUrl), push: announcer !== undefined }, 'dmr-control started');
    return { port };
  };
  const stop = (): Promise<void> => {
    stopping ??= shutdown(
      log,
      [
        ['http', () => closeWithin(app, config.shutdownTimeoutMs)],
        ['push', async () => announcer?.stop()],
        ['ops', async () => ops?.stop()],
        ['certificates', async () => lifecycle?.stop()],
        ['audit', async () => audit?.stop()],
        ['store', async () => store?.close()],
      ],
      (next) => (state = next),
    );
    return stopping;
  };
  return {
    app,
    metrics,
    announcer,
    store: currentStore,
    certificates,
    get state() {
      return state;
    },
    get opsPort() {
      return ops?.port;
    },
    start,
    stop,
  };
}

interface Wiring {
  readonly log: Logger;
  readonly metrics: ControlMetrics;
  readonly currentStore: () => ControlStore;
  readonly announce: ApiDeps['announce'];
  readonly readiness: ApiDeps['readiness'];
  readonly certificates: () => CertificateLifecycle | undefined;
}

function apiDeps(config: ControlConfig, deps: ControlDeps, wiring: Wiring): ApiDeps {
  const isRevoked = deps.isRevoked ?? isRevokedInStore;
  return {
    store: wiring.currentStore,
    announce: wiring.announce,
    readiness: wiring.readiness,
    metricsRegistry: wiring.metrics.registry,
    log: wiring.log,
    certificates: wiring.certificates,
    https: httpsOptions(config),
    maxBodyBytes: config.maxBodyBytes,
    isRevoked: (serial) => isRevoked(wiring.currentStore(), serial),
    onRefused: (code) => wiring.metrics.requestsTotal.inc({ access: 'refused', status: code.endsWith('FORBIDDEN') ? '403' : '401', code }),
    ...(deps.identify ? { identify: deps.identify } : {}),
    ...(deps.routeGroups ? { routeGroups: deps.routeGroups } : {}),
  };
}

/**
 * The admin API's TLS: its certificate, the client CAs of DMR_TLS_CA_FILE (one entry per certificate), TLS ≥ 1.2.
 * With a CA ring and no DMR_TLS_CA_FILE, the client CAs are the ring's trusted agent CAs, set at start and after
 * every change of the ring (`ringCas`).
 */
export function httpsOptions(config: ControlConfig, ringCas?: string): TlsOptions {
  const caPem = config.tls.caFile === '' ? (ringCas ?? '') : readFileSync(config.tls.caFile, 'utf8');
  return {
    key: readFileSync(config.tls.keyFile),
    cert: readFileSync(config.tls.certFile),
    ...(caPem === '' ? {} : { ca: pemCertificates(caPem) }),
    minVersion: 'TLSv1.2',
  };
}

/**
 * Opens the CA ring and starts the certificate lifecycle (its first CRL check signs what is missing), when a CA is
 * configured. Throws (refusing the start) when the ring does not load: a control plane without its CAs is broken.
 */
async function startCertificates(
  config: ControlConfig,
  wiring: { app: FastifyInstance; store: ControlStore; log: Logger; announce: ApiDeps['announce'] },
): Promise<CertificateLifecycle | undefined> {
  if (config.caDir === undefined) return undefined;
  const ring = await CaRingHolder.open(config.caDir);
  const refreshClientCas = (): void => {
    const server = wiring.app.server as unknown as Partial<TlsServer>;
    if (config.tls.caFile !== '' || server.setSecureContext === undefined) return;
    server.setSecureContext(httpsOptions(config, ring.bundle('agents')));
  };
  refreshClientCas();
  const lifecycle = new CertificateLifecycle(
    {
      store: wiring.store,
      ring,
      clock: { now: () => new Date() },
      announcer: { announce: async ({ configVersion, kinds }) => wiring.announce(kinds, configVersion) },
      log: wiring.log,
      onTrustChanged: refreshClientCas,
    },
    config.certificates,
  );
  await lifecycle.start();
  return lifecycle;
}

/** The default revocation check: the certificate is in the store's table and revoked (unknown serials are not). */
export async function isRevokedInStore(store: ControlStore, serial: string): Promise<boolean> {
  const record = await store.certificates.get(serial);
  return record !== undefined && record.revokedAt !== null;
}

function openStore(url: string, log: Logger): Promise<ControlStore> {
  return openControlStore(url, { log });
}

async function readinessOf(
  state: ControlState,
  store: ControlStore | undefined,
  announcer: ControlAnnouncer | undefined,
): Promise<ReadinessReport> {
  let storeCheck = 'closed';
  if (store !== undefined) {
    try {
      await store.configVersion();
      storeCheck = 'ok';
    } catch {
      storeCheck = 'failing';
    }
  }
  // push is a hint (servers also poll): its status is reported, never a reason to take the API out of service
  const checks = { lifecycle: state, store: storeCheck, push: announcer?.status ?? 'off' };
  return { isReady: state === 'running' && storeCheck === 'ok', checks };
}

/** Stops taking requests and lets those in flight finish; after `deadlineMs` their connections are closed. */
async function closeWithin(app: FastifyInstance, deadlineMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), deadlineMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the stop steps in order, each in its own try/catch, and marks the state. */
async function shutdown(
  log: Logger,
  steps: Array<[string, () => Promise<unknown>]>,
  setState: (state: ControlState) => void,
): Promise<void> {
  setState('stopping');
  log.info('dmr-control stopping');
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      log.error({ err: error, step: name }, 'shutdown step failed');
    }
  }
  setState('stopped');
  log.info('dmr-control stopped');
}
