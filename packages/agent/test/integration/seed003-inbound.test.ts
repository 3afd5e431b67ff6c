/**
 * Issue 16: what a seed-003 server and seed-003 agents send reaches this agent, against the STAND-IN server
 * (TestDmrServer: a real Socket.IO peer playing the protocol, no RabbitMQ). The payloads are made with the jose calls
 * seed 003's agents make (`CompactSign` RS256 over `{data}`, `CompactEncrypt` RSA-OAEP / A256GCM); deliveries carry
 * the `receivedAt` seed 003's server adds. The same flows through real servers and RabbitMQ:
 * test/e2e/seed003-interop.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { type AgentInfo, importPrivateKey, importPublicKey, sealPayload, type V1MessageBody, type WireMessage } from '@dmr/shared';
import { CompactEncrypt, CompactSign, decodeProtectedHeader, importPKCS8, importSPKI } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeys, type TestKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { agentCertificate } from '../helpers/peer-ca.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

/** Seals `body` the way a seed-003 agent does: `{data}` signed RS256, in an RSA-OAEP / A256GCM JWE. */
async function sealAsSeed003(body: V1MessageBody, senderId: string, sender: TestKeys, recipient: TestKeys): Promise<WireMessage> {
  const encoder = new TextEncoder();
  const jws = await new CompactSign(encoder.encode(JSON.stringify({ data: body.payload })))
    .setProtectedHeader({ alg: 'RS256' })
    .sign(await importPKCS8(sender.privatePem, 'RS256'));
  const payload = await new CompactEncrypt(encoder.encode(jws))
    .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256GCM' })
    .encrypt(await importSPKI(recipient.publicPem, 'RSA-OAEP'));
  return { id: body.id, timestamp: body.timestamp, senderId, recipientId: body.recipientId, type: body.type, payload };
}

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('against a stand-in server (TestDmrServer): seed-003 deliveries and senders', () => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let recipient: AgentFixture;
  const legacyId = randomUUID();
  const certifiedId = randomUUID();
  let legacyKeys: TestKeys;
  let certifiedKeys: TestKeys;

  beforeEach(async () => {
    legacyKeys = generateKeys('rsa');
    certifiedKeys = generateKeys('rsa');
    const recipientKeys = generateKeys('rsa');
    const recipientId = randomUUID();
    receiver = await Receiver.start();
    server = await TestDmrServer.start([{ id: recipientId, publicPem: recipientKeys.publicPem }]);
    // a seed-003 agent as seed 003 registers it: a bare public key
    await server.putAgent(legacyId, legacyKeys.publicPem, legacyKeys.publicPem);
    // a seed-003 agent whose key the operator certified, but which is not marked legacy
    await server.putAgent(certifiedId, certifiedKeys.publicPem);
    recipient = makeAgent({
      id: recipientId,
      keys: recipientKeys,
      serverUrl: server.url,
      endpointUrl: receiver.url,
      env: { DMR_LEGACY_AGENT_IDS: legacyId, OUTGOING_MESSAGE_RETRIES: '1' },
    });
    await recipient.agent.start();
    await waitUntilReady(recipient.agent);
  });

  afterEach(async () => {
    await recipient.agent.stop();
    await server.close();
    await receiver.close();
  });

  it('delivers a {data}-only payload of a legacy sender with receivedAt, counts and logs it, and posts none of the extra fields', async () => {
    const body = v1Message(recipient.id);
    const wire = await sealAsSeed003(body, legacyId, legacyKeys, recipient.keys);
    const ack = await server.deliver(recipient.id, { ...wire, receivedAt: new Date().toISOString(), relayNote: { any: 'thing' } });

    expect(ack).toEqual({ status: 'ok' });
    expect(receiver.requests.map((request) => request.body)).toEqual([{ ...body, senderId: legacyId }]);
    const metrics = (await recipient.agent.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metricValue(metrics, 'dmr_unbound_messages_accepted_total', 'basis="legacy-sender"')).toBe(1);
    const logged = recipient.logLines.filter((line) => String(line.msg).startsWith('accepted a message whose signature does not cover'));
    expect(logged).toEqual([
      expect.objectContaining({ msgId: body.id, senderId: legacyId, recipientId: recipient.id, basis: 'legacy-sender' }),
    ]);
    expect(JSON.stringify(recipient.logLines)).not.toContain(body.payload.messages[0]?.content);
  });

  it('refuses a {data}-only payload of a sender not marked legacy with a type both servers act on, and posts nothing', async () => {
    const wire = await sealAsSeed003(v1Message(recipient.id), certifiedId, certifiedKeys, recipient.keys);
    const ack = await server.deliver(recipient.id, { ...wire, receivedAt: new Date().toISOString() });

    expect(ack).toMatchObject({ status: 'error', errors: [{ type: 'DECRYPTION_FAILED', code: 'DMR_CRYPTO_UNBOUND_METADATA' }] });
    expect(ack.errors?.[0]?.message).toContain('DMR_LEGACY_AGENT_IDS');
    expect(receiver.requests).toHaveLength(0);
    const metrics = (await recipient.agent.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).not.toMatch(/dmr_unbound_messages_accepted_total\{basis="[a-z-]+"\} [1-9]/);
  });

  it('answers an endpoint failure with DELIVERY_FAILED beside the DMR code (a seed-003 server retries it)', async () => {
    receiver.respond = () => 500;
    const wire = await sealAsSeed003(v1Message(recipient.id), legacyId, legacyKeys, recipient.keys);
    const ack = await server.deliver(recipient.id, { ...wire, receivedAt: new Date().toISOString() });
    expect(ack).toMatchObject({ status: 'error', errors: [{ type: 'DELIVERY_FAILED', code: 'DMR_DELIVERY_ENDPOINT_FAILED' }] });
  });

  it('accepts a bound payload with receivedAt, and its duplicate check ignores what the relay added', async () => {
    const body = v1Message(recipient.id);
    const metadata = { id: body.id, senderId: certifiedId, recipientId: recipient.id, type: body.type, timestamp: body.timestamp };
    const sealed = await sealPayload(
      metadata,
      body.payload,
      importPrivateKey(certifiedKeys.privatePem),
      importPublicKey(recipient.keys.publicPem),
    );
    const first = await server.deliver(recipient.id, { ...metadata, payload: sealed, receivedAt: '2024-01-01T00:00:00.000Z' });
    const second = await server.deliver(recipient.id, { ...metadata, payload: sealed, receivedAt: '2024-01-01T00:00:09.000Z', hop: 2 });
    expect([first, second]).toEqual([{ status: 'ok' }, { status: 'ok' }]);
    expect(receiver.requests.map((request) => request.body)).toEqual([{ ...body, senderId: certifiedId }]);
  });

  it('encrypts to an RSA recipient with RSA-OAEP, and with RSA-OAEP-256 once its entry announces jwe:RSA-OAEP-256', async () => {
    const now = new Date().toISOString();
    const entryOf = async (capabilities?: string[]): Promise<AgentInfo> => ({
      id: certifiedId,
      name: 'certified',
      authenticationCertificate: await agentCertificate(certifiedId, certifiedKeys.publicPem),
      createdAt: now,
      updatedAt: now,
      ...(capabilities ? { capabilities } : {}),
    });
    const send = async () => {
      const before = server.received.length;
      const response = await recipient.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(certifiedId) });
      expect(response.statusCode).toBe(202);
      return decodeProtectedHeader((server.received[before] as WireMessage).payload).alg;
    };
    expect(await send()).toBe('RSA-OAEP');
    server.sendPartialList([await entryOf(['jwe:RSA-OAEP-256'])]);
    await waitFor('capability applied', async () => (await send()) === 'RSA-OAEP-256');
    server.sendPartialList([await entryOf()]);
    await waitFor('capability withdrawn', async () => (await send()) === 'RSA-OAEP');
  });
});
