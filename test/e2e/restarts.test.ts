// Issue 15, finding 11: routine restarts are not delivery attempts. A message the recipient's endpoint is still
// working on is held across N restarts of the server holding the agent and of the agent itself, with a delivery
// limit below N; it must end delivered once, never in the DLQ.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentDeadLetterQueueName, agentQueueName, EVENTS } from '@dmr/shared';
import { findFreePort } from '@dmr/testkit';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { useRabbitVhost } from '../support/rabbit.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An endpoint that keeps every request open until `release()`, then answers 200 to those still open. */
class HoldingEndpoint {
  readonly #held: Array<{ id: string; response: ServerResponse }> = [];
  /** Ids the endpoint answered 2xx to on a live connection: acted on. */
  readonly acted: string[] = [];
  posts = 0;
  #server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        this.posts++;
        this.#held.push({ id: (JSON.parse(body) as { id: string }).id, response });
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/inbox`;
    return this;
  }

  release(): void {
    for (const { id, response } of this.#held.splice(0)) {
      if (response.destroyed || response.socket?.destroyed) continue;
      this.acted.push(id);
      response.writeHead(200).end();
    }
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

async function emitsOf(server: RunningServer): Promise<number> {
  const metric = await server.server.metrics.socketEventsSentTotal.get();
  return metric.values.filter((value) => value.labels.event === EVENTS.messageFromServer).reduce((sum, value) => sum + value.value, 0);
}

describe('restarts are not delivery attempts', () => {
  it('a message held across 4 restarts (2 of the server, 2 of the agent) with delivery limit 2 ends delivered once', async () => {
    const rabbit = await useRabbitVhost();
    cleanups.push(() => rabbit.cleanup());
    const a = await makeIdentity('ec');
    const b = await makeIdentity('ec');
    const registry = new RegistryFile([a, b]);
    const receiver = await new Receiver().start();
    const endpoint = await new HoldingEndpoint().start();
    cleanups.push(async () => {
      await receiver.close();
      await endpoint.close();
      registry.remove();
    });
    const env = serverEnv(rabbit, registry.url, {
      PORT: String(await findFreePort()),
      RABBITMQ_DELIVERY_LIMIT: '2',
      DMR_SHUTDOWN_TIMEOUT_MS: '300',
    });
    const agentEnv = { OUTGOING_MESSAGE_TIMEOUT_MS: '60000', DMR_SHUTDOWN_TIMEOUT_MS: '300' };
    let server = await startServer(env);
    cleanups.push(() => server.server.stop());
    const agentA = await startAgent(a, server.url, receiver.url);
    let agentB: RunningAgent = await startAgent(b, server.url, endpoint.url, agentEnv);
    cleanups.push(
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );

    const connection = await amqp.connect(rabbit.amqpUrl);
    cleanups.push(() => connection.close());
    const channel = await connection.createChannel();
    const deadLettered = async () => (await channel.checkQueue(agentDeadLetterQueueName(b.id))).messageCount;

    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => endpoint.posts === 1, 10_000, 'the endpoint holds the first POST');

    for (const [index, restart] of (['server', 'agent', 'server', 'agent'] as const).entries()) {
      const postsBefore = endpoint.posts;
      if (restart === 'server') {
        await server.server.stop();
        server = await startServer(env);
        await waitUntil(
          async () => (await emitsOf(server)) >= 1 || (await deadLettered()) > 0,
          15_000,
          `restart ${index + 1}: the restarted server delivers the held message again`,
        );
      } else {
        await agentB.agent.stop();
        agentB = await startAgent(b, server.url, endpoint.url, agentEnv);
        // the restarted agent remembers nothing and posts again (same Idempotency-Key); the aborted POST was not acted on
        await waitUntil(
          async () => endpoint.posts > postsBefore || (await deadLettered()) > 0,
          15_000,
          `restart ${index + 1}: the restarted agent posts the held message again`,
        );
      }
      expect(await deadLettered(), `dead-lettered after restart ${index + 1} (${restart})`).toBe(0);
    }

    endpoint.release();
    expect(endpoint.acted).toEqual([body.id]);
    // checkQueue counts ready messages only (the held one is unacknowledged, not ready): wait for the server's outcome
    await waitUntil(
      () => server.logs.find({ stage: 'delivery', result: 'delivered', msgId: body.id }).length > 0,
      10_000,
      "the agent's ack settled the message",
    );
    expect(server.logs.find({ stage: 'delivery', result: 'delivered', msgId: body.id })).toHaveLength(1);
    expect((await channel.checkQueue(agentQueueName(b.id))).messageCount).toBe(0);
    expect(await deadLettered()).toBe(0);
  });
});
