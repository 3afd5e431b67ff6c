/**
 * The one error type of DMR and its code catalog.
 *
 * Every code lives here; `docs/errors.md` documents each one and a unit test
 * fails when the two drift apart. Upstream code branches on `code`, never on
 * message text.
 */

/** Static description of one error code. */
export interface ErrorSpec {
  /** HTTP status used when the error reaches an HTTP caller. */
  readonly httpStatus: number;
  /** Whether redelivering the same message can succeed later. */
  readonly isTransient: boolean;
  /** One sentence for operators. */
  readonly summary: string;
}

/** The catalog of every DMR error code. */
export const ERROR_CATALOG = {
  DMR_CONFIG_INVALID: { httpStatus: 500, isTransient: false, summary: 'An environment variable is missing or malformed.' },
  DMR_OPS_ROUTE_NOT_FOUND: {
    httpStatus: 404,
    isTransient: false,
    summary: 'The ops listener (DMR_OPS_PORT) serves only GET and HEAD of /v1/health, /v1/ready and /metrics.',
  },
  DMR_VALIDATION_FAILED: { httpStatus: 400, isTransient: false, summary: 'The message does not match the v1 schema.' },
  DMR_VALIDATION_TOO_LARGE: { httpStatus: 413, isTransient: false, summary: 'The message exceeds the size limit.' },
  DMR_VALIDATION_UNKNOWN_RECIPIENT: { httpStatus: 400, isTransient: false, summary: 'The recipient is not in the agent registry.' },
  DMR_VALIDATION_SENDER_MISMATCH: { httpStatus: 400, isTransient: false, summary: 'The senderId is not the authenticated agent.' },
  DMR_AUTH_TOKEN_MISSING: { httpStatus: 401, isTransient: false, summary: 'The Socket.IO handshake carried no auth token.' },
  DMR_AUTH_TOKEN_INVALID: { httpStatus: 401, isTransient: false, summary: 'The auth token is malformed, expired, or its signature fails.' },
  DMR_AUTH_UNKNOWN_AGENT: { httpStatus: 401, isTransient: false, summary: 'The token names an agent that is not in the registry.' },
  DMR_AUTH_CERTIFICATE_MISSING: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The TLS connection carried no client certificate.',
  },
  DMR_AUTH_CERTIFICATE_UNTRUSTED: {
    httpStatus: 401,
    isTransient: false,
    summary:
      'The TLS peer certificate does not chain to a CA of the trust bundle (DMR_TLS_CA_FILE): another or a self-signed issuer, a broken chain or signature, or no CRL for its CA.',
  },
  DMR_AUTH_CERTIFICATE_MISMATCH: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The client certificate names another agent (SAN urn:dmr:agent:<id>) than the token kid.',
  },
  DMR_AUTH_CERTIFICATE_REVOKED: { httpStatus: 401, isTransient: false, summary: 'The client certificate is on the CRL in force.' },
  DMR_AUTH_CERTIFICATE_EXPIRED: { httpStatus: 401, isTransient: false, summary: 'The client certificate has expired.' },
  // handshake token binding (issue 15 finding 8)
  DMR_AUTH_TOKEN_WRONG_AUDIENCE: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The auth token is bound (aud) to another cluster than this server (DMR_CLUSTER_ID).',
  },
  DMR_AUTH_TOKEN_UNBOUND: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The auth token lacks aud or jti, and its agent is not marked legacy (DMR_LEGACY_AGENT_IDS).',
  },
  DMR_AUTH_TOKEN_REPLAYED: { httpStatus: 401, isTransient: false, summary: 'The auth token (its jti) was already used.' },
  DMR_AUTH_REPLAY_GUARD_FULL: {
    httpStatus: 503,
    isTransient: true,
    summary: 'Too many live handshake token ids to remember; the handshake is refused rather than left open to replay.',
  },
  DMR_LINK_NOT_CONNECTED: { httpStatus: 502, isTransient: true, summary: 'The agent has no live connection to a DMR server.' },
  DMR_LINK_REJECTED: { httpStatus: 502, isTransient: false, summary: 'The DMR server refused the message; the reason is attached.' },
  DMR_LINK_TIMEOUT: { httpStatus: 504, isTransient: true, summary: 'The DMR server did not confirm the message in time.' },
  DMR_LINK_BACKPRESSURE: {
    httpStatus: 503,
    isTransient: true,
    summary: 'The agent already has its maximum of sends in flight (DMR_MAX_IN_FLIGHT_SENDS); nothing was sent.',
  },
  DMR_ROUTE_BROKER_UNAVAILABLE: { httpStatus: 503, isTransient: true, summary: 'RabbitMQ is not reachable from this server instance.' },
  DMR_ROUTE_PUBLISH_FAILED: { httpStatus: 502, isTransient: true, summary: 'RabbitMQ did not confirm or could not route the message.' },
  DMR_ROUTE_ACK_TIMEOUT: { httpStatus: 504, isTransient: true, summary: 'The recipient agent did not acknowledge a delivery in time.' },
  // issue 15 findings 12-14 (broker set-up isolation, background policies, resource alarms)
  DMR_ROUTE_BROKER_BLOCKED: {
    httpStatus: 503,
    isTransient: true,
    summary: 'RabbitMQ blocked publishing (memory or disk alarm); nothing was published.',
  },
  DMR_ROUTE_QUEUE_UNAVAILABLE: {
    httpStatus: 503,
    isTransient: true,
    summary: "The recipient's queues could not be declared (e.g. an existing queue with other arguments); nothing was published.",
  },
  DMR_ROUTE_POLICIES_FAILED: {
    httpStatus: 503,
    isTransient: true,
    summary: "RabbitMQ's management API did not accept DMR's policies; relaying goes on and the server retries.",
  },
  DMR_CRYPTO_KEY_INVALID: { httpStatus: 500, isTransient: false, summary: 'A key is not a supported RSA or EC P-256 key.' },
  DMR_CRYPTO_DECRYPT_FAILED: { httpStatus: 400, isTransient: false, summary: 'The payload could not be decrypted with this agent key.' },
  DMR_CRYPTO_SIGNATURE_INVALID: {
    httpStatus: 400,
    isTransient: false,
    summary: "The payload signature does not verify with the sender's key.",
  },
  DMR_CRYPTO_METADATA_MISMATCH: { httpStatus: 400, isTransient: false, summary: 'The signed metadata differs from the envelope metadata.' },
  DMR_CRYPTO_UNBOUND_METADATA: {
    httpStatus: 400,
    isTransient: false,
    summary: 'The payload carries no signed metadata and its sender is not marked legacy (DMR_LEGACY_AGENT_IDS).',
  },
  DMR_CRYPTO_UNKNOWN_SENDER: {
    httpStatus: 400,
    isTransient: true,
    summary: "The sender's public key is not known (yet) to the recipient agent.",
  },
  // issue 15 finding 4: peer keys are trusted only through the DMR CA
  DMR_CRYPTO_PEER_KEY_UNTRUSTED: {
    httpStatus: 502,
    isTransient: false,
    summary:
      "The key the relay distributed for the peer agent is not a certificate from the DMR CA naming that agent (nor a legacy agent's key).",
  },
  DMR_DELIVERY_INVALID_MESSAGE: { httpStatus: 400, isTransient: false, summary: 'A delivered wire message is malformed.' },
  DMR_DELIVERY_ENDPOINT_FAILED: { httpStatus: 502, isTransient: true, summary: 'The local endpoint did not answer 2xx after retries.' },
  DMR_DELIVERY_ENDPOINT_REFUSED: {
    httpStatus: 502,
    isTransient: false,
    summary: 'The local endpoint refused the message with a 4xx other than 408 or 429; the same request cannot succeed later.',
  },
  // issue 15, finding 17 (lifecycle helper)
  DMR_DELIVERY_EXPIRED: {
    httpStatus: 504,
    isTransient: false,
    summary: 'The recipient agent held the delivery past the message TTL and did not deliver it.',
  },
  DMR_REGISTRY_INVALID: {
    httpStatus: 500,
    isTransient: false,
    summary: 'The agent registry failed validation; the last good one stays in force.',
  },
  DMR_REGISTRY_FETCH_FAILED: { httpStatus: 502, isTransient: true, summary: 'The agent registry could not be fetched.' },
  // issue 18: certificate enrollment, renewal and reload on agents and servers (the client side of dmr-control)
  DMR_CERT_MATERIAL_INVALID: {
    httpStatus: 500,
    isTransient: false,
    summary:
      'Certificate, key and CA files do not form a usable identity (unreadable, key of another certificate, expired, not yet valid).',
  },
  DMR_CERT_ENROLLMENT_REFUSED: {
    httpStatus: 502,
    isTransient: false,
    summary: "dmr-control refused the enrollment (the message names dmr-control's code, e.g. an unknown, used or expired token).",
  },
  DMR_CERT_RENEWAL_REFUSED: {
    httpStatus: 502,
    isTransient: false,
    summary: "dmr-control refused to renew this certificate (the message names dmr-control's code).",
  },
  DMR_CERT_CONTROL_UNREACHABLE: {
    httpStatus: 503,
    isTransient: true,
    summary: 'dmr-control could not be reached, its TLS certificate was not trusted, or it answered 5xx or too late.',
  },
  DMR_CERT_RESPONSE_INVALID: {
    httpStatus: 502,
    isTransient: true,
    summary: "dmr-control's answer holds no usable certificate for this key and identity.",
  },
  DMR_CA_INVALID_REQUEST: {
    httpStatus: 400,
    isTransient: false,
    summary: 'An argument to a CA operation is malformed (agent id, DNS name, IP, serial, reason, validity, key type, CSR).',
  },
  // broker CA separation (issue 15 finding 9)
  DMR_CA_PURPOSE_MISMATCH: {
    httpStatus: 400,
    isTransient: false,
    summary: 'The CA is for another purpose: agent CAs issue server and agent certificates, broker CAs RabbitMQ ones.',
  },
  DMR_CA_CERT_INVALID: { httpStatus: 400, isTransient: false, summary: 'A file is not a readable PEM X.509 certificate.' },
  DMR_CA_FILE_EXISTS: {
    httpStatus: 409,
    isTransient: false,
    summary: 'A file the CA would write already exists; nothing was overwritten.',
  },
  DMR_CA_NOT_FOUND: { httpStatus: 500, isTransient: false, summary: 'The directory holds no CA (key, certificate and state file).' },
  DMR_CA_STATE_INVALID: {
    httpStatus: 500,
    isTransient: false,
    summary: 'The CA state file is malformed, or the CA key does not match the CA certificate.',
  },
  DMR_CA_KEY_EXPOSED: {
    httpStatus: 500,
    isTransient: false,
    summary: 'The CA private key file is readable or writable by group or others.',
  },
  DMR_CA_LOCKED: { httpStatus: 409, isTransient: true, summary: 'Another dmrctl process holds the lock of this CA directory.' },
  DMR_CA_NOT_ISSUED: { httpStatus: 404, isTransient: false, summary: 'No certificate with that serial or agent id was issued by this CA.' },
  DMR_CA_ALREADY_REVOKED: { httpStatus: 409, isTransient: false, summary: 'Every matching certificate is already revoked.' },
  DMR_CA_CRL_INVALID: {
    httpStatus: 500,
    isTransient: false,
    summary: 'A CRL cannot be parsed, or its issuer or signature does not match the CA certificate.',
  },
  // issue 15 finding 5 (CRL lifecycle): why a server refused a new CRL and kept the one in force
  DMR_CA_CRL_EXPIRED: {
    httpStatus: 500,
    isTransient: false,
    summary: 'A CRL is past its nextUpdate: OpenSSL would refuse every client certificate with it.',
  },
  DMR_CA_CRL_NOT_YET_VALID: {
    httpStatus: 500,
    isTransient: true,
    summary: 'A CRL has a thisUpdate in the future: OpenSSL would refuse every client certificate with it.',
  },
  DMR_CA_CRL_STALE: {
    httpStatus: 500,
    isTransient: false,
    summary: 'A CRL is older (lower CRL number or earlier thisUpdate) than the one in force.',
  },
  DMR_CA_IO_FAILED: { httpStatus: 500, isTransient: true, summary: 'A CA file or directory could not be read or written.' },
  // control plane storage (issue 18)
  DMR_CONTROL_NOT_FOUND: {
    httpStatus: 404,
    isTransient: false,
    summary: 'No control-plane record (agent, policy version, server, …) has that id.',
  },
  DMR_CONTROL_ALREADY_EXISTS: { httpStatus: 409, isTransient: false, summary: 'A control-plane record with that id already exists.' },
  DMR_CONTROL_REVISION_MISMATCH: {
    httpStatus: 412,
    isTransient: false,
    summary: "The If-Match revision is not the record's current one: someone changed it since it was read.",
  },
  DMR_CONTROL_CURSOR_INVALID: {
    httpStatus: 400,
    isTransient: false,
    summary: 'The list cursor was not made by this list (or was altered).',
  },
  DMR_CONTROL_TOKEN_UNKNOWN: {
    httpStatus: 401,
    isTransient: false,
    summary: 'No enrollment token matches (never made, or its agent was deleted).',
  },
  DMR_CONTROL_TOKEN_USED: { httpStatus: 401, isTransient: false, summary: 'The enrollment token was already used; tokens are single use.' },
  DMR_CONTROL_TOKEN_EXPIRED: { httpStatus: 401, isTransient: false, summary: 'The enrollment token has expired.' },
  DMR_CONTROL_TEXT_UNSTORABLE: {
    httpStatus: 400,
    isTransient: false,
    summary:
      'A text field holds a NUL character (U+0000) or a lone UTF-16 surrogate, which cannot be stored as UTF-8 text; nothing was written.',
  },
  DMR_CONTROL_STORE_FAILED: {
    httpStatus: 503,
    isTransient: true,
    summary: 'The control-plane database could not be opened, migrated, reached or written.',
  },
  // control plane admin API (issue 18)
  DMR_CONTROL_CERTIFICATE_REQUIRED: {
    httpStatus: 401,
    isTransient: false,
    summary:
      'An admin route was called without a valid client certificate: none, not from a trusted CA, expired, revoked, or naming no DMR identity.',
  },
  DMR_CONTROL_ROLE_FORBIDDEN: { httpStatus: 403, isTransient: false, summary: "The client certificate's role may not use this route." },
  DMR_CONTROL_INVALID_INPUT: {
    httpStatus: 400,
    isTransient: false,
    summary: 'A request body, path or query parameter is malformed or breaks a rule; `field` names it and nothing was written.',
  },
  DMR_CONTROL_IF_MATCH_REQUIRED: {
    httpStatus: 428,
    isTransient: false,
    summary: "An update or delete came without If-Match: the record's ETag is required so no change is lost.",
  },
  DMR_CONTROL_BODY_TOO_LARGE: {
    httpStatus: 413,
    isTransient: false,
    summary: 'The request body exceeds DMR_MAX_BODY_BYTES; nothing was written.',
  },
  DMR_CONTROL_UNSUPPORTED_MEDIA: {
    httpStatus: 415,
    isTransient: false,
    summary: 'The request body has a content type the route does not take (JSON everywhere; JSON or YAML for an import).',
  },
  // control plane certificate lifecycle (issue 18): CSR checks, renewal, signing CAs (token refusals: DMR_CONTROL_TOKEN_*)
  DMR_CONTROL_CSR_INVALID: {
    httpStatus: 400,
    isTransient: false,
    summary: 'The csr is not a PEM PKCS#10 certificate request, or its signature does not verify with its own key.',
  },
  DMR_CONTROL_CSR_KEY_UNSUPPORTED: {
    httpStatus: 400,
    isTransient: false,
    summary: 'The csr carries a key the control plane does not certify: only RSA 2048-8192 bits and EC P-256.',
  },
  DMR_CONTROL_CSR_SUBJECT_MISMATCH: {
    httpStatus: 403,
    isTransient: false,
    summary: 'The csr names another identity (CN or urn:dmr: SAN URI) than the one the token or certificate is for.',
  },
  DMR_CONTROL_CERTIFICATE_UNKNOWN: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The client certificate presented for renewal was not issued by this control plane for an agent or server.',
  },
  DMR_CONTROL_CERTIFICATE_REVOKED: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The client certificate presented for renewal is revoked.',
  },
  DMR_CONTROL_CERTIFICATE_EXPIRED: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The client certificate presented for renewal is outside its validity period.',
  },
  DMR_CONTROL_RENEWAL_KEY_CHANGED: {
    httpStatus: 409,
    isTransient: false,
    summary: 'The renewal csr carries another public key than the certificate being renewed; renewal keeps the key pair.',
  },
  DMR_CONTROL_CA_UNAVAILABLE: {
    httpStatus: 503,
    isTransient: true,
    summary: 'The control plane has no usable signing CA for this kind of certificate (ring.json, CA directory or key).',
  },
  // issue 18 (dmrctl as the admin API's client)
  DMR_CLI_DOCUMENT_INVALID: {
    httpStatus: 400,
    isTransient: false,
    summary: 'dmrctl refused a document file before sending it: not YAML or JSON, or not the kind of document the command takes.',
  },
  DMR_CLI_API_UNREACHABLE: {
    httpStatus: 503,
    isTransient: true,
    summary:
      'dmrctl could not reach dmr-control: connection refused or timed out, or the TLS handshake failed (which side refused is named).',
  },
  DMR_CLI_API_RESPONSE_INVALID: {
    httpStatus: 502,
    isTransient: false,
    summary: 'dmr-control (or something in front of it) answered dmrctl with a body that is not the expected JSON.',
  },
  // issue 16 (moving seed-003 queues with dmrctl queues migrate)
  DMR_MIGRATE_DEAD_LETTER: {
    httpStatus: 500,
    isTransient: false,
    summary: "A dead letter moved from a seed-003 dead-letter queue by dmrctl; the reason names seed 003's own (x-death) reason.",
  },
  DMR_MIGRATE_SOURCE_IN_USE: {
    httpStatus: 409,
    isTransient: true,
    summary: 'A seed-003 queue to be moved still has a consumer (a seed-003 server); nothing was moved.',
  },
  // issue 15, findings 15-16 (limits, registry trust)
  DMR_ROUTE_AGENT_BUSY: {
    httpStatus: 503,
    isTransient: true,
    summary:
      'The sending agent already has its maximum of messages in flight on this server (DMR_MAX_IN_FLIGHT_PER_AGENT); nothing was queued.',
  },
  DMR_ROUTE_QUEUE_FULL: {
    httpStatus: 503,
    isTransient: true,
    summary: "RabbitMQ refused the message: the recipient's queue is at its max-length (RABBITMQ_MAX_QUEUE_LENGTH); nothing was queued.",
  },
  DMR_AUTH_RATE_LIMITED: {
    httpStatus: 429,
    isTransient: true,
    summary: 'Too many Socket.IO handshakes from this agent, or too many failed ones from this address, in the last minute.',
  },
  DMR_REGISTRY_EMPTY: {
    httpStatus: 500,
    isTransient: false,
    summary: 'The agent registry lists no agent and CENTOPS_ALLOW_EMPTY_REGISTRY is not set; the last good one stays in force.',
  },
  DMR_REGISTRY_MASS_REMOVAL: {
    httpStatus: 500,
    isTransient: false,
    summary: 'The agent registry would remove more than CENTOPS_MAX_REMOVED_SHARE of the agents at once; the last good one stays in force.',
  },
  DMR_LIFECYCLE_SHUTTING_DOWN: { httpStatus: 503, isTransient: true, summary: 'The process is shutting down and takes no new work.' },
  DMR_INTERNAL_ERROR: { httpStatus: 500, isTransient: true, summary: 'An unexpected internal error.' },
  // issue 15 (untrusted input from agents)
  DMR_DELIVERY_INVALID_ACK: {
    httpStatus: 502,
    isTransient: true,
    summary: 'The recipient agent acknowledged a delivery with a malformed ack; counted as a failed attempt.',
  },
  // issue 16 (seed-003 interop)
  DMR_DELIVERY_UNKNOWN_ERROR: {
    httpStatus: 502,
    isTransient: true,
    summary:
      "The recipient agent refused a delivery with an error type that is neither a DMR code nor one of seed 003's; retried up to the delivery limit.",
  },
  // issue 18 (server side of config push, CRL distribution and version reporting; docs/control-plane.md)
  DMR_REGISTRY_STALE_VERSION: {
    httpStatus: 500,
    isTransient: true,
    summary:
      'The agent registry carries an older configVersion than the one in force (or none after a versioned one); the last good one stays in force.',
  },
  DMR_ROUTE_RECIPIENT_DISABLED: {
    httpStatus: 409,
    isTransient: false,
    summary: 'The recipient agent is disabled in the control plane (dmr.disabled of the registry); nothing was queued.',
  },
  DMR_AUTH_AGENT_DISABLED: {
    httpStatus: 403,
    isTransient: false,
    summary: 'The agent is disabled in the control plane; its handshake is refused and its live connections are cut.',
  },
  DMR_CA_CRL_FETCH_FAILED: {
    httpStatus: 502,
    isTransient: true,
    summary: 'The CRL bundle could not be fetched from DMR_TLS_CRL_URL; the CRLs in force stay.',
  },
  DMR_CONTROL_ANNOUNCEMENT_INVALID: {
    httpStatus: 400,
    isTransient: false,
    summary: 'A message on the dmr.control exchange is not a valid announcement {configVersion, kinds, at}; it was logged and dropped.',
  },
  DMR_CONTROL_REPORT_FAILED: {
    httpStatus: 502,
    isTransient: true,
    summary: 'The server could not report what it runs to the control plane (PUT /v1/servers/{instanceId}); retried after the next sync.',
  },
  DMR_POLICY_DENIED: {
    httpStatus: 403,
    isTransient: false,
    summary:
      'The policy in force denies this sender sending to this recipient (rule and policy version in the reason); nothing was queued.',
  },
  DMR_POLICY_UNAVAILABLE: {
    httpStatus: 503,
    isTransient: true,
    summary:
      'The policy engine could not decide (OPA timeout, error or no answer); the message was refused (fail closed) and nothing was queued.',
  },
  DMR_POLICY_INVALID: {
    httpStatus: 400,
    isTransient: false,
    summary: 'A policy document failed validation or compilation; it was refused and the last good policy stays in force.',
  },
  DMR_POLICY_FETCH_FAILED: {
    httpStatus: 502,
    isTransient: true,
    summary:
      'The server could not read the policy (dmr-control `GET /v1/policies/latest` or `DMR_POLICY_URL`); the last good policy stays in force and the read is retried.',
  },
  DMR_AUDIT_EVENT_INVALID: {
    httpStatus: 400,
    isTransient: false,
    summary:
      'An audit event is not the dmr.audit schema {v:1, eventId, at, kind, actor, subject, outcome, code?, configVersion, traceId?}; it was not published, or the writer skipped it.',
  },
  DMR_AUDIT_PUBLISH_FAILED: {
    httpStatus: 503,
    isTransient: true,
    summary: 'An audit event was not confirmed by the broker (nack or channel closed); the publisher keeps it and retries.',
  },
  DMR_AUDIT_VERIFY_FAILED: {
    httpStatus: 409,
    isTransient: false,
    summary:
      'The audit log does not verify: an entry was altered, removed or reordered, or a signed tree head is forged or does not match.',
  },
  DMR_AUDIT_NOT_FOUND: {
    httpStatus: 404,
    isTransient: false,
    summary: 'No audit entry has this eventId, or no signed tree head covers it yet.',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Every DMR error code. */
export type DmrErrorCode = keyof typeof ERROR_CATALOG;

/** The one error class: a catalogued code, its HTTP status and the chained cause. */
export class DmrError extends Error {
  readonly code: DmrErrorCode;
  readonly httpStatus: number;

  constructor(code: DmrErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DmrError';
    this.code = code;
    this.httpStatus = ERROR_CATALOG[code].httpStatus;
  }
}

/** True when `value` is one of the catalogued codes. */
export function isDmrErrorCode(value: unknown): value is DmrErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}

/** True when a failure with this code may succeed on redelivery; unknown codes count as transient so nothing is dropped early. */
export function isTransientCode(code: string): boolean {
  return isDmrErrorCode(code) ? ERROR_CATALOG[code].isTransient : true;
}

/** Wraps anything thrown into a DmrError, keeping DmrErrors as they are. */
export function toDmrError(error: unknown, fallback: DmrErrorCode = 'DMR_INTERNAL_ERROR'): DmrError {
  if (error instanceof DmrError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DmrError(fallback, message, { cause: error });
}
