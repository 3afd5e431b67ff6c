import { X509Certificate } from 'node:crypto';
import { DmrError } from '../errors.js';
import { agentIdFromCertificate } from './certificate-identity.js';
import { importPublicKey, keyKindOf, normalisePem, type PublicKeyRef } from './keys.js';

/**
 * Why an agent trusts a peer's key:
 * - `certificate`: an X.509 certificate that chains to a configured DMR CA and names the agent (SAN `urn:dmr:agent:<id>`);
 * - `legacy-key`: a bare public key of an agent explicitly marked as a seed-003 legacy agent;
 * - `unverified`: anything importable, because the operator turned verification off (local experiments only).
 */
export type PeerKeyBasis = 'certificate' | 'legacy-key' | 'unverified';

/** What an agent trusts: the CA certificates, the legacy agent ids, and whether verification is off. */
export interface PeerTrustPolicy {
  /** CA certificates a peer certificate must chain to (each one a trust anchor). */
  readonly anchors: readonly X509Certificate[];
  /** Agents whose bare public key is accepted (seed-003 agents that have no certificate). */
  readonly legacyAgentIds: ReadonlySet<string>;
  /** Accept every importable key or certificate without any check. Never in production. */
  readonly allowUnverified: boolean;
}

/** A peer key the policy accepts, and the time window in which it may be used (ms since the epoch). */
export interface TrustedPeerKey {
  readonly ok: true;
  readonly key: PublicKeyRef;
  readonly basis: PeerKeyBasis;
  /** Latest notBefore along the chain (−∞ for keys without a certificate). */
  readonly validFromMs: number;
  /** Earliest notAfter along the chain (+∞ for keys without a certificate). */
  readonly validToMs: number;
}

/** A peer key the policy refuses, with a reason for the operator (never key material). */
export interface UntrustedPeerKey {
  readonly ok: false;
  readonly reason: string;
}

/** Outcome of {@link verifyPeerKey}. */
export type PeerKeyVerdict = TrustedPeerKey | UntrustedPeerKey;

/** Intermediates followed at most between a peer certificate and an anchor. */
export const MAX_PEER_CHAIN_INTERMEDIATES = 4;

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Parses a PEM bundle of one or more CA certificates (the trust anchors for peer keys). Pure: the caller reads the file.
 * Throws DMR_CRYPTO_KEY_INVALID when the text holds no certificate, a block does not parse, or a certificate is not a CA.
 */
export function parseTrustAnchors(pemBundle: string): X509Certificate[] {
  const blocks = normalisePem(pemBundle).match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new DmrError('DMR_CRYPTO_KEY_INVALID', 'holds no PEM certificate');
  return blocks.map((block, index) => {
    const cert = parseCertificate(block, `certificate ${index + 1}`);
    // a leaf here would let whoever holds its key vouch for any agent: only CA certificates are anchors
    if (!cert.ca) throw new DmrError('DMR_CRYPTO_KEY_INVALID', `certificate ${index + 1} (${cert.subject}) is not a CA certificate`);
    return cert;
  });
}

/**
 * Decides whether `material` (the `authenticationCertificate` the relay distributed for `agentId`) may be used to
 * encrypt to and verify signatures of `agentId` at `nowMs`. Pure: no I/O, the anchors come in with `policy`.
 *
 * A certificate (optionally followed by intermediates, leaf first) is trusted when: its SAN names exactly one agent,
 * `urn:dmr:agent:<agentId>`; it is not a CA certificate; every certificate on the path to an anchor is within its
 * validity at `nowMs` and signed by the next (subject/issuer, key identifiers and key usage checked by OpenSSL's
 * X509_check_issued); the path ends at one of `policy.anchors`, which must be valid at `nowMs` too. Revocation is not
 * checked here (the agent has no CRL). A bare public key is trusted only for `policy.legacyAgentIds`. With
 * `policy.allowUnverified` everything importable is trusted.
 */
