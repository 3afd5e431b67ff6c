import { generateKeyPairSync } from 'node:crypto';
import {
  createAgentToken,
  type EnvelopeMetadata,
  importPrivateKey,
  importPublicKey,
  openPayload,
  publicPemOf,
  sealPayload,
  verifyAgentToken,
} from '@dmr/shared';
import { CompactEncrypt, CompactSign, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';

function makeKey(kind: 'rsa' | 'ec') {
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const privateKey = importPrivateKey(privatePem);
  return { privateKey, publicKey: importPublicKey(publicPemOf(privateKey)) };
}

const metadata: EnvelopeMetadata = {
  id: 'msg-1',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  timestamp: '2024-01-15T10:30:00.000Z',
};
const data = { chat: { id: 'c1', created: '2024-01-15T10:00:00.000Z' }, messages: [{ content: 'secret words' }] };

describe.each(['rsa', 'ec'] as const)('envelope with %s keys', (kind) => {
  const sender = makeKey(kind);
  const recipient = makeKey(kind);
  const openOptions = { recipientKey: recipient.privateKey, senderKey: sender.publicKey, allowUnboundMetadata: false };

  it('round-trips the payload and hides the content', async () => {
    const jwe = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey);
    expect(jwe.split('.')).toHaveLength(5);
    expect(jwe).not.toContain('secret');
    expect(decodeProtectedHeader(jwe).alg).toBe(kind === 'rsa' ? 'RSA-OAEP' : 'ECDH-ES+A256KW');
    const opened = await openPayload(jwe, metadata, openOptions);
    expect(opened).toEqual({ ok: true, value: data });
  });

  it('detects metadata changed after sealing', async () => {
    const jwe = await sealPayload(metadata, data, sender.privateKey, recipient.publicKey);
    const opened = await openPayload(jwe, { ...metadata, recipientId: 'agent-c', timestamp: '2030-01-01T00:00:00Z' }, openOptions);
    expect(opened.ok).toBe(false);
    if (!opened.ok) {
      expect(opened.code).toBe('DMR_CRYPTO_METADATA_MISMATCH');
      expect(opened.errors.map((e) => e.path).sort()).toEqual(['recipientId', 'timestamp']);
    }
  });

  it('refuses a payload signed by someone else', async () => {
    const impostor = makeKey(kind);
    const jwe = await sealPayload(metadata, data, impostor.privateKey, recipient.publicKey);
    const opened = await openPayload(jwe, metadata, openOptions);
    expect(opened.ok ? 'ok' : opened.code).toBe('DMR_CRYPTO_SIGNATURE_INVALID');
  });

  it('refuses a payload encrypted to another agent', async () => {
    const other = makeKey(kind);
    const jwe = await sealPayload(metadata, data, sender.privateKey, other.publicKey);
    const opened = await openPayload(jwe, metadata, openOptions);
    expect(opened.ok ? 'ok' : opened.code).toBe('DMR_CRYPTO_DECRYPT_FAILED');
  });
});

describe('unbound (seed 003 style) payloads', () => {
  const sender = makeKey('rsa');
  const recipient = makeKey('rsa');

  async function sealUnbound(): Promise<string> {
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify({ data })))
      .setProtectedHeader({ alg: 'RS256' })
      .sign(sender.privateKey.key);
    return new CompactEncrypt(new TextEncoder().encode(jws))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })
      .encrypt(recipient.publicKey.key);
  }

  it('are refused by default and accepted when allowed', async () => {
    const jwe = await sealUnbound();
    const base = { recipientKey: recipient.privateKey, senderKey: sender.publicKey };
    const refused = await openPayload(jwe, metadata, { ...base, allowUnboundMetadata: false });
    expect(refused.ok ? 'ok' : refused.code).toBe('DMR_CRYPTO_UNBOUND_METADATA');
    const accepted = await openPayload(jwe, metadata, { ...base, allowUnboundMetadata: true });
    expect(accepted).toEqual({ ok: true, value: data });
  });
});

describe('agent handshake token', () => {
  const agent = makeKey('ec');
  const keyOf = (id: string) => (id === 'agent-a' ? agent.publicKey : undefined);

  it('verifies a fresh token and binds the agent id', async () => {
    const token = await createAgentToken('agent-a', agent.privateKey);
    expect(decodeProtectedHeader(token).kid).toBe('agent-a');
    expect(await verifyAgentToken(token, keyOf)).toMatchObject({ ok: true, value: { agentId: 'agent-a' } });
  });

  it('refuses missing, unknown-agent and wrong-key tokens', async () => {
    expect((await verifyAgentToken(undefined, keyOf)).ok ? 'ok' : 'refused').toBe('refused');
    const unknown = await createAgentToken('agent-x', agent.privateKey);
    const unknownResult = await verifyAgentToken(unknown, keyOf);
    expect(unknownResult.ok ? 'ok' : unknownResult.code).toBe('DMR_AUTH_UNKNOWN_AGENT');
    const forged = await createAgentToken('agent-a', makeKey('ec').privateKey);
    const forgedResult = await verifyAgentToken(forged, keyOf);
    expect(forgedResult.ok ? 'ok' : forgedResult.code).toBe('DMR_AUTH_TOKEN_INVALID');
  });
});

describe('key import', () => {
  it('refuses short RSA keys and other curves', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => importPrivateKey(short)).toThrow(/too short/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => importPublicKey(p384)).toThrow(/unsupported/);
  });

  it('accepts PEM with escaped newlines as env vars carry it', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(importPrivateKey(pem.replace(/\n/g, '\\n')).kind).toBe('ec-p256');
  });
});

describe('agent identity in a certificate', () => {
  it('reads exactly one urn:dmr:agent URI from the SAN', async () => {
    const { agentIdFromSubjectAltName } = await import('@dmr/shared');
    expect(agentIdFromSubjectAltName('DNS:agent.example.ee, URI:urn:dmr:agent:agent-42')).toBe('agent-42');
    // Node quotes values with commas; a quoted comma never splits off a second identity
    expect(agentIdFromSubjectAltName('URI:"urn:dmr:agent:a, URI:urn:dmr:agent:admin"')).toBeUndefined();
    expect(agentIdFromSubjectAltName('URI:urn:dmr:agent:a, URI:urn:dmr:agent:b')).toBeUndefined();
    expect(agentIdFromSubjectAltName('DNS:x, URI:https://example.ee')).toBeUndefined();
  });
});
