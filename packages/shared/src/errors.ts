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
    summary: 'The TLS connection carried no verified client certificate.',
  },
  DMR_AUTH_CERTIFICATE_MISMATCH: {
    httpStatus: 401,
    isTransient: false,
    summary: 'The client certificate names another agent (SAN urn:dmr:agent:<id>) than the token kid.',
  },
  DMR_AUTH_CERTIFICATE_REVOKED: { httpStatus: 401, isTransient: false, summary: 'The client certificate is on the CRL in force.' },
  DMR_AUTH_CERTIFICATE_EXPIRED: { httpStatus: 401, isTransient: false, summary: 'The client certificate has expired.' },
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
    summary: 'The payload carries no signed metadata and unbound payloads are not allowed.',
  },
  DMR_CRYPTO_UNKNOWN_SENDER: {
    httpStatus: 400,
    isTransient: true,
    summary: "The sender's public key is not known (yet) to the recipient agent.",
  },
  DMR_DELIVERY_INVALID_MESSAGE: { httpStatus: 400, isTransient: false, summary: 'A delivered wire message is malformed.' },
  DMR_DELIVERY_ENDPOINT_FAILED: { httpStatus: 502, isTransient: true, summary: 'The local endpoint did not answer 2xx after retries.' },
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
  DMR_CA_INVALID_REQUEST: {
    httpStatus: 400,
    isTransient: false,
    summary: 'An argument to a CA operation is malformed (agent id, DNS name, IP, serial, reason, validity, key type, CSR).',
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
  DMR_CA_IO_FAILED: { httpStatus: 500, isTransient: true, summary: 'A CA file or directory could not be read or written.' },
  DMR_LIFECYCLE_SHUTTING_DOWN: { httpStatus: 503, isTransient: true, summary: 'The process is shutting down and takes no new work.' },
  DMR_INTERNAL_ERROR: { httpStatus: 500, isTransient: true, summary: 'An unexpected internal error.' },
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
