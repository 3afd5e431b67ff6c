import { DELIVERY_DEADLINE_FEATURE, DELIVERY_EXPIRES_IN_FIELD, type WireMessageBody } from '@dmr/shared';

/** A delivery as emitted to an agent: the wire message, plus its remaining TTL for an agent that enforces deadlines. */
export type OutboundDelivery = WireMessageBody & { readonly [DELIVERY_EXPIRES_IN_FIELD]?: number };

/**
 * True when the handshake's `auth.features` lists {@link DELIVERY_DEADLINE_FEATURE}: the agent never posts a delivery
 * after its deadline and answers DMR_DELIVERY_EXPIRED instead. `auth` is untrusted input; anything else is false.
 */
export function announcesDeadlines(auth: unknown): boolean {
  if (typeof auth !== 'object' || auth === null) return false;
  const features: unknown = (auth as Record<string, unknown>).features;
  return Array.isArray(features) && features.includes(DELIVERY_DEADLINE_FEATURE);
}

/**
 * `wire` with the time it has left before the message TTL, ms (never negative), for an agent that enforces deadlines;
 * `wire` unchanged when `remainingMs` is undefined (a seed 003 agent, or no TTL).
 */
export function withDeadline(wire: WireMessageBody, remainingMs: number | undefined): OutboundDelivery {
  if (remainingMs === undefined) return wire;
  return { ...wire, [DELIVERY_EXPIRES_IN_FIELD]: Math.max(0, Math.floor(remainingMs)) };
}
