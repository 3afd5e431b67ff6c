import { isDmrErrorCode } from './errors.js';

/** Prometheus metric names shared with seed 003 (dashboards and alert rules depend on them). */
export const METRIC = {
  socketConnectionsActive: 'dmr_socket_connections_active',
  socketConnectionsTotal: 'dmr_socket_connections_total',
  socketDisconnectionsTotal: 'dmr_socket_disconnections_total',
  socketConnectionDuration: 'dmr_socket_connection_duration_seconds',
  socketErrorsTotal: 'dmr_socket_errors_total',
  socketEventsReceivedTotal: 'dmr_socket_events_received_total',
  socketEventsSentTotal: 'dmr_socket_events_sent_total',
  messageProcessingDuration: 'dmr_message_processing_duration_seconds',
  httpRequestsTotal: 'dmr_http_requests_total',
  httpRequestDuration: 'dmr_http_request_duration_seconds',
  httpErrorsTotal: 'dmr_http_errors_total',
  agentSocketConnectionActive: 'dmr_agent_socket_connection_active',
  /** Beyond seed 003: one count per message outcome, labelled by `result` and DMR error `code`. */
  messagesTotal: 'dmr_messages_total',
  /** Beyond seed 003: 1 while the RabbitMQ connection is usable. */
  brokerConnected: 'dmr_broker_connected',
  /** Beyond seed 003: agents in the registry in force. */
  registryAgents: 'dmr_registry_agents',
  /** Beyond seed 003: registry syncs by result. */
  registrySyncsTotal: 'dmr_registry_syncs_total',
  /** Beyond seed 003: duplicate deliveries suppressed by the recipient agent. */
  duplicatesSuppressedTotal: 'dmr_duplicates_suppressed_total',
  /** Beyond seed 003: 1 while RabbitMQ blocks this server's publishing connection (resource alarm). */
  brokerBlocked: 'dmr_broker_blocked',
  /** Beyond seed 003: 1 once the last attempt to apply DMR's policies through the management API succeeded. */
  brokerPoliciesApplied: 'dmr_broker_policies_applied',
  /** Beyond seed 003: failed attempts to apply DMR's policies. */
  brokerPolicyFailuresTotal: 'dmr_broker_policy_failures_total',
  /** Beyond seed 003: registered agents whose queues could not be declared (refused, retried with backoff). */
  brokerUnpreparedAgents: 'dmr_broker_unprepared_agents',
  /** Beyond seed 003: failed declarations of an agent's queues, by DMR error code. */
  brokerQueuePrepareFailuresTotal: 'dmr_broker_queue_prepare_failures_total',
  /** Beyond seed 003 (issue 15, CRL lifecycle): nextUpdate of the CRL in force, Unix seconds. */
  crlNextUpdate: 'dmr_crl_next_update_timestamp_seconds',
  /** Beyond seed 003 (issue 15, CRL lifecycle): CRL number of the CRL in force. */
  crlNumber: 'dmr_crl_number',
  /** Beyond seed 003 (issue 15, CRL lifecycle): CRL files refused (the CRL in force stayed), by DMR error code. */
  crlRefusalsTotal: 'dmr_crl_refusals_total',
  /** Beyond seed 003 (issue 15): unhandled rejections and uncaught exceptions survived, by `kind` and `code`. */
  processUnhandledErrorsTotal: 'dmr_process_unhandled_errors_total',
  /**
   * Beyond seed 003 (issue 16): inbound messages an agent accepted although their signature does not cover their
   * metadata (seed-003 `{data}`-only JWS), by `basis` (`legacy-sender` | `all-senders`).
   */
  unboundMessagesAcceptedTotal: 'dmr_unbound_messages_accepted_total',
  /** Beyond seed 003 (issue 18): notAfter of the certificate in force, Unix seconds, by `certificate` (`tls`, `rabbitmq`). */
  certificateExpirySeconds: 'dmr_certificate_expiry_seconds',
  /** Beyond seed 003 (issue 18): renewal attempts with dmr-control by `outcome` (`success`, `refused`, `failed`). */
  certificateRenewalsTotal: 'dmr_certificate_renewals_total',
  /** Beyond seed 003 (issue 18): changed certificate files by `certificate` and `result` (`applied`, `refused`, `failed`). */
  certificateReloadsTotal: 'dmr_certificate_reloads_total',
  /** Beyond seed 003 (issue 18): the `configVersion` of the registry in force (0 until a versioned registry is in force). */
  configVersion: 'dmr_config_version',
  /** Beyond seed 003 (issue 18): 1 while the CRL in force of a CA (`issuer`) is within DMR_TLS_CRL_WARN_BEFORE_MS of its nextUpdate or past it. */
  crlExpiring: 'dmr_crl_expiring',
  /** Beyond seed 003 (issue 18): announcements read from `dmr.control`, by `result` (`acted`, `ignored`, `invalid`). */
  controlAnnouncementsTotal: 'dmr_control_announcements_total',
  /** Beyond seed 003 (issue 18): reports to the control plane (`PUT /v1/servers/{instanceId}`), by `result` (`ok`, `failed`). */
  controlReportsTotal: 'dmr_control_reports_total',
  /** Beyond seed 003 (issue 19): policy decisions by `engine` and `result` (`allow`, `deny`, `error`). */
  policyDecisionsTotal: 'dmr_policy_decisions_total',
  /** Beyond seed 003 (issue 19): time of one policy decision, seconds, by `engine`. */
  policyDecisionDuration: 'dmr_policy_decision_duration_seconds',
  /** Beyond seed 003 (issue 19): the policy version in force (0: none). */
  policyVersion: 'dmr_policy_version',
  /** Beyond seed 003 (issue 19): policy documents refused (unreadable, invalid or not compilable); the last good one stayed. */
  policyLoadFailuresTotal: 'dmr_policy_load_failures_total',
} as const;

/** Histogram buckets (seconds) for message paths that should take milliseconds. */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label value for a code that did not come from the catalog. */
export const UNKNOWN_CODE_LABEL = 'unknown';

/**
 * The `code` label value for a code that may come from outside (an agent's ack, a peer's reply): the code itself
 * when it is in the catalog, else `unknown`, so no caller can grow a metric's label set without bound.
 */
export function codeLabel(code: unknown): string {
  return isDmrErrorCode(code) ? code : UNKNOWN_CODE_LABEL;
}
