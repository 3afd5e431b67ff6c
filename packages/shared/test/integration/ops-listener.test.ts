// The ops listener over a real socket. The deployable's HTTP app is stood in for by `forward` (a plain function
// answering like fastify's inject): shared has no HTTP framework; test/e2e/ops-port.test.ts drives the real apps.
import { createServer } from 'node:net';
import { createLogger, OpsListener, type OpsRoute } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';

const log = createLogger({ name: 'ops-test', level: 'silent' });

function answers(): {
  forwarded: OpsRoute[];
  forward: (request: {
    method: 'GET';
    url: OpsRoute;
  }) => Promise<never | { statusCode: number; headers: Record<string, string>; rawPayload: Buffer }>;
} {
  const forwarded: OpsRoute[] = [];
  return {
    forwarded,
    forward: async ({ url }) => {
      forwarded.push(url);
      if (url === '/v1/ready')
        return { statusCode: 503, headers: { 'content-type': 'application/json' }, rawPayload: Buffer.from('{"status":"not-ready"}') };
      if (url === '/metrics')
        return { statusCode: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, rawPayload: Buffer.from('dmr_up 1\n') };
      throw new Error('health check blew up');
    },
  };
}

describe('OpsListener', () => {
  const listeners: OpsListener[] = [];
  afterEach(async () => {
    for (const listener of listeners.splice(0)) await listener.stop();
  });

  async function started(forward = answers().forward): Promise<{ listener: OpsListener; base: string }> {
    const listener = new OpsListener({ host: '127.0.0.1', port: 0 }, { forward, log });
    listeners.push(listener);
    await listener.start();
    return { listener, base: `http://127.0.0.1:${listener.port}` };
  }

  it("relays the app's status, content type and body for GET, and headers only for HEAD", async () => {
    const app = answers();
    const { base } = await started(app.forward);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(metrics.headers.get('cache-control')).toBe('no-store');
    expect(await metrics.text()).toBe('dmr_up 1\n');
    const ready = await fetch(`${base}/v1/ready`, { method: 'HEAD' });
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-length')).toBe(String('{"status":"not-ready"}'.length));
    expect(await ready.text()).toBe('');
    expect(app.forwarded).toEqual(['/metrics', '/v1/ready']);
  });

  it('answers 404 DMR_OPS_ROUTE_NOT_FOUND to every other method and path without asking the app', async () => {
    const app = answers();
    const { base } = await started(app.forward);
    for (const [method, path] of [
      ['POST', '/v1/messages'],
      ['GET', '/v1/messages'],
      ['POST', '/metrics'],
      ['DELETE', '/v1/ready'],
      ['GET', '/socket.io/?EIO=4&transport=polling'],
    ] as const) {
      const response = await fetch(`${base}${path}`, { method, ...(method === 'POST' ? { body: '{"id":"x"}' } : {}) });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
      expect(await response.json()).toEqual({
        statusCode: 404,
        code: 'DMR_OPS_ROUTE_NOT_FOUND',
        message: 'the ops listener serves only GET and HEAD of /v1/health, /v1/ready, /metrics',
      });
    }
    expect(app.forwarded).toEqual([]);
  });

  it('answers 500 DMR_INTERNAL_ERROR when the app fails, and keeps serving', async () => {
    const { base } = await started();
    const health = await fetch(`${base}/v1/health`);
    expect(health.status).toBe(500);
    expect(await health.json()).toMatchObject({ statusCode: 500, code: 'DMR_INTERNAL_ERROR' });
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('closes the port and kept-alive connections on stop; stop is idempotent and safe before start', async () => {
    const { listener, base } = await started();
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect(listener.state).toBe('running');
    await Promise.all([listener.stop(), listener.stop()]);
    expect(listener.state).toBe('stopped');
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
    const neverStarted = new OpsListener({ host: '127.0.0.1', port: 0 }, { forward: answers().forward, log });
    await neverStarted.stop();
    expect(neverStarted.state).toBe('stopped');
  });

  it('rejects start when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const listener = new OpsListener({ host: '127.0.0.1', port }, { forward: answers().forward, log });
    listeners.push(listener);
    await expect(listener.start()).rejects.toThrow(/EADDRINUSE/);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });
});
