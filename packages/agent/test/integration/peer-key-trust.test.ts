/**
 * Issue 15 finding 4: end-to-end encryption must not trust keys the relay distributes. A MALICIOUS RELAY (the socket.io
 * test peer, standing in for a compromised dmr-server: a real one cannot be made to lie) swaps agent B's key for
 * Mallory's in a full list and in a partial list, and forges a message "from B" signed with Mallory's key. Agent A,
 * over real sockets, must refuse to encrypt to the swapped key (502 DMR_CRYPTO_PEER_KEY_UNTRUSTED, nothing emitted)
 * and refuse the forged message (ack DMR_CRYPTO_PEER_KEY_UNTRUSTED, nothing posted to its endpoint).
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import {
  type AgentInfo,
  importPrivateKey,
  importPublicKey,
  openPayload,
  sealPayload,
  type V1MessageBody,
  type WireMessage,
} from '@dmr/shared';
import { selfSignedAgentCertificate } from '@dmr/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeys, type TestKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { agentCertificate } from '../helpers/peer-ca.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

const BARE_AGENT = randomUUID();

describe('against a stand-in malicious relay (TestDmrServer): peer key trust', () => {
  let relay: TestDmrServer;
  let receiver: Receiver;
  let a: AgentFixture;
  let idB: string;
  let keysB: TestKeys;
  let mallory: TestKeys;
  let entryA: AgentInfo;

  const entry = (id: string, authenticationCertificate: string): AgentInfo => {
    const now = new Date().toISOString();
    return { id, name: id, authenticationCertificate, createdAt: now, updatedAt: now };
  };

  const post = async (body: V1MessageBody) => {
    const response = await a.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: body });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };

  /** A wire message "from B" to A, sealed with `senderPrivatePem`. */
  async function fromB(senderPrivatePem: string): Promise<WireMessage> {
    const body = v1Message(a.id);
    const metadata = { id: body.id, senderId: idB, recipientId: a.id, type: body.type, timestamp: body.timestamp };
    const payload = await sealPayload(metadata, body.payload, importPrivateKey(senderPrivatePem), importPublicKey(a.keys.publicPem));
    return { ...metadata, payload };
  }

  /** Sends a list from the relay and waits until A has applied it (A logs every list it applies). */
  async function relaySends(send: () => void): Promise<void> {
    const applied = () => a.logLines.filter((line) => line.msg === 'agent list applied').length;
    const before = applied();
    send();
    await waitFor('the list applied', () => applied() > before);
  }

  /** True when A logged that it refused B's entry. */
  const refusedB = () => a.logLines.some((line) => line.msg === 'skipped an agent whose key cannot be used' && line.agentId === idB);

  beforeEach(async () => {
    idB = randomUUID();
    keysB = generateKeys('ec');
    mallory = generateKeys('ec');
    const keysA = generateKeys('ec');
    const idA = randomUUID();
    receiver = await Receiver.start();
    relay = await TestDmrServer.start([
      { id: idA, publicPem: keysA.publicPem },
      { id: idB, publicPem: keysB.publicPem },
    ]);
    entryA = entry(idA, await agentCertificate(idA, keysA.publicPem));
    a = makeAgent({ id: idA, keys: keysA, serverUrl: relay.url, endpointUrl: receiver.url });
    await a.agent.start();
    await waitUntilReady(a.agent);
    // control: with B's real certificate both directions work, so the refusals below are about the swapped key
    expect((await post(v1Message(idB))).status).toBe(202);
    expect(await relay.deliver(a.id, await fromB(keysB.privatePem))).toEqual({ status: 'ok' });
    expect(receiver.requests).toHaveLength(1);
  });

  afterEach(async () => {
    await a.agent.stop();
    await relay.close();
    await receiver.close();
  });

  /** Asserts that a send to B is refused with 502 DMR_CRYPTO_PEER_KEY_UNTRUSTED and that nothing reached the relay. */
  async function expectSendRefused(): Promise<void> {
    const body = v1Message(idB);
    const answer = await post(body);
    const emitted = relay.received.filter((message) => message.id === body.id);
    // on a vulnerable agent the relay now holds a payload Mallory can open: show it, so a failure says why
    const readable = await Promise.all(
      emitted.map(async (message) => (await openPayload(message.payload, message, openAsMallory(a.keys))).ok),
    );
    expect({ status: answer.status, code: answer.body.code, emitted: emitted.length, readableByMallory: readable }).toEqual({
      status: 502,
      code: 'DMR_CRYPTO_PEER_KEY_UNTRUSTED',
      emitted: 0,
      readableByMallory: [],
    });
    expect(String(answer.body.message)).toContain(idB);
  }

  /** What Mallory, holding the swapped key, needs to open what A sends to "B" and check A's signature. */
  const openAsMallory = (senderKeys: TestKeys) => ({
    recipientKey: importPrivateKey(mallory.privatePem),
    senderKey: importPublicKey(senderKeys.publicPem),
    allowUnboundMetadata: false,
  });

  it("refuses to encrypt to B when a full list swaps B's key for a bare key", async () => {
    await relaySends(() => relay.sendFullList([entryA, entry(idB, mallory.publicPem)]));
    await expectSendRefused();
    expect(refusedB()).toBe(true);
  });

  it("refuses to encrypt to B when a partial list swaps B's key for a self-signed certificate naming B", async () => {
    const forged = await selfSignedAgentCertificate(idB, createPublicKey(mallory.publicPem));
    await relaySends(() => relay.sendPartialList([entry(idB, forged)]));
    await expectSendRefused();
    expect(refusedB()).toBe(true);
  });

  it("refuses a message forged as B's after the relay swapped B's key, and posts nothing", async () => {
    await relaySends(() => relay.sendPartialList([entry(idB, mallory.publicPem)]));
    const ack = await relay.deliver(a.id, await fromB(mallory.privatePem));

    expect(ack).toMatchObject({ status: 'error', errors: [{ type: 'DECRYPTION_FAILED', code: 'DMR_CRYPTO_PEER_KEY_UNTRUSTED' }] });
    expect(receiver.requests).toHaveLength(1); // the control message of beforeEach only
  });

  it("refuses a message signed by a key that is not B's certified key, while B's certificate stands", async () => {
    const ack = await relay.deliver(a.id, await fromB(mallory.privatePem));
    expect(ack).toMatchObject({ status: 'error', errors: [{ type: 'DECRYPTION_FAILED', code: 'DMR_CRYPTO_SIGNATURE_INVALID' }] });
    expect(receiver.requests).toHaveLength(1);
  });

  it('trusts B again once the list carries a certificate from the CA for it', async () => {
    await relaySends(() => relay.sendFullList([entryA, entry(idB, mallory.publicPem)]));
    expect((await post(v1Message(idB))).status).toBe(502);
    relay.sendPartialList([entry(idB, await agentCertificate(idB, keysB.publicPem))]);
    await waitFor('B trusted again', async () => (await post(v1Message(idB))).status === 202);
  });
});

