import { LATENCY_BUCKETS_S, METRIC } from '@dmr/shared';
import { CERTIFICATE_METRICS, type CertificateMetricSet } from '@dmr/shared/certs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics on a private registry (no global state, so tests can build many servers). */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly socketConnectionsActive: Gauge;
  readonly socketConnectionsTotal: Counter;
  readonly socketDisconnectionsTotal: Counter<'reason'>;
  readonly socketConnectionDuration: Histogram;
  readonly socketErrorsTotal: Counter<'code'>;
  readonly socketEventsReceivedTotal: Counter<'event' | 'namespace'>;
  readonly socketEventsSentTotal: Counter<'event' | 'namespace'>;
  readonly messageProcessingDuration: Histogram;
  readonly messagesTotal: Counter<'stage' | 'result' | 'code'>;
  readonly brokerConnected: Gauge;
  readonly registryAgents: Gauge;
  readonly registrySyncsTotal: Counter<'result'>;
  readonly brokerBlocked: Gauge;
  readonly brokerPoliciesApplied: Gauge;
  readonly brokerPolicyFailuresTotal: Counter;
  readonly brokerUnpreparedAgents: Gauge;
  readonly brokerQueuePrepareFailuresTotal: Counter<'code'>;
  /** Issue 15: errors that escaped every handler and were survived (see `guardProcess`). */
  readonly processUnhandledErrorsTotal: Counter<'kind' | 'code'>;
  /** Issue 18: expiry, renewals and reloads of the TLS and RabbitMQ client certificates (label `certificate`). */
  readonly certificates: CertificateMetricSet;
  /** Issue 18: `configVersion` of the registry in force (0 until a versioned one is in force). */
  readonly configVersion: Gauge;
  /** Issue 18: messages read from `dmr.control`, by result (`acted`, `ignored`, `invalid`). */
  readonly controlAnnouncementsTotal: Counter<'result'>;
  /** Issue 18: reports to the control plane, by result (`ok`, `failed`). */
  readonly controlReportsTotal: Counter<'result'>;
  /** Issue 19: the policy decision point's metrics (docs/policy.md). */
  readonly policy: {
    readonly decisionsTotal: Counter<'engine' | 'result'>;
    readonly decisionDuration: Histogram<'engine'>;
    readonly version: Gauge;
    readonly loadFailuresTotal: Counter<'code'>;
  };
}

/** Buckets of one policy decision, seconds: a built-in decision takes microseconds, a sidecar's up to its timeout. */
const POLICY_DECISION_BUCKETS_S = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 1e-4, 5e-4, 0.001, 0.005, 0.025, 0.1, 0.5];

const EVENT_LOOP_SAMPLE_MS = 100;

