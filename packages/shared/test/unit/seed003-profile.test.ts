// Issue 16: the compatibility profile with seed 003's system at the level of pure functions: which RSA key wrapping
// we produce for whom, that a seed-003 agent (jose, key imported as PKCS#8 for RSA-OAEP) opens it, what an unbound
// payload reports, the inbound wire schema, and the delivery-ack vocabulary both servers act on.
import { generateKeyPairSync } from 'node:crypto';
import {
  AGENT_CAPABILITIES,
  CentOpsConfiguration,
  codeOfAckError,
  compileValidator,
  DeliveredWireSchema,
  deliveryErrorOf,
  type EnvelopeMetadata,
  ERROR_CATALOG,
  importPrivateKey,
  importPublicKey,
  isTransientCode,
  keyWrapFor,
  labelOfAckError,
  openEnvelope,
  pickWireFields,
  SEED003_ERROR_TYPES,
  sealPayload,
  type WireMessageBody,
} from '@dmr/shared';
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, decodeProtectedHeader, importPKCS8, importSPKI } from 'jose';
import { describe, expect, it } from 'vitest';

function rsaPair() {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privatePem, publicPem, privateKey: importPrivateKey(privatePem), publicKey: importPublicKey(publicPem) };
}

const metadata: EnvelopeMetadata = {
  id: 'msg-1',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  timestamp: '2024-01-15T10:30:00.000Z',
};
const data = { chat: { id: 'c1', created: '2024-01-15T10:00:00.000Z' }, messages: [{ content: 'secret words' }] };
const encoder = new TextEncoder();

describe('RSA key wrapping by recipient capability', () => {
  it('is RSA-OAEP unless the recipient announced jwe:RSA-OAEP-256; EC is always ECDH-ES+A256KW', () => {
    expect(keyWrapFor('rsa')).toBe('RSA-OAEP');
    expect(keyWrapFor('rsa', ['something-else'])).toBe('RSA-OAEP');
    expect(keyWrapFor('rsa', [AGENT_CAPABILITIES.rsaOaep256])).toBe('RSA-OAEP-256');
    expect(keyWrapFor('ec-p256', [AGENT_CAPABILITIES.rsaOaep256])).toBe('ECDH-ES+A256KW');
    expect(keyWrapFor('ec-p256')).toBe('ECDH-ES+A256KW');
  });

  it('our default seal opens the way a seed-003 agent opens it (PKCS#8 key imported for RSA-OAEP), and RSA-OAEP-256 does not', async () => {
    const sender = rsaPair();
    const recipient = rsaPair();
    const theirKey = await importPKCS8(recipient.privatePem, 'RSA-OAEP');
    const senderVerifyKey = await importSPKI(sender.publicPem, 'RS256');

    const jwe = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey);
    expect(decodeProtectedHeader(jwe).alg).toBe('RSA-OAEP');
    const { plaintext } = await compactDecrypt(jwe, theirKey);
    const { payload } = await compactVerify(new TextDecoder().decode(plaintext), senderVerifyKey);
    // seed 003 reads .data; the extra bound claims are ignored by it
    expect(JSON.parse(new TextDecoder().decode(payload)).data).toEqual(data);

    const strong = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey, {}, 'RSA-OAEP-256');
    expect(decodeProtectedHeader(strong).alg).toBe('RSA-OAEP-256');
    await expect(compactDecrypt(strong, theirKey)).rejects.toThrow();
    // and ours opens both
    const options = { recipientKey: recipient.privateKey, senderKey: sender.publicKey, allowUnboundMetadata: false };
    expect(await openEnvelope(jwe, metadata, options)).toEqual({ ok: true, value: { data, isBound: true } });
    expect(await openEnvelope(strong, metadata, options)).toEqual({ ok: true, value: { data, isBound: true } });
  });

  it('opens a seed-003 {data}-only payload only when allowed, and says it was unbound', async () => {
    const sender = rsaPair();
    const recipient = rsaPair();
    const jws = await new CompactSign(encoder.encode(JSON.stringify({ data })))
      .setProtectedHeader({ alg: 'RS256' })
      .sign(await importPKCS8(sender.privatePem, 'RS256'));
    const jwe = await new CompactEncrypt(encoder.encode(jws))
      .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256GCM' })
      .encrypt(await importSPKI(recipient.publicPem, 'RSA-OAEP'));
    const base = { recipientKey: recipient.privateKey, senderKey: sender.publicKey };
    const refused = await openEnvelope(jwe, metadata, { ...base, allowUnboundMetadata: false });
    expect(refused).toMatchObject({ ok: false, code: 'DMR_CRYPTO_UNBOUND_METADATA' });
    if (!refused.ok) expect(refused.errors[0]?.message).toContain('DMR_LEGACY_AGENT_IDS');
    expect(await openEnvelope(jwe, metadata, { ...base, allowUnboundMetadata: true })).toEqual({
      ok: true,
      value: { data, isBound: false },
    });
  });
});

