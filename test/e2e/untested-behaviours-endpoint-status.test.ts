// Issue 21, "behaviours with no test": how the recipient agent treats its endpoint's HTTP status, over a real relay
// (agent A → dmr-server → RabbitMQ → dmr-server → agent B → a real HTTP endpoint scripted per message).
// 408, 429 and 5xx are retried by the agent within one delivery (DMR_DELIVERY_ENDPOINT_FAILED, redelivered by the
// server up to RABBITMQ_DELIVERY_LIMIT); another 4xx is final: one POST, DMR_DELIVERY_ENDPOINT_REFUSED, dead-lettered at once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentDeadLetterQueueName, agentQueueName, REASON_CODE_HEADER, REASON_HEADER } from '@dmr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

const DELIVERY_LIMIT = 2;
const ENDPOINT_ATTEMPTS = 3;

/** An endpoint answering each message by its own script of statuses (200 once the script is spent). */
class ScriptedEndpoint {
  readonly #scripts = new Map<string, number[]>();
  /** Every POST per message id: the status answered and the Idempotency-Key sent. */
  readonly posts = new Map<string, Array<{ status: number; key: string | undefined }>>();
  #server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const id = (JSON.parse(body) as { id: string }).id;
        const script = this.#scripts.get(id) ?? [];
        const status = script.shift() ?? 200;
        const key = request.headers['idempotency-key'];
        this.posts.set(id, [...(this.posts.get(id) ?? []), { status, key: typeof key === 'string' ? key : undefined }]);
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/inbox`;
    return this;
  }

  script(id: string, statuses: number[]): void {
    this.#scripts.set(id, [...statuses]);
  }

  statusesOf(id: string): number[] {
    return (this.posts.get(id) ?? []).map((post) => post.status);
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

describe('endpoint status rules over a real relay', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let endpoint: ScriptedEndpoint;
  let server: RunningServer;
  let agentA: RunningAgent;
  let agentB: RunningAgent;
  let a: Identity;
  let b: Identity;

  beforeAll(async () => {
    a = await makeIdentity('ec');
    b = await makeIdentity('ec');
    rabbit = await useRabbitVhost();
    registry = new RegistryFile([a, b]);
    endpoint = await new ScriptedEndpoint().start();
    server = await startServer(
      serverEnv(rabbit, registry.url, {
        RABBITMQ_DELIVERY_LIMIT: String(DELIVERY_LIMIT),
        DMR_REDELIVERY_DELAY_MS: '50',
        DMR_REDELIVERY_DELAY_MAX_MS: '100',
      }),
    );
    agentA = await startAgent(a, server.url, endpoint.url);
    agentB = await startAgent(b, server.url, endpoint.url, { OUTGOING_MESSAGE_RETRIES: String(ENDPOINT_ATTEMPTS) });
  });

  afterAll(async () => {
    await agentA?.agent.stop();
    await agentB?.agent.stop();
    await server?.server.stop();
    await endpoint?.close();
    registry?.remove();
    await rabbit?.cleanup();
  });

  /** Server outcome lines of message `id` (stage delivery), as result/code pairs. */
  function serverOutcomes(id: string): Array<[unknown, unknown]> {
    return server.logs.find({ stage: 'delivery', msgId: id }).map((line) => [line.result, line.code]);
  }

  /** Sends a message A→B whose endpoint answers follow `statuses`. */
  async function send(statuses: number[]): Promise<string> {
    const body = v1Body(b.id);
    endpoint.script(body.id, statuses);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    return body.id;
  }

  it.each([408, 429, 500, 503])('retries HTTP %i within one delivery and delivers once the endpoint recovers', async (status) => {
    const id = await send([status, status]);
    await waitUntil(() => serverOutcomes(id).length > 0, 10_000, 'the server settles the message');
    expect(endpoint.statusesOf(id)).toEqual([status, status, 200]);
    // one delivery from the server's side: the agent's own retries absorbed the failures
    expect(serverOutcomes(id)).toEqual([['delivered', undefined]]);
    const keys = new Set((endpoint.posts.get(id) ?? []).map((post) => post.key));
    expect(keys).toEqual(new Set([`${a.id}:${id}`]));
  });

  it('delivers a message whose endpoint stays on 5xx past the agent’s attempts on the server’s redelivery, once', async () => {
    const id = await send(Array(ENDPOINT_ATTEMPTS).fill(502));
    await waitUntil(() => serverOutcomes(id).some(([result]) => result === 'delivered'), 10_000, 'delivered on redelivery');
    expect(endpoint.statusesOf(id)).toEqual([...Array(ENDPOINT_ATTEMPTS).fill(502), 200]);
    expect(serverOutcomes(id)).toEqual([
      ['retrying', 'DMR_DELIVERY_ENDPOINT_FAILED'],
      ['delivered', undefined],
    ]);
  });

  it.each([400, 404, 422])(
    'treats HTTP %i as final: one POST, no retry by agent or server, dead-lettered at once with the reason',
    async (status) => {
      const id = await send(Array(10).fill(status));
      await waitUntil(() => serverOutcomes(id).some(([result]) => result === 'dead-lettered'), 10_000, 'dead-lettered');
      expect(endpoint.statusesOf(id)).toEqual([status]);
      expect(serverOutcomes(id)).toEqual([['dead-lettered', 'DMR_DELIVERY_ENDPOINT_REFUSED']]);
      const dlq = agentDeadLetterQueueName(b.id);
      const dead = (await peekQueue(rabbit, dlq, await queueDepth(rabbit, dlq))).filter(
        (stored) => (JSON.parse(stored.body) as { id: string }).id === id,
      );
      expect(dead).toHaveLength(1);
      expect(dead[0]?.headers[REASON_CODE_HEADER]).toBe('DMR_DELIVERY_ENDPOINT_REFUSED');
      expect(String(dead[0]?.headers[REASON_HEADER])).toContain(`endpoint answered HTTP ${status}; not retried`);
      expect(await queueDepth(rabbit, agentQueueName(b.id))).toBe(0);
    },
  );
});