describe('against a stand-in malicious relay (TestDmrServer): DMR_ALLOW_UNVERIFIED_PEER_KEYS=true (local experiments only)', () => {
  it('warns at start and then encrypts to any key the relay sends', async () => {
    const keys = generateKeys('ec');
    const id = randomUUID();
    const receiver = await Receiver.start();
    const relay = await TestDmrServer.start([{ id, publicPem: keys.publicPem }]);
    const fixture = makeAgent({
      id,
      keys,
      serverUrl: relay.url,
      endpointUrl: receiver.url,
      env: { DMR_ALLOW_UNVERIFIED_PEER_KEYS: 'true' },
    });
    try {
      await fixture.agent.start();
      await waitUntilReady(fixture.agent);
      const warning = fixture.logLines.find((line) => line.peerKeyTrust === 'unverified');
      expect(warning).toMatchObject({ level: 'warn' });
      expect(String(warning?.msg)).toContain('ANY key');
      const now = new Date().toISOString();
      const bare = {
        id: BARE_AGENT,
        name: 'bare',
        authenticationCertificate: generateKeys('ec').publicPem,
        createdAt: now,
        updatedAt: now,
      };
      relay.sendPartialList([bare]);
      await waitFor('bare key used', async () => {
        const response = await fixture.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(BARE_AGENT) });
        return response.statusCode === 202;
      });
    } finally {
      await fixture.agent.stop();
      await relay.close();
      await receiver.close();
    }
  });
});
