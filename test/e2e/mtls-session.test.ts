// Issue 15, finding 7: mutual TLS binds every engine.io request of a session, not only its handshake. A session id
// alone (it travels in URLs) must not let a connection without the agent's certificate poll, post or upgrade, and a
// session that starts on long-polling must survive the periodic certificate re-check after its first connection closed.
import { request as httpsRequest } from 'node:https';
import { AGENT_NAMESPACE, createAgentToken, importPrivateKey } from '@dmr/shared';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  agentLeaf,
  type Identity,
  makeIdentity,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startServer,
  testPki,
  waitUntil,
} from '../support/dmr-system.js';
import type { LeafFiles, TestPki } from '../support/pki.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

type ClientTls = Partial<Pick<LeafFiles, 'cert' | 'key'>>;

describe('mutual TLS on every engine.io request of a session', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let server: RunningServer;
  let pki: TestPki;
  let a: Identity;
  let b: Identity;

  beforeAll(async () => {
    a = await makeIdentity('ec');
    b = await makeIdentity('ec');
    rabbit = await useRabbitVhost();
    pki = await testPki();
    registry = new RegistryFile([a, b]);
    server = await startServer(serverEnv(rabbit, registry.url));
  });

  afterAll(async () => {
    await server?.server.stop();
    registry?.remove();
    await rabbit?.cleanup();
  });

  /** One engine.io HTTP request on a fresh TLS connection; status 0 when no answer came within 3 s. */
  function engineRequest(method: 'GET' | 'POST', query: string, tls: ClientTls, body?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `https://127.0.0.1:${server.port}/socket.io/?EIO=4&${query}`,
        { method, agent: false, ca: pki.caCert, ...tls, headers: body ? { 'content-type': 'text/plain' } : {} },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      req.setTimeout(3000, () => {
        req.destroy();
        resolve({ status: 0, text: 'no answer' });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Tries to upgrade session `sid` to WebSocket from a fresh TLS connection. */
  function upgrade(sid: string, tls: ClientTls): Promise<'opened' | 'refused'> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`wss://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`, {
        ca: pki.caCert,
        ...tls,
      });
      ws.once('open', () => {
        ws.close();
        resolve('opened');
      });
      ws.once('unexpected-response', () => resolve('refused'));
      ws.once('error', () => resolve('refused'));
    });
  }

  it('refuses polling requests and upgrades of a session from a connection without a certificate or with another agent’s', async () => {
    // one CA operation at a time (the CA directory is locked while it works)
    const leafA = await agentLeaf(a.id);
    const leafB = await agentLeaf(b.id);
    const handshake = await engineRequest('GET', 'transport=polling', leafA);
    expect(handshake.status).toBe(200);
    const { sid } = JSON.parse(handshake.text.slice(1)) as { sid: string };
    const connect = `40${AGENT_NAMESPACE},${JSON.stringify({ token: await createAgentToken(a.id, importPrivateKey(a.privatePem)) })}`;
    const session = `transport=polling&sid=${sid}`;

    expect((await engineRequest('POST', session, {}, connect)).status).toBe(400);
    expect((await engineRequest('POST', session, leafB, connect)).status).toBe(400);
    expect((await engineRequest('GET', session, {})).status).toBe(400);
    expect((await engineRequest('GET', session, leafB)).status).toBe(400);
    expect(await upgrade(sid, {})).toBe('refused');
    expect(await upgrade(sid, leafB)).toBe('refused');
    expect(server.logs.find({ code: 'DMR_AUTH_CERTIFICATE_MISSING', msg: 'engine.io request refused' }).length).toBe(3);
    expect(server.logs.find({ code: 'DMR_AUTH_CERTIFICATE_MISMATCH', msg: 'engine.io request refused' }).length).toBe(3);

    // the session is A's: A's own certificate still gets through, on a new TLS connection
    const own = await engineRequest('POST', session, leafA, connect);
    expect(own).toEqual({ status: 200, text: 'ok' });
    await waitUntil(() => server.server.gateway.connectedAgentIds().includes(a.id), 5000, 'A connected over polling');
  });

  it('keeps a session that started on long-polling and upgraded to WebSocket through the certificate re-check', async () => {
    const leaf = await agentLeaf(b.id);
    const token = await createAgentToken(b.id, importPrivateKey(b.privatePem));
    const socket = io(`https://127.0.0.1:${server.port}${AGENT_NAMESPACE}`, {
      auth: { token },
      transports: ['polling', 'websocket'],
      reconnection: false,
      forceNew: true,
      ca: pki.caCert,
      cert: leaf.cert,
      key: leaf.key,
    });
    try {
      const upgraded = new Promise<void>((resolve) => socket.io.engine.once('upgrade', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      await upgraded;
      // a new CRL makes the server re-judge every live session at once (and it does so every reload interval anyway)
      const reloads = server.logs.find({ msg: 'CRL put in force' }).length;
      await pki.publishCrl();
      await waitUntil(() => server.logs.find({ msg: 'CRL put in force' }).length > reloads, 10_000, 'new CRL put in force');
      const dropped = server.logs.find({ msg: 'dropping live agent connection', agentId: b.id });
      expect(dropped).toEqual([]);
      expect(server.server.gateway.connectedAgentIds()).toContain(b.id);
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
  });
});
