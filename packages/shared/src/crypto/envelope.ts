import { compactDecrypt, compactVerify } from 'jose';
import type { Result } from '../result.js';
import { refuse } from '../result.js';
import { decryptCompactJwe, encryptCompactJwe } from './compact-jwe.js';
import { signCompactJws, verifyCompactJws } from './compact-jws.js';
import { UnsupportedJoseFeature } from './jose-header.js';
import type { KeyAgreements, KeyManagementAlgorithm } from './key-management.js';
import { ALGORITHMS, CONTENT_ENCRYPTION, type PrivateKeyRef, type PublicKeyRef } from './keys.js';

/** Routing metadata that travels in clear and is also signed inside the envelope. */
export interface EnvelopeMetadata {
  readonly id: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly type: string;
  readonly timestamp: string;
}

const BOUND_FIELDS = ['id', 'senderId', 'recipientId', 'type', 'timestamp'] as const;

/**
 * Signs `{...metadata, data}` with the sender's key (JWS) and encrypts that JWS to the
 * recipient's key (JWE, `cty: JWT`). Algorithms follow each key's kind; `keyWrap` (default: the kind's default, RSA-OAEP
 * for RSA) lets the caller pick RSA-OAEP-256 for a recipient that announced it (`keyWrapFor`). Standard compact JOSE built on
 * node:crypto (about 5× cheaper than jose's WebCrypto path); any JOSE library can open it. With
 * `agreements.ephemeralKeys`, P-256 messages to one recipient share an ephemeral key for a bounded time.
 */
export async function sealPayload(
  metadata: EnvelopeMetadata,
  data: unknown,
  senderKey: PrivateKeyRef,
  recipientKey: PublicKeyRef,
  agreements: KeyAgreements = {},
  keyWrap: KeyManagementAlgorithm = ALGORITHMS[recipientKey.kind].keyWrap,
): Promise<string> {
  const claims = { ...pickBound(metadata), data };
  const jws = signCompactJws(
    Buffer.from(JSON.stringify(claims)),
    { alg: ALGORITHMS[senderKey.kind].sign, kid: metadata.senderId },
    senderKey,
  );
  return encryptCompactJwe(Buffer.from(jws), keyWrap, { cty: 'JWT', kid: metadata.recipientId }, recipientKey, agreements);
}

/** Options for {@link openPayload}. */
export interface OpenOptions {
  readonly recipientKey: PrivateKeyRef;
  readonly senderKey: PublicKeyRef;
  /**
   * Accept payloads whose signed body carries only `data` (seed-003 agents, older than metadata binding). The caller
   * decides per sender (a legacy sender, or `AGENT_ALLOW_UNBOUND_METADATA` for all).
   */
  readonly allowUnboundMetadata: boolean;
  /** `agreedKeys`: P-256 key agreements remembered by `epk`, for senders that reuse ephemeral keys. */
  readonly agreements?: KeyAgreements;
}

/** An opened payload: the v1 payload (`data`), and whether the signature also covered the wire metadata. */
export interface OpenedPayload {
  readonly data: unknown;
  /** False for a `{data}`-only signed body, accepted only because `allowUnboundMetadata` was set. */
  readonly isBound: boolean;
}

/**
 * Decrypts, verifies and checks the signed metadata against the clear `metadata`.
 * Returns the v1 payload (`data`) or a refusal with DMR_CRYPTO_DECRYPT_FAILED,
 * DMR_CRYPTO_SIGNATURE_INVALID, DMR_CRYPTO_METADATA_MISMATCH or DMR_CRYPTO_UNBOUND_METADATA.
 * The node:crypto path handles what DMR and jose produce; anything else it hands to jose, so the rules stay jose's.
 */
export async function openPayload(jwe: string, metadata: EnvelopeMetadata, options: OpenOptions): Promise<Result<unknown>> {
  const opened = await openEnvelope(jwe, metadata, options);
  return opened.ok ? { ok: true, value: opened.value.data } : opened;
}

