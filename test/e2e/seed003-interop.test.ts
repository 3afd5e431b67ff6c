// Issue 16 acceptance: seed 003's agents and server and ours relay to each other in every direction over real sockets
// and a real RabbitMQ, and nothing is lost behind either server. Seed 003's code is not on this machine: "their agent"
// and "their server" are STAND-INS (test/support/seed003/) reproducing the wire formats and behaviours the issue
// describes (jose RSA-OAEP + `{data}`-only RS256, `receivedAt`, `<id>` queues, two ack error types, unknown types
// acked away). Our server and agents are the real ones, in process, in plaintext development mode as in the issue.
import { randomUUID } from 'node:crypto';
import { agentDeadLetterQueueName, agentQueueName, REASON_CODE_HEADER, REASON_HEADER } from '@dmr/shared';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgentWithToken } from '../support/raw-agent.js';
import { makeSeed003Fixtures, type Seed003Keys, seed003Keys } from '../support/seed003/fixtures.js';
import { Seed003Agent } from '../support/seed003/seed003-agent.js';
import { Seed003Server, seed003DeadLetterQueue } from '../support/seed003/seed003-server.js';

/** A seed-003 agent: its id and RSA keys; the registry lists its bare public key, as seed 003 registers agents. */
interface Theirs {
  readonly id: string;
  readonly keys: Seed003Keys;
}

function theirs(): Theirs {
  return { id: randomUUID(), keys: seed003Keys() };
}

const TIMEOUT_MS = 15_000;

