/**
 * Backpressure of POST /v1/messages: a real agent with a small DMR_MAX_IN_FLIGHT_SENDS.
 *
 * Against a stand-in server (TestDmrServer, a Socket.IO protocol peer with no RabbitMQ) that HOLDS its acks until
 * the test lets them go, which a real server cannot be made to do on cue: above the window the agent answers a
 * fast 503 DMR_LINK_BACKPRESSURE with Retry-After and sends nothing for it.
 *
 * Against the REAL dmr-server and RabbitMQ: under sustained overload every message the agent accepted (202) is in
 * the recipient's queue exactly once, and none it refused (503) is.
 */
import { randomUUID } from 'node:crypto';
import { agentDeadLetterQueueName, agentQueueName, type SendAck } from '@dmr/shared';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeIdentity, RegistryFile, serverEnv, startAgent, startServer } from '../../../../test/support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { generateKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, outcomeLines, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

const WINDOW = 3;

/** Keeps the event loop busy for `ms` (what a CPU-bound agent's loop looks like to its timers). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe('against a stand-in server (TestDmrServer) that holds its acks: outbound backpressure', () => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let sender: AgentFixture;
  let recipientId: string;
  let heldAcks: Array<() => void>;

  beforeEach(async () => {
    recipientId = randomUUID();
    const senderId = randomUUID();
    const senderKeys = generateKeys('ec');
    receiver = await Receiver.start();
    server = await TestDmrServer.start([
      { id: senderId, publicPem: senderKeys.publicPem },
      { id: recipientId, publicPem: generateKeys('ec').publicPem },
    ]);
    heldAcks = [];
    server.ackPolicy = () => new Promise<SendAck>((resolve) => heldAcks.push(() => resolve({ status: 'ok' })));
    sender = makeAgent({
      id: senderId,
      keys: senderKeys,
      serverUrl: server.url,
      endpointUrl: receiver.url,
      env: { DMR_MAX_IN_FLIGHT_SENDS: String(WINDOW) },
    });
    await sender.agent.start();
    await waitUntilReady(sender.agent);
  });

  afterEach(async () => {
    for (const release of heldAcks.splice(0)) release();
    await sender.agent.stop();
    await server.close();
    await receiver.close();
  });

  const post = (id: string) => sender.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(recipientId, id) });

  it('answers 503 DMR_LINK_BACKPRESSURE with Retry-After above the window at once, and sends nothing for it', async () => {
    const ids = Array.from({ length: WINDOW + 4 }, () => randomUUID());
    const responses = ids.map((id) => post(id));
    await waitFor('the window to fill at the server', () => server.received.length === WINDOW);

    // The refused requests are answered while the admitted ones still wait for their acks.
    const refused = await Promise.all(responses.slice(WINDOW));
    for (const response of refused) {
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({ statusCode: 503, code: 'DMR_LINK_BACKPRESSURE' });
    }
    for (const release of heldAcks.splice(0)) release();
    const admitted = await Promise.all(responses.slice(0, WINDOW));

    expect(admitted.map((response) => response.statusCode)).toEqual([202, 202, 202]);
    expect(server.received.map((message) => message.id).sort()).toEqual(ids.slice(0, WINDOW).sort());
    const backpressure = outcomeLines(sender).filter((line) => line.code === 'DMR_LINK_BACKPRESSURE');
    expect(backpressure).toHaveLength(refused.length);
    expect(backpressure[0]).toMatchObject({ direction: 'outbound', result: 'failed' });
  });

  it('refuses before reading the body while the window is full: even a malformed body gets the 503', async () => {
    const first = Array.from({ length: WINDOW }, () => post(randomUUID()));
    await waitFor('the window to fill', () => server.received.length === WINDOW);
    const malformed = await sender.agent.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(malformed.statusCode).toBe(503);
    expect(malformed.json()).toMatchObject({ code: 'DMR_LINK_BACKPRESSURE' });
    expect(outcomeLines(sender).filter((line) => line.code === 'DMR_LINK_BACKPRESSURE')).toHaveLength(1);
    for (const release of heldAcks.splice(0)) release();
    await Promise.all(first);
  });

  it('accepts again once the window drained', async () => {
    const first = Array.from({ length: WINDOW }, () => post(randomUUID()));
    await waitFor('the window to fill', () => server.received.length === WINDOW);
    expect((await post(randomUUID())).statusCode).toBe(503);
    for (const release of heldAcks.splice(0)) release();
    await Promise.all(first);

    server.ackPolicy = () => ({ status: 'ok' });
    expect((await post(randomUUID())).statusCode).toBe(202);
  });

  it('refuses with 503 while its event loop runs late sample after sample (CPU-bound), and accepts again after', async () => {
    server.ackPolicy = () => ({ status: 'ok' });
    const busy = makeAgent({
      id: randomUUID(),
      keys: generateKeys('ec'),
      serverUrl: server.url,
      endpointUrl: receiver.url,
      env: { DMR_MAX_EVENT_LOOP_DELAY_MS: '30' },
    });
    await server.putAgent(busy.id, busy.keys.publicPem);
    await busy.agent.start();
    try {
      await waitUntilReady(busy.agent);
      const send = () => busy.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(recipientId, randomUUID()) });
      expect((await send()).statusCode).toBe(202);
      // a CPU-bound agent: the loop is blocked 80 ms at a time, with only a moment for I/O in between
      const until = performance.now() + 400;
      while (performance.now() < until) {
        spin(80);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const refused = await send();
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json()).toMatchObject({
        code: 'DMR_LINK_BACKPRESSURE',
        message: expect.stringMatching(/event loop runs \d+ ms late/),
      });
      await waitFor('the agent to accept again once its loop is on time', async () => (await send()).statusCode === 202);
    } finally {
      await busy.agent.stop();
    }
  });
});

describe('outbound backpressure through the real dmr-server and RabbitMQ', () => {
  let rabbit: RabbitVhostHandle;

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });

  afterAll(async () => {
    await rabbit.cleanup();
  });

  it("loses nothing it accepted under sustained overload: every 202 is in the recipient's queue exactly once, no 503 is", async () => {
    const sender = await makeIdentity('ec');
    // the recipient stays offline, so everything the server accepted for it is still in its queue to be counted
    const recipient = await makeIdentity('ec');
    const registry = new RegistryFile([sender, recipient]);
    const receiver = await Receiver.start();
    const server = await startServer(serverEnv(rabbit, registry.url));
    const agent = await startAgent(sender, server.url, receiver.url, { DMR_MAX_IN_FLIGHT_SENDS: String(WINDOW) }).catch(
      async (error: unknown) => {
        await server.server.stop();
        throw error;
      },
    );
    try {
      // sustained: 10 callers post one after another, each as soon as its last answer came (a moment later after a
      // 503), against a window of WINDOW sends waiting for the broker's confirm, until 5 windows' worth went through
      const target = 5 * WINDOW;
      const responses: Array<{ id: string; status: number }> = [];
      const acceptedSoFar = () => responses.filter((response) => response.status === 202).length;
      const caller = async (): Promise<void> => {
        while (acceptedSoFar() < target && responses.length < 5000) {
          const id = randomUUID();
          const response = await agent.agent.app.inject({ method: 'POST', url: '/v1/messages', payload: v1Message(recipient.id, id) });
          responses.push({ id, status: response.statusCode });
          if (response.statusCode === 503) await new Promise((resolve) => setTimeout(resolve, 1));
        }
      };
      await Promise.all(Array.from({ length: 10 }, caller));

      const accepted = responses.filter((response) => response.status === 202).map((response) => response.id);
      const refused = responses.filter((response) => response.status === 503).map((response) => response.id);
      expect(accepted.length + refused.length).toBe(responses.length);
      expect(accepted.length, 'several windows went through').toBeGreaterThanOrEqual(target);
      expect(refused.length).toBeGreaterThan(0);
      const queued = (await peekQueue(rabbit, agentQueueName(recipient.id), accepted.length)).map(
        (message) => (JSON.parse(message.body) as { id: string }).id,
      );
      expect([...queued].sort()).toEqual([...accepted].sort());
      expect(await queueDepth(rabbit, agentQueueName(recipient.id)), 'nothing more than the accepted messages').toBe(accepted.length);
      expect(await queueDepth(rabbit, agentDeadLetterQueueName(recipient.id))).toBe(0);
    } finally {
      await agent.agent.stop();
      await server.server.stop();
      await receiver.close();
      registry.remove();
    }
  });
});
