// The envelope's binding of clear metadata to the signed body, and the refusals openPayload and checkClaims give:
// a partly bound body is not "unbound", every differing field is named, and what is signed is exactly the five
// bound fields plus data.
import { generateKeyPairSync } from 'node:crypto';
import { checkClaims, type EnvelopeMetadata, importPrivateKey, importPublicKey, openPayload, publicPemOf, sealPayload } from '@dmr/shared';
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';

function makeKey() {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKey = importPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return { privateKey, publicKey: importPublicKey(publicPemOf(privateKey)) };
}

const metadata: EnvelopeMetadata = {
  id: 'msg-1',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  timestamp: '2024-01-15T10:30:00.000Z',
};

describe('checkClaims', () => {
  it('refuses a signed body that is not an object with data', () => {
    const refusal = {
      ok: false,
      code: 'DMR_CRYPTO_SIGNATURE_INVALID',
      errors: [{ path: 'payload', message: 'signed body has no data member' }],
    };
    for (const claims of [null, 'text', 42, { ...metadata }]) expect(checkClaims(claims, metadata, true)).toEqual(refusal);
  });

  it('accepts a body without any metadata only when unbound bodies are allowed, and says why not otherwise', () => {
    expect(checkClaims({ data: 1 }, metadata, true)).toEqual({ ok: true, value: 1 });
    expect(checkClaims({ data: 1 }, metadata, false)).toEqual({
      ok: false,
      code: 'DMR_CRYPTO_UNBOUND_METADATA',
      errors: [{ path: 'payload', message: 'signed body carries no metadata and its sender is not marked legacy (DMR_LEGACY_AGENT_IDS)' }],
    });
  });

  it('treats a body that binds any one field as bound, so every field it leaves out is a mismatch', () => {
    for (const field of ['id', 'senderId', 'recipientId', 'type', 'timestamp'] as const) {
      const result = checkClaims({ data: 1, [field]: metadata[field] }, metadata, true);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.code).toBe('DMR_CRYPTO_METADATA_MISMATCH');
      expect(result.errors.map((error) => error.path)).toHaveLength(4);
      expect(result.errors.map((error) => error.path)).not.toContain(field);
    }
  });

  it('names each field that differs', () => {
    const result = checkClaims({ ...metadata, recipientId: 'agent-c', timestamp: 'later', data: 1 }, metadata, false);
    expect(result).toEqual({
      ok: false,
      code: 'DMR_CRYPTO_METADATA_MISMATCH',
      errors: [
        { path: 'recipientId', message: 'differs from the signed value' },
        { path: 'timestamp', message: 'differs from the signed value' },
      ],
    });
    expect(checkClaims({ ...metadata, data: { x: 1 } }, metadata, false)).toEqual({ ok: true, value: { x: 1 } });
  });
});

describe('sealPayload / openPayload', () => {
  const [alice, bob, mallory] = [makeKey(), makeKey(), makeKey()];

  it('signs exactly the five bound fields and data, with kid = sender inside and kid = recipient, cty JWT outside', async () => {
    const withExtra = { ...metadata, note: 'not bound' } as EnvelopeMetadata;
    const jwe = await sealPayload(withExtra, { x: 1 }, alice.privateKey, bob.publicKey);
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: 'agent-b' });
    const jws = new TextDecoder().decode((await compactDecrypt(jwe, bob.privateKey.key)).plaintext);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', kid: 'agent-a' });
    const claims = JSON.parse(new TextDecoder().decode((await compactVerify(jws, alice.publicKey.key)).payload));
    expect(claims).toEqual({ ...metadata, data: { x: 1 } });
  });

  it('says what failed: decryption with this key, or the signature with the sender key', async () => {
    const jwe = await sealPayload(metadata, 1, alice.privateKey, bob.publicKey);
    expect(
      await openPayload(jwe, metadata, { recipientKey: mallory.privateKey, senderKey: alice.publicKey, allowUnboundMetadata: false }),
    ).toEqual({
      ok: false,
      code: 'DMR_CRYPTO_DECRYPT_FAILED',
      errors: [{ path: 'payload', message: 'cannot be decrypted with this agent key' }],
    });
    expect(
      await openPayload(jwe, metadata, { recipientKey: bob.privateKey, senderKey: mallory.publicKey, allowUnboundMetadata: false }),
    ).toEqual({
      ok: false,
      code: 'DMR_CRYPTO_SIGNATURE_INVALID',
      errors: [{ path: 'payload', message: "signature does not verify with the sender's key" }],
    });
  });
});

describe('the jose fallback keeps the algorithm rules', () => {
  const rsaKey = () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateKey = importPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    return { privateKey, publicKey: importPublicKey(publicPemOf(privateKey)) };
  };
  const [sender, recipient] = [rsaKey(), rsaKey()];
  const claims = new TextEncoder().encode(JSON.stringify({ ...metadata, data: { x: 1 } }));
  const options = { recipientKey: recipient.privateKey, senderKey: sender.publicKey, allowUnboundMetadata: false };

  // an extra header member sends both the JWE and the JWS to jose
  const signed = (alg: string) =>
    new CompactSign(claims).setProtectedHeader({ alg, kid: 'agent-a', 'x-note': '1' }).sign(sender.privateKey.key);
  const sealed = async (jws: string, enc = 'A256GCM') =>
    new CompactEncrypt(new TextEncoder().encode(jws))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc, cty: 'JWT', 'x-note': '1' })
      .encrypt(recipient.publicKey.key);

  it('opens through jose what the fast path hands over', async () => {
    expect(await openPayload(await sealed(await signed('RS256')), metadata, options)).toEqual({ ok: true, value: { x: 1 } });
  });

  it('refuses in jose a content encryption and a signature algorithm DMR does not accept', async () => {
    expect(await openPayload(await sealed(await signed('RS256'), 'A128GCM'), metadata, options)).toMatchObject({
      ok: false,
      code: 'DMR_CRYPTO_DECRYPT_FAILED',
    });
    expect(await openPayload(await sealed(await signed('RS512')), metadata, options)).toMatchObject({
      ok: false,
      code: 'DMR_CRYPTO_SIGNATURE_INVALID',
    });
  });
});