describe('seed-003 interop (their agent and server are stand-ins)', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let sink: Receiver;
  const stops: Array<() => Promise<void> | void> = [];
  // ours: O1 and O2 (RSA, certificates from the DMR CA); O2 announces jwe:RSA-OAEP-256
  let o1: Identity;
  let o2: Identity;
  // theirs: T1 and T2 (legacy: bare keys, in DMR_LEGACY_AGENT_IDS); T3 is a seed-003 agent whose key the operator
  // certified but which is NOT marked legacy on our agents; T2 is wrongly listed as announcing jwe:RSA-OAEP-256
  let t1: Theirs;
  let t2: Theirs;
  let t3: Theirs;
  let t3Certificate: Identity;

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });

  afterAll(async () => {
    await rabbit.cleanup();
  });

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await sink.close();
    registry.remove();
  });

  /** Fresh identities, a registry listing all of them and a fresh sink (every endpoint posts to it). */
  async function world(): Promise<void> {
    [o1, o2] = [await makeIdentity('rsa'), await makeIdentity('rsa')];
    [t1, t2] = [theirs(), theirs()];
    // a certificate from the DMR CA for T3's key (makeIdentity issues one for its own key: reuse its key pair)
    t3Certificate = await makeIdentity('rsa');
    t3 = { id: t3Certificate.id, keys: { privatePem: t3Certificate.privatePem, publicPem: t3Certificate.publicPem } };
    const now = new Date().toISOString();
    const entry = (id: string, pem: string, capabilities?: string[]) => ({
      id,
      name: id,
      authentication_certificate: pem,
      created_at: now,
      updated_at: now,
      ...(capabilities ? { capabilities } : {}),
    });
    registry = new RegistryFile([]);
    registry.writeRaw(
      JSON.stringify({
        response: [
          entry(o1.id, o1.certificatePem),
          entry(o2.id, o2.certificatePem, ['jwe:RSA-OAEP-256']),
          entry(t1.id, t1.keys.publicPem),
          entry(t2.id, t2.keys.publicPem, ['jwe:RSA-OAEP-256']),
          entry(t3.id, t3Certificate.certificatePem),
        ],
      }),
    );
    sink = await new Receiver().start();
  }

  /** Our real dmr-server; it accepts the seed-003 agents' tokens (no aud/jti) for the ids marked legacy. */
  async function ourServer(): Promise<string> {
    const legacy = [t1.id, t2.id, t3.id].join(',');
    const running = await startServer(serverEnv(rabbit, registry.url, { DMR_LEGACY_AGENT_IDS: legacy, RABBITMQ_DELIVERY_LIMIT: '3' }), {
      plaintext: true,
    });
    stops.push(() => running.server.stop());
    return running.url;
  }

  async function theirServer(): Promise<Seed003Server> {
    const server = await Seed003Server.start({ amqpUrl: rabbit.amqpUrl, registryPath: registry.path, deliveryLimit: 3 });
    stops.push(() => server.close());
    return server;
  }

  /** Our real dmr-agent with the default configuration plus (unless `isDefault`) the seed-003 agents T1 and T2 marked legacy. */
  async function ourAgent(identity: Identity, serverUrl: string, isDefault = false): Promise<RunningAgent> {
    const legacy: Record<string, string> = isDefault ? {} : { DMR_LEGACY_AGENT_IDS: `${t1.id},${t2.id}` };
    const running = await startAgent(identity, serverUrl, sink.url, { ...legacy, OUTGOING_MESSAGE_RETRIES: '1' });
    stops.push(() => running.agent.stop());
    return running;
  }

  async function theirAgent(agent: Theirs, serverUrl: string): Promise<Seed003Agent> {
    const connected = await Seed003Agent.connect(agent.id, agent.keys, serverUrl, sink.url);
    stops.push(() => connected.close());
    return connected;
  }

  /** Waits until the sink got `body` from `senderId`, exactly once. */
  async function expectDelivered(body: ReturnType<typeof v1Body>, senderId: string): Promise<void> {
    await waitUntil(() => sink.countOf(body.id) > 0, TIMEOUT_MS, `delivery of ${body.id}`);
    expect(sink.received.filter((message) => message.id === body.id)).toEqual([{ ...body, senderId }]);
  }

  describe('through our server (real dmr-server)', () => {
    it('takes the exact seed-003 fixtures: their handshake token (no aud, no jti) and their {data}-only RSA-OAEP message', async () => {
      await world();
      const url = await ourServer();
      await ourAgent(o1, url);
      const body = v1Body(o1.id);
      const fixtures = await makeSeed003Fixtures(t1.id, o1.id, body.payload, {
        sender: t1.keys,
        recipient: { privatePem: o1.privatePem, publicPem: o1.publicPem },
      });
      // the shapes seed 003's code produces, as generated now with its library calls
      expect(decodeProtectedHeader(fixtures.token)).toEqual({ alg: 'RS256', kid: t1.id });
      expect(Object.keys(decodeJwt(fixtures.token)).sort()).toEqual(['exp', 'iat', 'sub']);
      expect(decodeProtectedHeader(fixtures.sent.payload)).toEqual({ alg: 'RSA-OAEP', enc: 'A256GCM' });
      expect(Object.keys(fixtures.delivered).sort()).toEqual([
        'id',
        'payload',
        'receivedAt',
        'recipientId',
        'senderId',
        'timestamp',
        'type',
      ]);

      const raw = await connectRawAgentWithToken(
        url,
        { id: t1.id, privatePem: t1.keys.privatePem, publicPem: t1.keys.publicPem, certificatePem: '' },
        fixtures.token,
      );
      stops.push(() => raw.close());
      expect(await raw.send(fixtures.sent)).toEqual({ status: 'ok' });
      const delivered = { ...body, id: fixtures.sent.id, timestamp: fixtures.sent.timestamp };
      await expectDelivered(delivered, t1.id);
    });

    it('delivers in all four directions: theirs→theirs, ours→ours, theirs→ours (legacy sender), ours→theirs (no flag)', async () => {
      await world();
      const url = await ourServer();
      const [a1, a2] = [await ourAgent(o1, url), await ourAgent(o2, url)];
      const [s1, s2] = [await theirAgent(t1, url), await theirAgent(t2, url)];

      const theirToTheir = v1Body(t2.id);
      expect(await s1.send(theirToTheir)).toEqual({ status: 'ok' });
      const ourToOur = v1Body(o2.id);
      expect(await postMessage(a1.url, ourToOur)).toMatchObject({ status: 202 });
      const theirToOur = v1Body(o1.id);
      expect(await s2.send(theirToOur)).toEqual({ status: 'ok' });
      const ourToTheir = v1Body(t1.id);
      expect(await postMessage(a2.url, ourToTheir)).toMatchObject({ status: 202 });

      await expectDelivered(theirToTheir, t1.id);
      await expectDelivered(ourToOur, o1.id);
      await expectDelivered(theirToOur, t2.id);
      await expectDelivered(ourToTheir, o2.id);
      // the unbound message was counted and logged (metadata only) by the recipient
      const metrics = await (await fetch(`${a1.url}/metrics`)).text();
      expect(metrics).toContain('dmr_unbound_messages_accepted_total{basis="legacy-sender"} 1');
      expect(a1.logs.find({ msgId: theirToOur.id, basis: 'legacy-sender', senderId: t2.id })).toHaveLength(1);
      // nothing waits or was dead-lettered anywhere
      for (const id of [o1.id, o2.id, t1.id, t2.id]) {
        expect(await queueDepth(rabbit, agentQueueName(id))).toBe(0);
        expect(await queueDepth(rabbit, agentDeadLetterQueueName(id))).toBe(0);
      }
      expect(s1.acks.concat(s2.acks).every((entry) => entry.ack.status === 'ok')).toBe(true);
    });

    it('dead-letters with a visible reason: a {data}-only message of a sender not marked legacy, and a seed-003 DECRYPTION_FAILED at once', async () => {
      await world();
      const url = await ourServer();
      const a1 = await ourAgent(o1, url);
      const s2 = await theirAgent(t2, url);
      const s3 = await theirAgent(t3, url);

      const unbound = v1Body(o1.id);
      expect(await s3.send(unbound)).toEqual({ status: 'ok' });
      const [deadUnbound] = await peekQueue(rabbit, agentDeadLetterQueueName(o1.id), 1, TIMEOUT_MS);
      expect(JSON.parse(deadUnbound?.body ?? '{}').id).toBe(unbound.id);
      expect(deadUnbound?.headers[REASON_CODE_HEADER]).toBe('DMR_CRYPTO_UNBOUND_METADATA');
      expect(String(deadUnbound?.headers[REASON_HEADER])).toContain('DMR_LEGACY_AGENT_IDS');

      // T2 is wrongly listed as opening RSA-OAEP-256: it cannot, answers DECRYPTION_FAILED, and that is final at once
      const undecryptable = v1Body(t2.id);
      expect(await postMessage(a1.url, undecryptable)).toMatchObject({ status: 202 });
      const [deadCrypto] = await peekQueue(rabbit, agentDeadLetterQueueName(t2.id), 1, TIMEOUT_MS);
      expect(JSON.parse(deadCrypto?.body ?? '{}').id).toBe(undecryptable.id);
      expect(deadCrypto?.headers[REASON_CODE_HEADER]).toBe('DMR_CRYPTO_DECRYPT_FAILED');
      expect(String(deadCrypto?.headers[REASON_HEADER])).toMatch(/^DECRYPTION_FAILED: /);
      expect(s2.acks.filter((entry) => entry.id === undecryptable.id)).toHaveLength(1);
      expect(sink.received).toEqual([]);
    });
  });

  it('reaches a seed-003 agent from our agent in its default configuration (no flag at all), through either server', async () => {
    await world();
    const [ours, their] = [await ourServer(), await theirServer()];
    const viaOurs = await ourAgent(o1, ours, true);
    const viaTheirs = await ourAgent(o2, their.url, true);
    // T3 (its key certified by the DMR CA, not marked legacy anywhere on our agents) on both servers
    await theirAgent(t3, ours);
    await theirAgent(t3, their.url);

    const first = v1Body(t3.id);
    expect(await postMessage(viaOurs.url, first)).toMatchObject({ status: 202 });
    const second = v1Body(t3.id);
    expect(await postMessage(viaTheirs.url, second)).toMatchObject({ status: 202 });
    await expectDelivered(first, o1.id);
    await expectDelivered(second, o2.id);
  });

  describe('through their server (stand-in)', () => {
    it('delivers in all four directions: theirs→theirs, ours→ours (receivedAt added), theirs→ours (legacy sender), ours→theirs', async () => {
      await world();
      const server = await theirServer();
      const [a1, a2] = [await ourAgent(o1, server.url), await ourAgent(o2, server.url)];
      const [s1, s2] = [await theirAgent(t1, server.url), await theirAgent(t2, server.url)];

      const theirToTheir = v1Body(t2.id);
      expect(await s1.send(theirToTheir)).toEqual({ status: 'ok' });
      const ourToOur = v1Body(o2.id);
      expect(await postMessage(a1.url, ourToOur)).toMatchObject({ status: 202 });
      const theirToOur = v1Body(o1.id);
      expect(await s2.send(theirToOur)).toEqual({ status: 'ok' });
      // T2's (wrong) capability does not reach our agents through their server: it does not know the field
      const ourToTheir = v1Body(t2.id);
      expect(await postMessage(a2.url, ourToTheir)).toMatchObject({ status: 202 });

      await expectDelivered(theirToTheir, t1.id);
      await expectDelivered(ourToOur, o1.id);
      await expectDelivered(theirToOur, t2.id);
      await expectDelivered(ourToTheir, o2.id);
      await waitUntil(() => server.outcomes.length >= 4, TIMEOUT_MS, 'their server settled all four');
      expect(server.outcomes.map((entry) => entry.outcome)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
      for (const id of [o1.id, o2.id, t1.id, t2.id]) expect(await queueDepth(rabbit, id)).toBe(0);
    });

    it('refuses a {data}-only message of a sender not marked legacy with a type their server dead-letters: visible, not lost', async () => {
      await world();
      const server = await theirServer();
      await ourAgent(o1, server.url);
      const s3 = await theirAgent(t3, server.url);

      const unbound = v1Body(o1.id);
      expect(await s3.send(unbound)).toEqual({ status: 'ok' });
      const [dead] = await peekQueue(rabbit, seed003DeadLetterQueue(o1.id), 1, TIMEOUT_MS);
      expect(JSON.parse(dead?.body ?? '{}').id).toBe(unbound.id);
      expect(dead?.headers['x-seed003-error-type']).toBe('DECRYPTION_FAILED');
      expect(String(dead?.headers['x-seed003-error-message'])).toContain('DMR_LEGACY_AGENT_IDS');
      expect(server.outcomesOf(unbound.id)).toEqual([
        { id: unbound.id, recipientId: o1.id, outcome: 'dead-lettered', errorType: 'DECRYPTION_FAILED' },
      ]);
      expect(server.outcomes.filter((entry) => entry.outcome === 'lost')).toEqual([]);
      expect(sink.received).toEqual([]);
    });

    it('has our endpoint failures retried by their server (DELIVERY_FAILED), never acked away', async () => {
      await world();
      const server = await theirServer();
      await ourAgent(o2, server.url);
      const s1 = await theirAgent(t1, server.url);
      sink.respondWith((attempt) => (attempt === 1 ? 503 : 200));

      const body = v1Body(o2.id);
      expect(await s1.send(body)).toEqual({ status: 'ok' });
      await expectDelivered(body, t1.id);
      await waitUntil(() => server.outcomesOf(body.id).some((entry) => entry.outcome === 'delivered'), TIMEOUT_MS, 'their server acked it');
      expect(server.outcomesOf(body.id).map((entry) => [entry.outcome, entry.errorType])).toEqual([
        ['retried', 'DELIVERY_FAILED'],
        ['delivered', undefined],
      ]);
    });
  });
});