describe('registry capabilities', () => {
  const check = compileValidator<CentOpsConfiguration>(CentOpsConfiguration);
  const entry = { id: 'agent-a', name: 'A', authentication_certificate: 'pem', created_at: 'x', updated_at: 'y' };

  it('are optional, a short list of short tokens', () => {
    expect(check({ response: [entry] }).ok).toBe(true);
    expect(check({ response: [{ ...entry, capabilities: [AGENT_CAPABILITIES.rsaOaep256, 'future:thing'] }] }).ok).toBe(true);
    expect(check({ response: [{ ...entry, capabilities: 'jwe:RSA-OAEP-256' }] }).ok).toBe(false);
    expect(check({ response: [{ ...entry, capabilities: ['has space'] }] }).ok).toBe(false);
    expect(check({ response: [{ ...entry, capabilities: Array.from({ length: 17 }, (_, i) => `c${i}`) }] }).ok).toBe(false);
  });
});

describe('delivered wire messages', () => {
  const check = compileValidator<WireMessageBody>(DeliveredWireSchema);
  const wire = {
    id: 'msg-1',
    timestamp: '2024-01-15T10:30:00.000Z',
    senderId: 'agent-a',
    recipientId: 'agent-b',
    type: 'ChatMessage',
    payload: 'a.b.c.d.e',
  };

  it("accept seed 003's receivedAt and fields a server adds, and the picked message carries none of them", () => {
    const delivered = { ...wire, receivedAt: '2024-01-15T10:30:01.000Z', traceId: 'x', nested: { a: 1 } };
    const checked = check(delivered);
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(pickWireFields(checked.value)).toEqual(wire);
  });

  it('still refuse a delivery whose own fields are wrong', () => {
    expect(check({ ...wire, receivedAt: 'now', senderId: 'bad id' }).ok).toBe(false);
    const { payload: _payload, ...noPayload } = wire;
    expect(check({ ...noPayload, receivedAt: 'now' }).ok).toBe(false);
  });
});

describe('delivery-ack errors', () => {
  it("carry seed 003's type by transience and the DMR code beside it", () => {
    expect(deliveryErrorOf('DMR_CRYPTO_UNBOUND_METADATA', 'why')).toEqual({
      type: 'DECRYPTION_FAILED',
      message: 'why',
      code: 'DMR_CRYPTO_UNBOUND_METADATA',
    });
    expect(deliveryErrorOf('DMR_DELIVERY_ENDPOINT_FAILED', 'down')).toEqual({
      type: 'DELIVERY_FAILED',
      message: 'down',
      code: 'DMR_DELIVERY_ENDPOINT_FAILED',
    });
    // every catalog code maps to the type seed 003's server treats the same way DMR does
    for (const code of Object.keys(ERROR_CATALOG) as Array<keyof typeof ERROR_CATALOG>) {
      const { type } = deliveryErrorOf(code, '');
      expect(type).toBe(ERROR_CATALOG[code].isTransient ? SEED003_ERROR_TYPES.transient : SEED003_ERROR_TYPES.permanent);
    }
  });

  it('are read by a DMR server: a catalog code first, else the type (older DMR agents, then seed 003), else unknown', () => {
    expect(codeOfAckError({ type: 'DECRYPTION_FAILED', code: 'DMR_DELIVERY_ENDPOINT_FAILED' })).toBe('DMR_DELIVERY_ENDPOINT_FAILED');
    expect(codeOfAckError({ type: 'DMR_CRYPTO_SIGNATURE_INVALID' })).toBe('DMR_CRYPTO_SIGNATURE_INVALID');
    expect(codeOfAckError({ type: 'DECRYPTION_FAILED' })).toBe('DMR_CRYPTO_DECRYPT_FAILED');
    expect(codeOfAckError({ type: 'DELIVERY_FAILED' })).toBe('DMR_DELIVERY_ENDPOINT_FAILED');
    // a code that is not in the catalog does not hide a meaningful type
    expect(codeOfAckError({ type: 'DECRYPTION_FAILED', code: 'DMR_MADE_UP' })).toBe('DMR_CRYPTO_DECRYPT_FAILED');
    expect(codeOfAckError({ type: 'SOMETHING_ELSE' })).toBe('DMR_DELIVERY_UNKNOWN_ERROR');
    expect(isTransientCode(codeOfAckError({ type: 'DECRYPTION_FAILED' }))).toBe(false);
    expect(isTransientCode(codeOfAckError({ type: 'DELIVERY_FAILED' }))).toBe(true);
    expect(isTransientCode(codeOfAckError({ type: 'SOMETHING_ELSE' }))).toBe(true);
    expect(labelOfAckError({ type: 'DECRYPTION_FAILED', code: 'DMR_CRYPTO_UNBOUND_METADATA' })).toBe('DMR_CRYPTO_UNBOUND_METADATA');
    expect(labelOfAckError({ type: 'DECRYPTION_FAILED' })).toBe('DECRYPTION_FAILED');
  });
});
