// Issue 17, ops port: a Kubernetes probe or a Prometheus without a client certificate reaches health, readiness and
// metrics of dmr-server and dmr-agent on DMR_OPS_HOST:DMR_OPS_PORT (plain HTTP), and nothing else there; the
// server's mutual-TLS port keeps refusing an agent without a client certificate. Real RabbitMQ, real sockets.
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
  testPki,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

/** The DMR code of a refused handshake (`connect_error` carries the middleware error's `data`). */
async function refusalCode(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
    return 'connected';
  } catch (error) {
    return String((error as { data?: { code?: string } }).data?.code ?? (error as Error).message);
  }
}

const OPS = { DMR_OPS_PORT: '0' };

describe('ops port (DMR_OPS_HOST / DMR_OPS_PORT)', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let receiver: Receiver;
  let server: RunningServer;
  let agentA: RunningAgent;
  let agentB: RunningAgent;
  let a: Identity;
  let b: Identity;
  let c: Identity;

  const opsUrl = (port: number | undefined): string => {
    if (port === undefined) throw new Error('no ops listener');
    return `http://127.0.0.1:${port}`;
  };

  beforeAll(async () => {
    [a, b, c] = await Promise.all([makeIdentity('ec'), makeIdentity('ec'), makeIdentity('ec')]);
    rabbit = await useRabbitVhost();
    registry = new RegistryFile([a, b, c]);
    receiver = await new Receiver().start();
    server = await startServer(serverEnv(rabbit, registry.url, OPS));
    agentA = await startAgent(a, server.url, receiver.url, OPS);
    agentB = await startAgent(b, server.url, receiver.url, OPS);
  });

  afterAll(async () => {
    await agentA?.agent.stop();
    await agentB?.agent.stop();
    await server?.server.stop();
    await receiver?.close();
    registry?.remove();
    await rabbit?.cleanup();
  });

  it('serves the server health, readiness and metrics over plain HTTP without a client certificate', async () => {
    expect(server.url).toMatch(/^https:/);
    const ops = opsUrl(server.server.opsPort);
    expect(server.server.opsPort).not.toBe(server.port);
    const health = await fetch(`${ops}/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${ops}/v1/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { broker: 'connected', registry: 'loaded', lifecycle: 'running' },
    });
    const metrics = await fetch(`${ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toContain('# TYPE dmr_socket_connections_active gauge');
    expect(text).toMatch(/^dmr_socket_connections_active 2$/m);
    expect(text).toMatch(/^dmr_broker_connected 1$/m);
  });

  it('serves each agent health, readiness and metrics on its own ops port', async () => {
    for (const running of [agentA, agentB]) {
      const ops = opsUrl(running.agent.opsPort);
      expect((await fetch(`${ops}/v1/health`)).status).toBe(200);
      const ready = await fetch(`${ops}/v1/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', checks: { server: 'connected', agentList: 'received' } });
      const text = await (await fetch(`${ops}/metrics`)).text();
      expect(text).toContain('# TYPE dmr_http_requests_total counter');
      expect(text).toMatch(/^dmr_agent_socket_connection_active 1$/m);
      expect((await fetch(`${ops}/v1/ready`, { method: 'HEAD' })).status).toBe(200);
    }
  });

  it('never serves a message route: POST /v1/messages on an ops port is 404 and nothing is sent', async () => {
    const refused = v1Body(b.id);
    for (const ops of [opsUrl(agentA.agent.opsPort), opsUrl(server.server.opsPort)]) {
      const response = await postMessage(ops, refused);
      expect(response).toEqual({
        status: 404,
        body: expect.objectContaining({ statusCode: 404, code: 'DMR_OPS_ROUTE_NOT_FOUND' }),
      });
    }
    // Socket.IO lives on the mutual-TLS port only
    const engine = await fetch(`${opsUrl(server.server.opsPort)}/socket.io/?EIO=4&transport=polling`);
    expect(engine.status).toBe(404);
    // the same body through the API port is relayed: the refusal above was the ops port's, not the message's
    const sent = v1Body(b.id);
    expect((await postMessage(agentA.url, sent)).status).toBe(202);
    await waitUntil(() => receiver.countOf(sent.id) === 1, 10_000, 'delivery through the API port');
    expect(receiver.countOf(refused.id)).toBe(0);
  });

  it('keeps the mutual-TLS port as it was: an agent without a client certificate is refused there', async () => {
    const code = await refusalCode(connectRawAgent(server.url, c, { ca: (await testPki()).caCert }));
    expect(code).toBe('DMR_AUTH_CERTIFICATE_MISSING');
    // with its certificate the same agent connects, so the refusal above was the missing certificate
    const raw = await connectRawAgent(server.url, c);
    expect(raw.socket.connected).toBe(true);
    raw.close();
    // and the three operator routes stay on it too (server certificate only), as documented
    expect((await probe(`${server.url}/v1/ready`)).status).toBe(200);
  });

  it('closes the ops listener on graceful shutdown', async () => {
    const agentOps = opsUrl(agentB.agent.opsPort);
    await agentB.agent.stop();
    await expect(fetch(`${agentOps}/v1/health`)).rejects.toThrow();
    const serverOps = opsUrl(server.server.opsPort);
    await server.server.stop();
    await expect(fetch(`${serverOps}/v1/health`)).rejects.toThrow();
  });
});
