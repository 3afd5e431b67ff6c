import { type DmrErrorCode, isDmrErrorCode } from '@dmr/shared';

/**
 * OpenSSL verdicts (Node's `error.code`) meaning the server's certificate does not chain to a CA of the agent's
 * `DMR_TLS_CA_FILE`. Expiry and host-name mismatches are left out: they say something else about the certificate.
 */
const UNTRUSTED_ISSUER_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'INVALID_CA',
]);

/**
 * The DMR code for a failed connect, for the log line: the code of the server's refusal (`error.data.code`), or
 * DMR_AUTH_CERTIFICATE_UNTRUSTED when TLS refused the server's certificate for its issuer; undefined otherwise
 * (a refused TCP connection, a timeout …). Pure: reads only the error Socket.IO handed over.
 */
export function connectFailureCode(error: { readonly data?: unknown; readonly description?: unknown }): DmrErrorCode | undefined {
  const refusal = (error.data as { code?: unknown } | undefined)?.code;
  if (isDmrErrorCode(refusal)) return refusal;
  return UNTRUSTED_ISSUER_CODES.has(tlsCodeOf(error.description) ?? '') ? 'DMR_AUTH_CERTIFICATE_UNTRUSTED' : undefined;
}

/** engine.io-client hands over ws's error event (the Node error in `.error`) or the Node error itself. */
function tlsCodeOf(description: unknown): string | undefined {
  if (typeof description !== 'object' || description === null) return undefined;
  const { code, error } = description as { code?: unknown; error?: { code?: unknown } };
  if (typeof code === 'string') return code;
  return typeof error?.code === 'string' ? error.code : undefined;
}
