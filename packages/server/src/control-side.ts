import type { Logger } from '@dmr/shared';
import type { BrokerConnection } from './amqp/index.js';
import type { CertificateGuard } from './auth/index.js';
import type { ServerConfig } from './config/index.js';
import { AnnouncementListener, ControlSync, ServerReporter } from './control/index.js';
import type { ServerMetrics } from './obs/index.js';
import type { AgentRegistry } from './registry/index.js';

/** The server's side of the control plane (issue 18): push announcements in, the report of what it runs out. */
export interface ControlSide {
  readonly listener: AnnouncementListener | undefined;
  readonly reporter: ServerReporter | undefined;
  readonly sync: ControlSync;
  /** Binds to `dmr.control` (now if connected, and after every reconnect) and checks the report's client certificate. */
  start(): Promise<void>;
  /** Called after every applied registry sync and every CRL change: reports what the server runs now. */
  onApplied(): void;
  /** Readiness detail: `controlPush` (`off`, `unbound`, `binding`, `bound`). Never makes the server unready: the poll remains. */
  readinessChecks(): Record<string, string>;
  stop(): Promise<void>;
}

/** What the control side is wired to. */
export interface ControlParts {
  readonly broker: BrokerConnection;
  readonly registry: AgentRegistry;
  readonly guard: CertificateGuard | undefined;
  /** Follows dmr-control's CA bundle (the TLS keeper): read before the CRLs on every `crl` re-read. */
  readonly trust?: { refreshTrust(): Promise<void> } | undefined;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  /** Issue 19: re-reads the policy on `policy` announcements and after every binding; absent without a policy source. */
  readonly policy?: { refresh(): Promise<boolean> } | undefined;
  /** dmr-server's package version, for the report. */
  readonly version: string;
  readonly startedAt: Date;
}

/** Wires announcements (DMR_CONTROL_PUSH), the re-reads they cause, and the report (DMR_CONTROL_URL). Starts nothing. */
export function createControlSide(config: ServerConfig, parts: ControlParts): ControlSide {
  const { control } = config;
  const log = parts.log.child({ component: 'control' });
  const { guard, trust } = parts;
  // a `crl` announcement also follows a CA change-over step: the trusted CAs first, so a new CA's CRL is judged with it
  const crl =
    guard && trust
      ? {
          refresh: async () => {
            await trust.refreshTrust();
            return guard.refresh();
          },
        }
      : guard;
  const sync = new ControlSync(
    { registry: parts.registry, crl, policy: parts.policy },
    { log, announcementsTotal: parts.metrics.controlAnnouncementsTotal },
  );
  const listener = control.isPushEnabled
    ? new AnnouncementListener({
        broker: parts.broker,
        instanceId: control.instanceId,
        onMessage: (body) => sync.handle(body),
        onBound: () => sync.catchUp(),
        backoff: { initialDelayMs: config.broker.reconnectIntervalMs, maxDelayMs: config.broker.reconnectIntervalMaxMs },
        log,
      })
    : undefined;
  const reporter = control.url
    ? new ServerReporter(
        {
          url: control.url,
          instanceId: control.instanceId,
          timeoutMs: control.timeoutMs,
          tls: { caFile: control.caFile, certFile: control.clientCertFile, keyFile: control.clientKeyFile },
        },
        {
          configVersion: () => parts.registry.configVersion,
          crlNumbers: () => parts.guard?.crlNumbers() ?? [],
          version: parts.version,
          startedAt: parts.startedAt,
        },
        { log, reportsTotal: parts.metrics.controlReportsTotal },
      )
    : undefined;
  return {
    listener,
    reporter,
    sync,
    start: async () => {
      listener?.start();
      await reporter?.checkCertificate();
    },
    onApplied: () => void reporter?.report(),
    readinessChecks: () => ({ controlPush: listener?.status ?? 'off' }),
    stop: async () => {
      await listener?.stop();
      await reporter?.stop();
    },
  };
}