/** Creates the server metrics with seed 003's names, plus DMR's own. */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  // the event-loop lag histogram samples with a repeating timer: prom-client's default of 10 ms woke an idle server
  // 100 times a second; 10 samples a second still give the lag percentiles of a scrape interval
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const registers = [registry];
  return {
    registry,
    socketConnectionsActive: new Gauge({
      name: METRIC.socketConnectionsActive,
      help: 'Current number of active Socket.IO connections',
      registers,
    }),
    socketConnectionsTotal: new Counter({
      name: METRIC.socketConnectionsTotal,
      help: 'Total number of established connections',
      registers,
    }),
    socketDisconnectionsTotal: new Counter({
      name: METRIC.socketDisconnectionsTotal,
      help: 'Total number of disconnections',
      labelNames: ['reason'],
      registers,
    }),
    socketConnectionDuration: new Histogram({
      name: METRIC.socketConnectionDuration,
      help: 'Duration of a socket connection session',
      buckets: [1, 10, 60, 300, 1800, 3600, 21600, 86400],
      registers,
    }),
    socketErrorsTotal: new Counter({
      name: METRIC.socketErrorsTotal,
      help: 'Total number of connection errors',
      labelNames: ['code'],
      registers,
    }),
    socketEventsReceivedTotal: new Counter({
      name: METRIC.socketEventsReceivedTotal,
      help: 'Total events received from clients',
      labelNames: ['event', 'namespace'],
      registers,
    }),
    socketEventsSentTotal: new Counter({
      name: METRIC.socketEventsSentTotal,
      help: 'Total events sent to clients',
      labelNames: ['event', 'namespace'],
      registers,
    }),
    messageProcessingDuration: new Histogram({
      name: METRIC.messageProcessingDuration,
      help: 'Time to process/forward a single message',
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    messagesTotal: new Counter({
      name: METRIC.messagesTotal,
      help: 'Message outcomes by stage (inbound from sender, delivery to recipient), result and DMR error code',
      labelNames: ['stage', 'result', 'code'],
      registers,
    }),
    brokerConnected: new Gauge({ name: METRIC.brokerConnected, help: '1 while the RabbitMQ connection is usable', registers }),
    registryAgents: new Gauge({ name: METRIC.registryAgents, help: 'Agents in the registry in force', registers }),
    registrySyncsTotal: new Counter({
      name: METRIC.registrySyncsTotal,
      help: 'Agent registry syncs by result',
      labelNames: ['result'],
      registers,
    }),
    brokerBlocked: new Gauge({ name: METRIC.brokerBlocked, help: '1 while RabbitMQ blocks publishing (resource alarm)', registers }),
    brokerPoliciesApplied: new Gauge({
      name: METRIC.brokerPoliciesApplied,
      help: "1 once the last attempt to apply DMR's RabbitMQ policies succeeded",
      registers,
    }),
    brokerPolicyFailuresTotal: new Counter({
      name: METRIC.brokerPolicyFailuresTotal,
      help: "Failed attempts to apply DMR's RabbitMQ policies",
      registers,
    }),
    brokerUnpreparedAgents: new Gauge({
      name: METRIC.brokerUnpreparedAgents,
      help: 'Registered agents whose queues could not be declared (messages to them are refused)',
      registers,
    }),
    brokerQueuePrepareFailuresTotal: new Counter({
      name: METRIC.brokerQueuePrepareFailuresTotal,
      help: "Failed declarations of an agent's queues, by DMR error code",
      labelNames: ['code'],
      registers,
    }),
    processUnhandledErrorsTotal: new Counter({
      name: METRIC.processUnhandledErrorsTotal,
      help: 'Unhandled rejections and uncaught exceptions logged and survived, by kind and DMR error code',
      labelNames: ['kind', 'code'],
      registers,
    }),
    certificates: {
      expiry: new Gauge({ ...CERTIFICATE_METRICS.expiry, registers }),
      renewals: new Counter({ ...CERTIFICATE_METRICS.renewals, registers }),
      reloads: new Counter({ ...CERTIFICATE_METRICS.reloads, registers }),
    },
    ...createControlMetrics(registers),
    policy: createPolicyMetrics(registers),
  };
}

function createPolicyMetrics(registers: Registry[]): ServerMetrics['policy'] {
  return {
    decisionsTotal: new Counter({
      name: METRIC.policyDecisionsTotal,
      help: 'Policy decisions by engine and result (allow, deny, error: the engine could not decide and the message was refused)',
      labelNames: ['engine', 'result'],
      registers,
    }),
    decisionDuration: new Histogram({
      name: METRIC.policyDecisionDuration,
      help: 'Time of one policy decision (input built, engine asked), by engine',
      labelNames: ['engine'],
      buckets: POLICY_DECISION_BUCKETS_S,
      registers,
    }),
    version: new Gauge({ name: METRIC.policyVersion, help: 'The policy version in force (0: none)', registers }),
    loadFailuresTotal: new Counter({
      name: METRIC.policyLoadFailuresTotal,
      help: 'Policy reads that failed or documents refused, by DMR error code; the last good policy stayed in force',
      labelNames: ['code'],
      registers,
    }),
  };
}

function createControlMetrics(
  registers: Registry[],
): Pick<ServerMetrics, 'configVersion' | 'controlAnnouncementsTotal' | 'controlReportsTotal'> {
  return {
    configVersion: new Gauge({
      name: METRIC.configVersion,
      help: 'configVersion of the agent registry in force (dmr-control; 0 until a versioned registry is in force)',
      registers,
    }),
    controlAnnouncementsTotal: new Counter({
      name: METRIC.controlAnnouncementsTotal,
      help: 'Messages read from the dmr.control exchange, by result (acted, ignored: nothing newer, invalid: dropped)',
      labelNames: ['result'],
      registers,
    }),
    controlReportsTotal: new Counter({
      name: METRIC.controlReportsTotal,
      help: 'Reports of what this server runs to the control plane (PUT /v1/servers/{instanceId}), by result',
      labelNames: ['result'],
      registers,
    }),
  };
}
