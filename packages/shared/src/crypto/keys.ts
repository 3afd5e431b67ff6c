import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { DmrError } from '../errors.js';
import { AGENT_CAPABILITIES } from '../protocol.js';

/** The key types DMR supports; the JOSE algorithms follow from the key type. */
export type KeyKind = 'rsa' | 'ec-p256';

/**
 * JOSE algorithms per key kind: what we produce, and what we accept from peers. RSA recipients get RSA-OAEP (SHA-1
 * OAEP) by default, the only RSA key wrapping seed 003's agents open (they import their key for `RSA-OAEP`); those
 * that announce `jwe:RSA-OAEP-256` get `keyWrapStrong` (see {@link keyWrapFor} and docs/security.md).
 */
export const ALGORITHMS = {
  rsa: {
    sign: 'RS256',
    verify: ['RS256', 'PS256'],
    keyWrap: 'RSA-OAEP',
    keyWrapStrong: 'RSA-OAEP-256',
    unwrap: ['RSA-OAEP-256', 'RSA-OAEP'],
  },
  'ec-p256': { sign: 'ES256', verify: ['ES256'], keyWrap: 'ECDH-ES+A256KW', keyWrapStrong: 'ECDH-ES+A256KW', unwrap: ['ECDH-ES+A256KW'] },
} as const;

/**
 * The key wrapping to use for a recipient with a `kind` key that announced `capabilities` (registry entry). Pure.
 * RSA: RSA-OAEP-256 only when announced, else RSA-OAEP; EC P-256: always ECDH-ES+A256KW.
 */
export function keyWrapFor(kind: KeyKind, capabilities: readonly string[] = []): 'RSA-OAEP' | 'RSA-OAEP-256' | 'ECDH-ES+A256KW' {
  return capabilities.includes(AGENT_CAPABILITIES.rsaOaep256) ? ALGORITHMS[kind].keyWrapStrong : ALGORITHMS[kind].keyWrap;
}

/** Content encryption for every key kind. */
export const CONTENT_ENCRYPTION = 'A256GCM';

/** The kind of `key`. Throws DMR_CRYPTO_KEY_INVALID for anything but RSA (≥ 2048 bits) or EC P-256. */
export function keyKindOf(key: KeyObject): KeyKind {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new DmrError('DMR_CRYPTO_KEY_INVALID', `RSA key of ${bits} bits is too short; 2048 is the minimum`);
    return 'rsa';
  }
  // Stryker disable next-line ConditionalExpression: only EC keys have the named curve prime256v1, so the type test cannot change the answer
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec-p256';
  throw new DmrError('DMR_CRYPTO_KEY_INVALID', `unsupported key type ${key.asymmetricKeyType ?? 'unknown'}; use RSA or EC P-256`);
}

/** Env vars often carry PEM with literal `\n`; accept both forms. */
export function normalisePem(pem: string): string {
  // Stryker disable next-line StringLiteral: replacing in a PEM without a literal \n changes nothing
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n').trim() : pem.trim();
}

/** A private key with its kind, imported once. */
export interface PrivateKeyRef {
  readonly key: KeyObject;
  readonly kind: KeyKind;
}

/** A public key with its kind, imported once. */
export interface PublicKeyRef {
  readonly key: KeyObject;
  readonly kind: KeyKind;
}

/** Imports a PEM private key (PKCS#8 or PKCS#1/SEC1). Throws DMR_CRYPTO_KEY_INVALID. */
export function importPrivateKey(pem: string): PrivateKeyRef {
  try {
    const key = createPrivateKey(normalisePem(pem));
    return { key, kind: keyKindOf(key) };
  } catch (error) {
    if (error instanceof DmrError) throw error;
    throw new DmrError('DMR_CRYPTO_KEY_INVALID', 'private key is not a valid PEM key', { cause: error });
  }
}

/** Imports a PEM public key or an X.509 certificate's key. Throws DMR_CRYPTO_KEY_INVALID. */
export function importPublicKey(pemOrCertificate: string): PublicKeyRef {
  try {
    const pem = normalisePem(pemOrCertificate);
    const key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
    return { key, kind: keyKindOf(key) };
  } catch (error) {
    if (error instanceof DmrError) throw error;
    throw new DmrError('DMR_CRYPTO_KEY_INVALID', 'public key is not a valid PEM key or certificate', { cause: error });
  }
}

/** The SPKI PEM of a private key's public half, as it goes into the registry. */
export function publicPemOf(privateKey: PrivateKeyRef): string {
  return createPublicKey(privateKey.key).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Public keys by agent id, re-imported only when the PEM changes: importing is far
 * slower than using, and both server (token checks) and agents (every message) look keys up on hot paths.
 */
export class PublicKeyRing {
  readonly #entries = new Map<string, { pem: string; ref: PublicKeyRef }>();

  /** Sets the key of `agentId`. Throws DMR_CRYPTO_KEY_INVALID and keeps the old key on a bad PEM. */
  set(agentId: string, pem: string): PublicKeyRef {
    const existing = this.#entries.get(agentId);
    if (existing?.pem === pem) return existing.ref;
    const ref = importPublicKey(pem);
    this.#entries.set(agentId, { pem, ref });
    return ref;
  }

  /** The key of `agentId`, if known. */
  get(agentId: string): PublicKeyRef | undefined {
    return this.#entries.get(agentId)?.ref;
  }

  /** Forgets `agentId`. */
  delete(agentId: string): void {
    this.#entries.delete(agentId);
  }

  /** Keeps only the ids in `agentIds`. */
  retain(agentIds: ReadonlySet<string>): void {
    for (const id of this.#entries.keys()) if (!agentIds.has(id)) this.#entries.delete(id);
  }
}
