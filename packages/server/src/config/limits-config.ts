import type { EnvReader } from '@dmr/shared';

/**
 * Per-agent and pre-authentication limits of the Socket.IO gateway (issue 15, finding 15).
 * A limit of 0 turns that limit off.
 */
export interface GatewayLimits {
  /** Messages one agent may have in flight on this instance (`DMR_MAX_IN_FLIGHT_PER_AGENT`, default 256); beyond it DMR_ROUTE_AGENT_BUSY. */
  readonly maxInFlightPerAgent: number;
  /** Accepted handshakes per agent id per minute (`DMR_HANDSHAKE_RATE_PER_AGENT`, default 60); beyond it DMR_AUTH_RATE_LIMITED. */
  readonly handshakesPerAgentPerMinute: number;
  /** Failed handshakes per remote address per minute (`DMR_HANDSHAKE_FAILURES_PER_ADDRESS`, default 60); beyond it the address is refused before verification. */
  readonly handshakeFailuresPerAddressPerMinute: number;
  /** Largest engine.io frame or polling body, bytes, until the connection has authenticated (`DMR_PREAUTH_MAX_BYTES`, default 65536). */
  readonly preAuthMaxBytes: number;
  /** How long a connection may stay without an authenticated namespace before it is closed, ms (`DMR_PREAUTH_TIMEOUT_MS`, default 10000). */
  readonly preAuthTimeoutMs: number;
}

/** How far the agent registry (the root of trust for agent keys) is trusted (issue 15, finding 16). */
export interface RegistryTrust {
  /** `DMR_ALLOW_INSECURE_REGISTRY`: allows an `http://` registry, and TLS verification off through NODE_TLS_REJECT_UNAUTHORIZED=0. Development only. */
  readonly allowInsecure: boolean;
  /** False only when NODE_TLS_REJECT_UNAUTHORIZED=0 and {@link RegistryTrust.allowInsecure}: the https fetch then skips verification. */
  readonly verifyTls: boolean;
  /** `CENTOPS_CONFIGURATION_CA_FILE`: PEM CA(s) that alone are trusted for an `https://` registry (default: Node's root store). */
  readonly caFile: string | undefined;
  /** `CENTOPS_ALLOW_EMPTY_REGISTRY`: accept a registry that lists no agent (default false). */
  readonly allowEmpty: boolean;
  /** `CENTOPS_MAX_REMOVED_SHARE`: largest share (0–1) of the agents in force one sync may remove (default 0.5; 1 turns the check off). */
  readonly maxRemovedShare: number;
}

/** Reads {@link GatewayLimits}; problems are collected by `read`. */
export function readGatewayLimits(read: EnvReader): GatewayLimits {
  return {
    maxInFlightPerAgent: read.int('DMR_MAX_IN_FLIGHT_PER_AGENT', { default: 256, min: 1, max: 1_000_000 }),
    handshakesPerAgentPerMinute: read.int('DMR_HANDSHAKE_RATE_PER_AGENT', { default: 60, min: 0 }),
    handshakeFailuresPerAddressPerMinute: read.int('DMR_HANDSHAKE_FAILURES_PER_ADDRESS', { default: 60, min: 0 }),
    preAuthMaxBytes: read.int('DMR_PREAUTH_MAX_BYTES', { default: 65_536, min: 4096 }),
    preAuthTimeoutMs: read.int('DMR_PREAUTH_TIMEOUT_MS', { default: 10_000, min: 100 }),
  };
}

/**
 * Reads {@link RegistryTrust} and refuses an insecure registry URL: `http://`, or https with verification turned off
 * process-wide (NODE_TLS_REJECT_UNAUTHORIZED=0), unless DMR_ALLOW_INSECURE_REGISTRY=true.
 */
export function readRegistryTrust(read: EnvReader, registryUrl: string): RegistryTrust {
  const allowInsecure = read.bool('DMR_ALLOW_INSECURE_REGISTRY', false);
  const isVerificationOff = read.string('NODE_TLS_REJECT_UNAUTHORIZED', '1') === '0';
  const scheme = registryUrl.split(':', 1)[0]?.toLowerCase();
  if (scheme === 'http' && !allowInsecure) {
    read.problem(
      'CENTOPS_CONFIGURATION_URL uses http://: the agent registry carries every agent key, so it must come over https:// (or file://); set DMR_ALLOW_INSECURE_REGISTRY=true only for development',
    );
  }
  if (scheme === 'https' && isVerificationOff && !allowInsecure) {
    read.problem(
      'NODE_TLS_REJECT_UNAUTHORIZED=0 would fetch the agent registry without verifying its certificate; unset it, trust the registry CA with CENTOPS_CONFIGURATION_CA_FILE, or set DMR_ALLOW_INSECURE_REGISTRY=true for development',
    );
  }
  return {
    allowInsecure,
    verifyTls: !(isVerificationOff && allowInsecure),
    caFile: read.optionalString('CENTOPS_CONFIGURATION_CA_FILE'),
    allowEmpty: read.bool('CENTOPS_ALLOW_EMPTY_REGISTRY', false),
    maxRemovedShare: readShare(read, 'CENTOPS_MAX_REMOVED_SHARE', 0.5),
  };
}

function readShare(read: EnvReader, name: string, fallback: number): number {
  const text = read.optionalString(name);
  if (text === undefined) return fallback;
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    read.problem(`${name} must be a number from 0 to 1, got "${text}"`);
    return fallback;
  }
  return value;
}
