import { type DmrErrorCode, describeErrors, type PublicKeyRef, TOKEN_EXPIRY_TOLERANCE_S, verifyAgentToken } from '@dmr/shared';
import type { TokenReplayGuard } from './token-replay-guard.js';

/** Outcome of a handshake check. */
export type HandshakeResult =
  | { readonly ok: true; readonly agentId: string }
  | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/** How handshake tokens are bound to this server (see docs/security.md, "Handshake token binding"). */
export interface TokenPolicy {
  /** This server's cluster id (`DMR_CLUSTER_ID`): the `aud` every token must carry. */
  readonly audience: string;
  /** Seed-003 agents (`DMR_LEGACY_AGENT_IDS`) whose tokens may lack `aud` and `jti`. */
  readonly legacyAgentIds: ReadonlySet<string>;
  /** Remembers used token ids until they expire. */
  readonly replayGuard: TokenReplayGuard;
}

/** What the handshake needs from the rest of the server. */
export interface HandshakeDeps {
  readonly keyOf: (agentId: string) => PublicKeyRef | undefined;
  readonly isAcceptingConnections: () => { ok: true } | { ok: false; code: DmrErrorCode; reason: string };
  readonly tokens: TokenPolicy;
  /** True when the control plane disabled `agentId` (`dmr.disabled` of the registry; issue 18). */
  readonly isDisabled?: (agentId: string) => boolean;
  /** Clock, ms; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Authenticates a Socket.IO handshake: the server must be able to serve the agent (broker up, registry loaded,
 * not stopping), and `auth.token` must be a fresh JWT signed by the key the registry holds for its `kid`, bound to
 * this cluster (`aud`) and never seen before (`jti`). Codes: those of `verifyAgentToken`, DMR_AUTH_AGENT_DISABLED (the
 * token names an agent the control plane disabled: it has no key in force, and "unknown agent" would mislead),
 * DMR_AUTH_TOKEN_REPLAYED, DMR_AUTH_REPLAY_GUARD_FULL, and the availability codes.
 */
export async function authenticateHandshake(auth: unknown, deps: HandshakeDeps): Promise<HandshakeResult> {
  const availability = deps.isAcceptingConnections();
  if (!availability.ok) return availability;
  const token = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>).token : undefined;
  const nowMs = (deps.now ?? Date.now)();
  const { audience, legacyAgentIds, replayGuard } = deps.tokens;
  let disabledId: string | undefined;
  const keyOf = (agentId: string): PublicKeyRef | undefined => {
    const key = deps.keyOf(agentId);
    if (key === undefined && deps.isDisabled?.(agentId)) disabledId = agentId;
    return key;
  };
  const verified = await verifyAgentToken(token, keyOf, { audience, isLegacy: (id) => legacyAgentIds.has(id), nowMs });
  if (!verified.ok && verified.code === 'DMR_AUTH_UNKNOWN_AGENT' && disabledId !== undefined) {
    return { ok: false, code: 'DMR_AUTH_AGENT_DISABLED', reason: `agent ${disabledId} is disabled in the control plane` };
  }
  if (!verified.ok) return { ok: false, code: verified.code, reason: describeErrors(verified.errors) };
  const { agentId, tokenId, expiresAtS } = verified.value;
  // only after the signature verified: unsigned junk must not fill the guard
  if (tokenId !== undefined) {
    const claimed = replayGuard.claim(agentId, tokenId, expiresAtS * 1000, nowMs, TOKEN_EXPIRY_TOLERANCE_S * 1000);
    if (!claimed.ok) return claimed;
  }
  return { ok: true, agentId };
}
