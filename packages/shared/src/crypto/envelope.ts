import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify } from 'jose';
import type { Result } from '../result.js';
import { refuse } from '../result.js';
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
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Signs `{...metadata, data}` with the sender's key (JWS) and encrypts that JWS to the
 * recipient's key (JWE, `cty: JWT`). Algorithms follow each key's kind.
 */
export async function sealPayload(
  metadata: EnvelopeMetadata,
  data: unknown,
  senderKey: PrivateKeyRef,
  recipientKey: PublicKeyRef,
): Promise<string> {
  const claims = { ...pickBound(metadata), data };
  const jws = await new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: ALGORITHMS[senderKey.kind].sign, kid: metadata.senderId })
    .sign(senderKey.key);
  return new CompactEncrypt(encoder.encode(jws))
    .setProtectedHeader({ alg: ALGORITHMS[recipientKey.kind].keyWrap, enc: CONTENT_ENCRYPTION, cty: 'JWT', kid: metadata.recipientId })
    .encrypt(recipientKey.key);
}

/** Options for {@link openPayload}. */
export interface OpenOptions {
  readonly recipientKey: PrivateKeyRef;
  readonly senderKey: PublicKeyRef;
  /** Accept payloads whose signed body carries only `data` (agents older than metadata binding). */
  readonly allowUnboundMetadata: boolean;
}

/**
 * Decrypts, verifies and checks the signed metadata against the clear `metadata`.
 * Returns the v1 payload (`data`) or a refusal with DMR_CRYPTO_DECRYPT_FAILED,
 * DMR_CRYPTO_SIGNATURE_INVALID, DMR_CRYPTO_METADATA_MISMATCH or DMR_CRYPTO_UNBOUND_METADATA.
 */
export async function openPayload(jwe: string, metadata: EnvelopeMetadata, options: OpenOptions): Promise<Result<unknown>> {
  let jws: string;
  try {
    const { plaintext } = await compactDecrypt(jwe, options.recipientKey.key, {
      keyManagementAlgorithms: [...ALGORITHMS[options.recipientKey.kind].unwrap],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION],
    });
    jws = decoder.decode(plaintext);
  } catch {
    return refuse('DMR_CRYPTO_DECRYPT_FAILED', 'payload', 'cannot be decrypted with this agent key');
  }
  let claims: unknown;
  try {
    const { payload } = await compactVerify(jws, options.senderKey.key, { algorithms: [...ALGORITHMS[options.senderKey.kind].verify] });
    claims = JSON.parse(decoder.decode(payload));
  } catch {
    return refuse('DMR_CRYPTO_SIGNATURE_INVALID', 'payload', "signature does not verify with the sender's key");
  }
  return checkClaims(claims, metadata, options.allowUnboundMetadata);
}

/** Pure check of the signed claims against the clear metadata. */
export function checkClaims(claims: unknown, metadata: EnvelopeMetadata, allowUnbound: boolean): Result<unknown> {
  if (typeof claims !== 'object' || claims === null || !('data' in claims)) {
    return refuse('DMR_CRYPTO_SIGNATURE_INVALID', 'payload', 'signed body has no data member');
  }
  const record = claims as Record<string, unknown>;
  const present = BOUND_FIELDS.filter((field) => field in record);
  if (present.length === 0) {
    if (allowUnbound) return { ok: true, value: record.data };
    return refuse('DMR_CRYPTO_UNBOUND_METADATA', 'payload', 'signed body carries no metadata (AGENT_ALLOW_UNBOUND_METADATA is off)');
  }
  const mismatched = BOUND_FIELDS.filter((field) => record[field] !== metadata[field]);
  if (mismatched.length > 0) {
    return {
      ok: false,
      code: 'DMR_CRYPTO_METADATA_MISMATCH',
      errors: mismatched.map((field) => ({ path: field, message: 'differs from the signed value' })),
    };
  }
  return { ok: true, value: record.data };
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
