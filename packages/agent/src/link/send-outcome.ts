/** What became of one `dmr:agents:message-to-dmr-server` emit. */
export type SendOutcome =
  | { readonly ok: true }
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
  return rejected(serverCode, reason);
}

function rejected(serverCode: string, reason: string): SendOutcome {
  return { ok: false, code: 'DMR_LINK_REJECTED', message: `the DMR server rejected the message: ${reason}`, serverCode, reason };
}