export function verifyPeerKey(agentId: string, material: string, policy: PeerTrustPolicy, nowMs: number): PeerKeyVerdict {
  const pem = normalisePem(material);
  const blocks = pem.match(CERTIFICATE_BLOCK);
  try {
    if (blocks === null) return verifyBareKey(agentId, pem, policy);
    const [leaf, ...intermediates] = blocks.map((block, index) => parseCertificate(block, index === 0 ? 'certificate' : 'intermediate'));
    // Stryker disable next-line all: unreachable, `match` returns null (handled above) or at least one block; kept for the type
    if (leaf === undefined) return untrusted('holds no certificate');
    if (policy.allowUnverified) return trusted(leaf.publicKey, 'unverified');
    return verifyCertificatePath(agentId, leaf, intermediates, policy.anchors, nowMs);
  } catch (error) {
    // Stryker disable next-line ConditionalExpression,StringLiteral: everything thrown above is an Error (DmrError or node:crypto's)
    return untrusted(error instanceof Error ? error.message : String(error));
  }
}

function verifyBareKey(agentId: string, pem: string, policy: PeerTrustPolicy): PeerKeyVerdict {
  const isLegacy = policy.legacyAgentIds.has(agentId);
  if (!policy.allowUnverified && !isLegacy) {
    return untrusted('is a bare public key, not a certificate from the DMR CA; bare keys are accepted only from agents marked legacy');
  }
  const ref = importPublicKey(pem);
  return { ok: true, key: ref, basis: policy.allowUnverified ? 'unverified' : 'legacy-key', validFromMs: -Infinity, validToMs: Infinity };
}

function verifyCertificatePath(
  agentId: string,
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  nowMs: number,
): PeerKeyVerdict {
  const named = agentIdFromCertificate(leaf);
  if (named !== agentId) {
    return untrusted(
      named === undefined
        ? `certificate does not name exactly one agent (SAN urn:dmr:agent:${agentId})`
        : `certificate names agent ${named}`,
    );
  }
  if (leaf.ca) return untrusted('certificate is a CA certificate, not an agent certificate');
  const window = { fromMs: -Infinity, toMs: Infinity };
  let current = leaf;
  for (let depth = 0; depth <= MAX_PEER_CHAIN_INTERMEDIATES; depth++) {
    const expiry = validityProblem(current, nowMs, window);
    if (expiry) return untrusted(expiry);
    const anchor = anchors.find((candidate) => isSignedBy(current, candidate));
    if (anchor) {
      const anchorExpiry = validityProblem(anchor, nowMs, window);
      return anchorExpiry ? untrusted(anchorExpiry) : trusted(leaf.publicKey, 'certificate', window);
    }
    const next = intermediates.find((candidate) => candidate.ca && candidate !== current && isSignedBy(current, candidate));
    if (next === undefined) return untrusted(`certificate does not chain to the DMR CA (issuer ${current.issuer.replace(/\n/g, ', ')})`);
    current = next;
  }
  return untrusted(`certificate chain is longer than ${MAX_PEER_CHAIN_INTERMEDIATES} intermediates`);
}

function isSignedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Narrows `window` to `cert`'s validity; a reason when `nowMs` is outside it or the dates do not parse. */
function validityProblem(cert: X509Certificate, nowMs: number, window: { fromMs: number; toMs: number }): string | undefined {
  const fromMs = Date.parse(cert.validFrom);
  const toMs = Date.parse(cert.validTo);
  const subject = cert.subject.replace(/\n/g, ', ');
  // Stryker disable next-line all: node:crypto always renders validFrom/validTo as a date Date.parse reads; a guard only
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) return `certificate ${subject} has unreadable validity dates`;
  if (nowMs < fromMs) return `certificate ${subject} is not valid before ${new Date(fromMs).toISOString()}`;
  if (nowMs > toMs) return `certificate ${subject} expired at ${new Date(toMs).toISOString()}`;
  window.fromMs = Math.max(window.fromMs, fromMs);
  window.toMs = Math.min(window.toMs, toMs);
  return undefined;
}

function parseCertificate(pem: string, label: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new DmrError('DMR_CRYPTO_KEY_INVALID', `${label} is not a valid PEM X.509 certificate`, { cause: error });
  }
}

function trusted(
  key: X509Certificate['publicKey'],
  basis: PeerKeyBasis,
  window: { fromMs: number; toMs: number } = { fromMs: -Infinity, toMs: Infinity },
): TrustedPeerKey {
  return { ok: true, key: { key, kind: keyKindOf(key) }, basis, validFromMs: window.fromMs, validToMs: window.toMs };
}

function untrusted(reason: string): UntrustedPeerKey {
  return { ok: false, reason };
}
