import { type DmrErrorCode, describeErrors, type PublicKeyRef, verifyAgentToken } from '@dmr/shared';

/** Outcome of a handshake check. */
export type HandshakeResult =
  | { readonly ok: true; readonly agentId: string }
  | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/** What the handshake needs from the rest of the server. */
export interface HandshakeDeps {
  readonly keyOf: (agentId: string) => PublicKeyRef | undefined;
  readonly isAcceptingConnections: () => { ok: true } | { ok: false; code: DmrErrorCode; reason: string };
}

/**
 * Authenticates a Socket.IO handshake: the server must be able to serve the agent (broker up, registry loaded,
 * not stopping), and `auth.token` must be a fresh JWT signed by the key the registry holds for its `kid`.
 */
export async function authenticateHandshake(auth: unknown, deps: HandshakeDeps): Promise<HandshakeResult> {
  const availability = deps.isAcceptingConnections();
  if (!availability.ok) return availability;
  const token = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>).token : undefined;
  const verified = await verifyAgentToken(token, deps.keyOf);
  if (!verified.ok) return { ok: false, code: verified.code, reason: describeErrors(verified.errors) };
  return { ok: true, agentId: verified.value.agentId };
}
