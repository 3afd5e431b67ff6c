// Issue #2 acceptance: health, readiness, metrics with seed 003's names, RabbitMQ policies in force.
import { agentQueueName } from '@dmr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  probe,
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
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

describe('observability', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let receiver: Receiver;
  let server: RunningServer;
  let agentA: RunningAgent;
  let agentB: RunningAgent;
  let b: Identity;

  beforeAll(async () => {
    b = await makeIdentity('ec');
    rabbit = await useRabbitVhost();
    const a = await makeIdentity('ec');
    registry = new RegistryFile([a, b]);
    receiver = await new Receiver().start();
    server = await startServer(
      serverEnv(rabbit, registry.url, {
        RABBITMQ_DEFAULT_TTL: '60000',
        RABBITMQ_DELIVERY_LIMIT: '7',
        RABBITMQ_RETURN_LIMIT: '9',
        RABBITMQ_MAX_QUEUE_LENGTH: '1234',
      }),
    );
    agentA = await startAgent(a, server.url, receiver.url);
    agentB = await startAgent(b, server.url, receiver.url);
    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'one delivery');
  });

  afterAll(async () => {
    await agentA?.agent.stop();
    await agentB?.agent.stop();
    await server?.server.stop();
    await receiver?.close();
    registry?.remove();
    await rabbit?.cleanup();
  });

  it('serves health and readiness that reflect real state', async () => {
    // over mTLS, probes need no client certificate: only the agent handshake does
    expect(server.url).toMatch(/^https:/);
    expect(JSON.parse((await probe(`${server.url}/v1/health`)).text)).toEqual({ status: 'ok' });
    const ready = await probe(`${server.url}/v1/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'ready', checks: { broker: 'connected', registry: 'loaded' } });
    expect((await fetch(`${agentA.url}/v1/ready`)).status).toBe(200);
  });

  it("exposes seed 003's server metrics with live values", async () => {
    const { text } = await probe(`${server.url}/metrics`);
    for (const name of [
      'dmr_socket_connections_active',
      'dmr_socket_connections_total',
      'dmr_socket_disconnections_total',
      'dmr_socket_connection_duration_seconds',
      'dmr_socket_errors_total',
      'dmr_socket_events_received_total',
      'dmr_socket_events_sent_total',
      'dmr_message_processing_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/^dmr_socket_connections_active 2$/m);
    expect(text).toMatch(/^dmr_broker_connected 1$/m);
    expect(text).toMatch(/^dmr_messages_total\{stage="inbound",result="queued",code="none"\} 1$/m);
    expect(text).toMatch(/^dmr_messages_total\{stage="delivery",result="delivered",code="none"\} 1$/m);
  });

  it("exposes seed 003's agent metrics", async () => {
    const text = await (await fetch(`${agentA.url}/metrics`)).text();
    for (const name of [
      'dmr_http_requests_total',
      'dmr_http_request_duration_seconds',
      'dmr_http_errors_total',
      'dmr_agent_socket_connection_active',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/^dmr_agent_socket_connection_active 1$/m);
    expect(text).toMatch(/dmr_http_requests_total\{[^}]*route="\/v1\/messages"[^}]*status="202"[^}]*\} 1/);
  });

  it('puts TTL, dead-lettering and the delivery limit on the queues through policies', async () => {
    const authorization = `Basic ${Buffer.from(`${rabbit.user}:${rabbit.password}`).toString('base64')}`;
    const url = `${rabbit.managementApiBase}/queues/${encodeURIComponent(rabbit.vhost)}/${encodeURIComponent(agentQueueName(b.id))}`;
    await waitUntil(
      async () => {
        const queue = (await (await fetch(url, { headers: { authorization } })).json()) as { policy?: string };
        return queue.policy === 'dmr-agent-queues';
      },
      15_000,
      'policy applied to the agent queue',
    );
    const queue = (await (await fetch(url, { headers: { authorization } })).json()) as {
      arguments: Record<string, unknown>;
      effective_policy_definition: Record<string, unknown>;
    };
    expect(queue.arguments).toEqual({ 'x-queue-type': 'quorum', 'x-single-active-consumer': true });
    // RabbitMQ's delivery-limit bounds returns to the queue (RABBITMQ_RETURN_LIMIT); failed attempts are counted by the
    // server against RABBITMQ_DELIVERY_LIMIT (docs/reliability.md, "Restarts are not delivery attempts")
    expect(queue.effective_policy_definition).toMatchObject({
      'message-ttl': 60000,
      'delivery-limit': 9,
      'max-length': 1234,
      overflow: 'reject-publish',
      'dead-letter-exchange': 'dmr.dlx',
    });
  });
});
