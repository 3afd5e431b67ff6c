import { AGENT_NAMESPACE, codeLabel, LATENCY_BUCKETS_S, METRIC } from '@dmr/shared';
import { CERTIFICATE_METRICS, type CertificateMetricSet } from '@dmr/shared/certs';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Which way a message travels through this agent. */
export type MessageDirection = 'outbound' | 'inbound';

/**
 * The agent's Prometheus metrics on a private registry (never prom-client's global one,
 * so several agents in one process, as in tests, keep separate counts).
 * Names follow seed 003 (`METRIC`), labels as in its agent section.
 */
export class AgentMetrics {
  /** The registry `/metrics` serialises. */
  readonly registry = new Registry();
  readonly #httpRequests = new Counter({
    name: METRIC.httpRequestsTotal,
    help: 'Total HTTP requests handled',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly #httpDuration = new Histogram({
    name: METRIC.httpRequestDuration,
    help: 'HTTP request processing time in seconds',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly #httpErrors = new Counter({
    name: METRIC.httpErrorsTotal,
    help: 'Count of error responses (4xx/5xx)',
    labelNames: ['method', 'route'],
    registers: [this.registry],
  });
  readonly #connectionActive = new Gauge({
    name: METRIC.agentSocketConnectionActive,
    help: 'Current number of active Socket.IO connections to the DMR server (0 or 1)',
    registers: [this.registry],
  });
  readonly #connectionDuration = new Histogram({
    name: METRIC.socketConnectionDuration,
    help: 'Duration of a socket connection session in seconds',
    buckets: [1, 10, 60, 300, 1800, 3600, 21_600, 86_400],
    registers: [this.registry],
  });
  readonly #socketErrors = new Counter({
    name: METRIC.socketErrorsTotal,
    help: 'Total number of connection errors',
    registers: [this.registry],
  });
  readonly #eventsReceived = new Counter({
    name: METRIC.socketEventsReceivedTotal,
    help: 'Total events received from the DMR server',
    labelNames: ['event', 'namespace'],
    registers: [this.registry],
  });
  readonly #eventsSent = new Counter({
    name: METRIC.socketEventsSentTotal,
    help: 'Total events sent to the DMR server',
    labelNames: ['event', 'namespace'],
    registers: [this.registry],
  });
  readonly #processingDuration = new Histogram({
    name: METRIC.messageProcessingDuration,
    help: 'Time to process/forward a single message in seconds',
    labelNames: ['direction'],
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly #messages = new Counter({
    name: METRIC.messagesTotal,
    help: 'Message outcomes by direction, result and DMR error code (code="" on success)',
    labelNames: ['direction', 'result', 'code'],
    registers: [this.registry],
  });
  readonly #duplicates = new Counter({
    name: METRIC.duplicatesSuppressedTotal,
    help: 'Inbound deliveries acknowledged without posting again because the id was already delivered',
    registers: [this.registry],
  });

  /** Counts one HTTP response; `route` is the route pattern (never the raw URL, which would explode label cardinality). */
  httpResponse(method: string, route: string, status: number, durationS: number): void {
    const labels = { method, route, status: String(status) };
    this.#httpRequests.inc(labels);
    this.#httpDuration.observe(labels, durationS);
    if (status >= 400) this.#httpErrors.inc({ method, route });
  }

  /** The link connected. */
  linkConnected(): void {
    this.#connectionActive.set(1);
  }

  /** The link lost its connection after `durationS` seconds. */
  linkDisconnected(durationS: number): void {
    this.#connectionActive.set(0);
    this.#connectionDuration.observe(durationS);
  }

  /** A connection attempt failed. */
  linkError(): void {
    this.#socketErrors.inc();
  }

  /** An event arrived from the server. */
  eventReceived(event: string): void {
    this.#eventsReceived.inc({ event, namespace: AGENT_NAMESPACE });
  }

  /** An event was sent to the server. */
  eventSent(event: string): void {
    this.#eventsSent.inc({ event, namespace: AGENT_NAMESPACE });
  }

  /** One message outcome; `code` is empty on success. */
  messageOutcome(direction: MessageDirection, result: string, code: string, durationS: number): void {
    this.#messages.inc({ direction, result, code });
    this.#processingDuration.observe({ direction }, durationS);
  }

  readonly #unboundAccepted = new Counter({
    name: METRIC.unboundMessagesAcceptedTotal,
    help: 'Inbound messages accepted although their signature does not cover their metadata (seed-003 {data}-only JWS), by basis',
    labelNames: ['basis'],
    registers: [this.registry],
  });

  /** Issue 16: an unbound message was accepted; `basis` is `legacy-sender` or `all-senders`. */
  unboundAccepted(basis: string): void {
    this.#unboundAccepted.inc({ basis });
  }

  /** An inbound duplicate was acknowledged without posting again. */
  duplicateSuppressed(): void {
    this.#duplicates.inc();
  }

  readonly #unhandledErrors = new Counter({
    name: METRIC.processUnhandledErrorsTotal,
    help: 'Unhandled rejections and uncaught exceptions logged and survived, by kind and DMR error code',
    labelNames: ['kind', 'code'],
    registers: [this.registry],
  });

  /** Issue 18: expiry, renewals and reloads of the client certificate (label `certificate` = `tls`). */
  readonly certificates: CertificateMetricSet = {
    expiry: new Gauge({ ...CERTIFICATE_METRICS.expiry, registers: [this.registry] }),
    renewals: new Counter({ ...CERTIFICATE_METRICS.renewals, registers: [this.registry] }),
    reloads: new Counter({ ...CERTIFICATE_METRICS.reloads, registers: [this.registry] }),
  };

  /** Issue 15: an error escaped every handler and the process served on (`guardProcess`); `code` is a catalog code. */
  unhandledError(kind: string, code: string): void {
    this.#unhandledErrors.inc({ kind, code: codeLabel(code) });
  }
}