/** {@link openPayload}, also saying whether the payload was bound to its metadata (callers count unbound ones). */
export async function openEnvelope(jwe: string, metadata: EnvelopeMetadata, options: OpenOptions): Promise<Result<OpenedPayload>> {
  let jws: string;
  try {
    jws = (await decryptWithFallback(jwe, options.recipientKey, options.agreements)).toString('utf8');
  } catch {
    return refuse('DMR_CRYPTO_DECRYPT_FAILED', 'payload', 'cannot be decrypted with this agent key');
  }
  let claims: unknown;
  try {
    claims = JSON.parse((await verifyWithFallback(jws, options.senderKey)).toString('utf8'));
  } catch {
    return refuse('DMR_CRYPTO_SIGNATURE_INVALID', 'payload', "signature does not verify with the sender's key");
  }
  return bindClaims(claims, metadata, options.allowUnboundMetadata);
}

async function decryptWithFallback(jwe: string, key: PrivateKeyRef, agreements: KeyAgreements | undefined): Promise<Buffer> {
  const algorithms = ALGORITHMS[key.kind].unwrap;
  try {
    return decryptCompactJwe(jwe, key, algorithms, agreements);
  } catch (error) {
    if (!(error instanceof UnsupportedJoseFeature)) throw error;
    const { plaintext } = await compactDecrypt(jwe, key.key, {
      keyManagementAlgorithms: [...algorithms],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION],
    });
    return Buffer.from(plaintext);
  }
}

async function verifyWithFallback(jws: string, key: PublicKeyRef): Promise<Buffer> {
  const algorithms = ALGORITHMS[key.kind].verify;
  try {
    return verifyCompactJws(jws, key, algorithms);
  } catch (error) {
    if (!(error instanceof UnsupportedJoseFeature)) throw error;
    const { payload } = await compactVerify(jws, key.key, { algorithms: [...algorithms] });
    return Buffer.from(payload);
  }
}

/** Pure check of the signed claims against the clear metadata; the value is the v1 payload (`data`). */
export function checkClaims(claims: unknown, metadata: EnvelopeMetadata, allowUnbound: boolean): Result<unknown> {
  const bound = bindClaims(claims, metadata, allowUnbound);
  return bound.ok ? { ok: true, value: bound.value.data } : bound;
}

/** {@link checkClaims}, saying whether the claims were bound to the metadata. Pure. */
export function bindClaims(claims: unknown, metadata: EnvelopeMetadata, allowUnbound: boolean): Result<OpenedPayload> {
  if (typeof claims !== 'object' || claims === null || !('data' in claims)) {
    return refuse('DMR_CRYPTO_SIGNATURE_INVALID', 'payload', 'signed body has no data member');
  }
  const record = claims as Record<string, unknown>;
  const present = BOUND_FIELDS.filter((field) => field in record);
  if (present.length === 0) {
    if (allowUnbound) return { ok: true, value: { data: record.data, isBound: false } };
    return refuse(
      'DMR_CRYPTO_UNBOUND_METADATA',
      'payload',
      'signed body carries no metadata and its sender is not marked legacy (DMR_LEGACY_AGENT_IDS)',
    );
  }
  const mismatched = BOUND_FIELDS.filter((field) => record[field] !== metadata[field]);
  if (mismatched.length > 0) {
    return {
      ok: false,
      code: 'DMR_CRYPTO_METADATA_MISMATCH',
      errors: mismatched.map((field) => ({ path: field, message: 'differs from the signed value' })),
    };
  }
  return { ok: true, value: { data: record.data, isBound: true } };
}

function pickBound(metadata: EnvelopeMetadata): EnvelopeMetadata {
  return {
    id: metadata.id,
    senderId: metadata.senderId,
    recipientId: metadata.recipientId,
    type: metadata.type,
    timestamp: metadata.timestamp,
  };
}
