/**
 * Server refusals that mean "nothing was queued, try again later" (issue 15, finding 15): the agent passes the
 * server's code through to its caller as a 503 with `Retry-After` (seconds here), instead of a 502 DMR_LINK_REJECTED.
 */
export const RETRY_LATER_SERVER_CODES = {
  /** The sending agent has DMR_MAX_IN_FLIGHT_PER_AGENT messages in flight on its server: one round of confirms frees slots. */
  DMR_ROUTE_AGENT_BUSY: 1,
  /** The recipient's queue is at its max-length: it drains only as fast as the recipient consumes. */
  DMR_ROUTE_QUEUE_FULL: 5,
  /** Issue 19: the server's policy engine could not decide (fail closed); an OPA sidecar usually answers again within seconds. */
  DMR_POLICY_UNAVAILABLE: 1,
} as const;

/** A server code from {@link RETRY_LATER_SERVER_CODES}. */
export type RetryLaterCode = keyof typeof RETRY_LATER_SERVER_CODES;

/**
 * Permanent server refusals the agent passes to its caller with the server's own code, and so the catalog's status,
 * instead of 502 DMR_LINK_REJECTED: the caller must be able to tell "the policy forbids this" (403) from a broken relay.
 */
export const PASSED_THROUGH_SERVER_CODES = ['DMR_POLICY_DENIED'] as const;

/** A server code the agent answers its caller with as it came: a retry-later code or one of {@link PASSED_THROUGH_SERVER_CODES}. */
export type PassedThroughCode = RetryLaterCode | (typeof PASSED_THROUGH_SERVER_CODES)[number];

/** The `Retry-After` seconds of `code`, or undefined when the code is not a retry-later refusal. */
export function retryAfterSecondsOf(code: string): number | undefined {
  return Object.hasOwn(RETRY_LATER_SERVER_CODES, code) ? RETRY_LATER_SERVER_CODES[code as RetryLaterCode] : undefined;
}

/** What became of one `dmr:agents:message-to-dmr-server` emit. */
export type SendOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: PassedThroughCode;
      readonly message: string;
      readonly serverCode: PassedThroughCode;
      readonly reason: string;
    }
  | { readonly ok: false; readonly code: 'DMR_LINK_NOT_CONNECTED' | 'DMR_LINK_TIMEOUT'; readonly message: string }
  | {
      readonly ok: false;
      readonly code: 'DMR_LINK_REJECTED';
      readonly message: string;
      /** The DMR error code the server gave (`error` of its ack). */
      readonly serverCode: string;
      /** The server's reason, or its code when it gave none. */
      readonly reason: string;
    };

/**
 * Reads the server's ack (`{status:'ok'|'error', error?, reason?}`). Anything else counts as a
 * rejection: a malformed ack must never be taken as proof that the message is durable.
 */
export function interpretSendAck(ack: unknown): SendOutcome {
  if (typeof ack !== 'object' || ack === null) return rejected('DMR_INTERNAL_ERROR', 'the DMR server sent a malformed acknowledgement');
  const record = ack as Record<string, unknown>;
  if (record.status === 'ok') return { ok: true };
  if (record.status !== 'error') return rejected('DMR_INTERNAL_ERROR', 'the DMR server sent a malformed acknowledgement');
  const serverCode = typeof record.error === 'string' && record.error !== '' ? record.error : 'DMR_INTERNAL_ERROR';
  const reason = typeof record.reason === 'string' && record.reason !== '' ? record.reason : serverCode;
  if (retryAfterSecondsOf(serverCode) !== undefined) {
    const code = serverCode as RetryLaterCode;
    return { ok: false, code, message: `the DMR server could not take the message now: ${reason}`, serverCode: code, reason };
  }
  if ((PASSED_THROUGH_SERVER_CODES as readonly string[]).includes(serverCode)) {
    const code = serverCode as PassedThroughCode;
    return { ok: false, code, message: `the DMR server refused the message: ${reason}`, serverCode: code, reason };
  }
  return rejected(serverCode, reason);
}

function rejected(serverCode: string, reason: string): SendOutcome {
  return { ok: false, code: 'DMR_LINK_REJECTED', message: `the DMR server rejected the message: ${reason}`, serverCode, reason };
}
