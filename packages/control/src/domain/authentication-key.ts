import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { agentIdFromCertificate, formatPemBlock, pemBlocks } from '@dmr/shared/base';

/** Longest `authenticationCertificate` accepted, characters: an RSA-8192 certificate with a long chain fits. */
export const MAX_KEY_PEM_LENGTH = 16_384;

/**
 * `pem` in canonical form (the one block, 64-column lines, final newline: text around it is dropped), or why it
 * cannot be an agent's key (see {@link authenticationKeyProblem}).
 */
export function canonicalAuthenticationKey(pem: string, agentId: string): { ok: true; pem: string } | { ok: false; problem: string } {
  const problem = authenticationKeyProblem(pem, agentId);
  if (problem !== undefined) return { ok: false, problem };
  return { ok: true, pem: formatPemBlock(pemBlocks(pem)[0] as NonNullable<ReturnType<typeof pemBlocks>[number]>) };
}

/**
 * Why `pem` cannot be an agent's `authentication_certificate`, or undefined when it can. It must be exactly one PEM
 * block, a `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY` (PKCS#1) or `CERTIFICATE`, whose key is RSA ≥ 2048 bits or EC P-256
 * (what the relay and the agents accept; the same rule as `keyKindOf`). A certificate must name `agentId` in its
 * `urn:dmr:agent:` SAN URI when it names any agent: an entry must not claim another agent's certificate. Parsed with
 * node:crypto; no private key is ever accepted here (a `PRIVATE KEY` block is refused without being read).
 */
export function authenticationKeyProblem(pem: string, agentId: string): string | undefined {
  const blocks = pemBlocks(pem);
  if (blocks.length !== 1) return `must be exactly one PEM block (got ${blocks.length})`;
  const [block] = blocks as [(typeof blocks)[number]];
  if (block.label.includes('PRIVATE')) return 'is a private key: send the public key or the certificate, never the private key';
  let key: KeyObject;
  try {
    if (block.label === 'CERTIFICATE') {
      const certificate = new X509Certificate(formatPemBlock(block));
      const named = agentIdFromCertificate(certificate);
      if (named !== undefined && named !== agentId) return `is a certificate for agent "${named}", not for "${agentId}"`;
      key = certificate.publicKey;
    } else if (block.label === 'PUBLIC KEY' || block.label === 'RSA PUBLIC KEY') {
      key = createPublicKey(formatPemBlock(block));
    } else {
      return `is a PEM "${block.label}" block; expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE`;
    }
  } catch {
    return `is not a valid PEM ${block.label === 'CERTIFICATE' ? 'certificate' : 'public key'}`;
  }
  return keyStrengthProblem(key);
}

/** Why `key` is too weak or of an unsupported type, or undefined for RSA ≥ 2048 bits and EC P-256. */
export function keyStrengthProblem(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= 2048 ? undefined : `holds an RSA key of ${bits} bits; at least 2048 are required`;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? undefined : `holds an EC key on ${curve ?? 'an unknown curve'}; only P-256 is accepted`;
  }
  return `holds a ${key.asymmetricKeyType ?? 'unknown'} key; only RSA (≥ 2048 bits) and EC P-256 are accepted`;
}
